"""Release names: the suffix of a release stack `wimpy-<env>-<app>--<release>`, derived
safely from whatever version string a user deploys (a tag, a SHA, a branch name)."""

from __future__ import annotations

import hashlib
import re

from wimpy_domain.config.yaml_source import show

MAX_VERSION_LENGTH = 128
# Stack names allow 128 characters; the longest prefix is `wimpy-<12>-<21>-` (36), and
# the name must stay readable in a console.
MAX_RELEASE_LENGTH = 48
_HASH_LENGTH = 7


class InvalidVersion(ValueError):
    pass


def release_name(version: str) -> str:
    """A lowercase name of letters, digits and single hyphens, starting with a letter or
    digit. Versions that are already such a name keep it; any other gets a short hash of the
    exact version appended, so `feature/x`, `feature-x` and `Feature-X` never collide."""
    if not version or version != version.strip() or any(ord(c) < 33 or ord(c) == 127 for c in version):
        raise InvalidVersion(f"--version {show(version)} must be non-empty, with no spaces or "
                             "control characters")
    if len(version) > MAX_VERSION_LENGTH:
        raise InvalidVersion(f"--version is {len(version)} characters; at most "
                             f"{MAX_VERSION_LENGTH} are accepted")
    readable = re.sub(r"[^a-z0-9]+", "-", version.lower(), flags=re.ASCII).strip("-")
    if not readable:
        raise InvalidVersion(f"--version {show(version)} has no letter or digit to name a release by")
    if readable == version and len(readable) <= MAX_RELEASE_LENGTH:
        return readable
    digest = hashlib.sha256(version.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{readable[:MAX_RELEASE_LENGTH - _HASH_LENGTH - 1].rstrip('-')}-{digest}"

