"""The image tag of a release: given with --version, or the project's git commit."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from wimpy_cli.errors import ExitCode, WimpyError

# What Docker accepts as a tag (the distribution reference grammar). Used with fullmatch
# and re.ASCII: `$` would also take a trailing newline ("v1.0\n").
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
MAX_LENGTH = 128


def check(version: str) -> str:
    """`version` if it is a valid Docker tag; WimpyError naming --version and a valid
    replacement otherwise. Checked before anything else runs, so a bad tag costs nothing."""
    if TAG.fullmatch(version):
        return version
    accepted = ("a Docker tag is 1 to 128 letters, digits, '_', '.' and '-', "
                "not starting with '.' or '-'")
    suggestion = suggest(version)
    hint = (f"Try --version {suggestion}" if suggestion else
            "Leave --version out to tag with the current git commit (git rev-parse HEAD).")
    shown = repr(version) if len(version) <= 60 else f"{version[:40]!r}... ({len(version)} characters)"
    raise WimpyError(f"--version: {shown} is not a valid image tag; {accepted}.",
                     code=ExitCode.USAGE, hint=hint)


def suggest(version: str) -> str:
    """The closest valid tag: other characters become '-', leading '.'/'-' are dropped
    and the result is cut to 128 characters; "" if nothing usable is left."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", version).lstrip(".-")[:MAX_LENGTH]
    return cleaned if TAG.fullmatch(cleaned) else ""


def from_git(project_dir: Path) -> str:
    """The commit checked out in `project_dir` (`git rev-parse HEAD`): the default tag, so
    every commit gets its own immutable image."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_dir,
                                capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise WimpyError("--version was not given and git is not installed, so there is no "
                         "commit to tag the image with.",
                         hint="Pass --version (e.g. --version 1.4.0), or install git.") from None
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no output"
        raise WimpyError(f"--version was not given and {project_dir} is not a git repository "
                         f"with a commit (git rev-parse HEAD: {detail}).",
                         hint="Pass --version (e.g. --version 1.4.0), or commit the project "
                              "to git so its commit id can be the tag.")
    return check(result.stdout.strip())


def uncommitted(folder: Path) -> list[str]:
    """The paths under `folder` whose content differs from the commit checked out (changed,
    staged, new and not ignored), as git names them; none when `folder` is not in a git
    working tree or git is missing: there is then no commit to differ from."""
    try:
        result = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
                                cwd=folder, capture_output=True, text=True, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    return [line[3:] for line in result.stdout.splitlines() if len(line) > 3]
