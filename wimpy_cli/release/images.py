"""Whether a release's image is in its registry, asked before anything depends on it: a
deploy of an image that was never pushed would only fail later, on instances, and a
rollback to a version whose image was deleted would bring back a release that cannot
start. The app's ECR repository is asked through the target's AWS API; any other registry
through the Docker engine, which speaks every registry's auth the way `docker pull` does."""

from __future__ import annotations

from typing import Any

from wimpy_domain import naming
from wimpy_domain.config import WimpyConfig
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.phases import Phases
from wimpy_cli.targets import Target

from .record import ReleaseRecord, Release


def present(config: WimpyConfig, target: Target, reference: str) -> bool | None:
    """True or False from the registry; None when nobody could be asked (another registry
    and no Docker engine here)."""
    name, tag, digest = _split(reference)
    ecr_prefix = naming.ecr_repository_uri(config.account.id, config.account.region, config.app.name)
    if name == ecr_prefix:
        ecr = target.client("ecr")
        image_id = {"imageDigest": digest} if digest else {"imageTag": tag}
        try:
            ecr.describe_images(repositoryName=naming.repository(config.app.name), imageIds=[image_id])
            return True
        except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
            return False
    return _present_through_engine(config, reference)


def refuse_missing(config: WimpyConfig, target: Target, reference: str, *, why: str) -> None:
    found = present(config, target, reference)
    if found is False:
        raise WimpyError(f"the image {reference} is not in its registry, so {why} was refused "
                         "before anything changed.", code=ExitCode.USAGE,
                         hint="Build and push it (deploy without --skip-build, or `wimpy build`), "
                              "or give --image a reference that exists.")


def rollback_target(record: ReleaseRecord, config: WimpyConfig, target: Target,
                    phases: Phases) -> Release:
    """The release `wimpy rollback` returns to: the newest one that served all traffic
    before the live one and was never rolled back from, whose image is still there."""
    skipped: list[str] = []
    while True:
        candidate = record.rollback_target(exclude=tuple(skipped))
        if candidate is None:
            break
        if present(config, target, candidate.image) is not False:
            return candidate
        phases.note(f"skipping {candidate.version}: its image {candidate.image} is no longer in the registry")
        skipped.append(candidate.version)
    live = record.live()
    rolled = [r.version for r in record.releases if r.state == "rolled-back"]
    detail = f" ({', '.join(skipped)}: image gone)" if skipped else ""
    raise WimpyError(
        f"there is no release of {config.app.name} in {record.env} to roll back to: none served all "
        f"traffic before {live.version if live else 'the live one'} without being rolled back "
        f"from{detail}." + (f" Rolled back from already: {', '.join(rolled)}." if rolled else ""),
        hint="Deploy the version you want with `wimpy deploy --version <version>`.")


def _split(reference: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of host/path:tag or host/path@sha256:..."""
    if "@" in reference:
        name, _, digest = reference.partition("@")
        return name, "", digest
    name, _, tag = reference.rpartition(":")
    if "/" in tag:  # a registry port, no tag
        return reference, "latest", ""
    return name, tag, ""


def _present_through_engine(config: WimpyConfig, reference: str) -> bool | None:
    from wimpy_cli.build import images, registries

    try:
        client = images.connect()
    except WimpyError:
        return None
    registry: Any = registries.resolve(config) if not config.registry.is_ecr else None
    if registry is None or not reference.startswith(registry.repository):
        registry = registries.OtherRegistry(_split(reference)[0], None)
    return images.registry_digest(client, reference, registry) is not None
