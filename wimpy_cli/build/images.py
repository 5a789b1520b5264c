"""The Docker SDK calls: connect to the engine, build, tag, push, and ask a registry about
a tag through the engine. Each failure becomes a WimpyError that says what to do, with
registry credentials masked."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from wimpy_cli.build.progress import BuildLog, PushProgress
from wimpy_cli.errors import WimpyError

if TYPE_CHECKING:
    from wimpy_cli.build.registries import Registry

START_ENGINE_HINT = ("Start the Docker engine: `sudo systemctl start docker` (or run `dockerd` "
                     "as root), then re-run. If it runs elsewhere, point DOCKER_HOST at it.")
# How long connecting to the engine may take; after that requests have no timeout, since a
# build step may be silent for many minutes and still be working.
CONNECT_TIMEOUT_SECONDS = 10

# How the engine words registry failures (it passes the registry's own words on). Status
# codes are matched as whole words so that digits inside a digest never count.
_AUTH = re.compile(r"unauthorized|authentication required|no basic auth credentials|denied|"
                   r"forbidden|\b40[13]\b", re.IGNORECASE)
_UNREACHABLE = re.compile(r"connection refused|no such host|dial tcp|i/o timeout|timed out|"
                          r"connection reset|network is unreachable|\beof\b", re.IGNORECASE)
_MISSING = re.compile(r"manifest unknown|name unknown|not found", re.IGNORECASE)


def connect() -> Any:
    """A DockerClient for the engine DOCKER_HOST names (or the default socket), checked with
    a ping; WimpyError saying how to start one otherwise."""
    import docker  # here, not at the top: `wimpy --help` must not pay for it
    import requests

    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock (the default socket)"
    try:
        client = docker.from_env(timeout=CONNECT_TIMEOUT_SECONDS)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise WimpyError(f"no Docker engine answered at {where}: {_short(error)}",
                         hint=START_ENGINE_HINT) from None
    client.api.timeout = None
    return client


def build(client: Any, *, context: Path, dockerfile: str, target: str,
          args: Mapping[str, str], log: BuildLog) -> str:
    """Build `context` with its `dockerfile` and return the image id. The image is left
    untagged: it gets its registry tag only once it is known it may be pushed."""
    import docker
    import requests

    try:
        for event in client.api.build(path=str(context), dockerfile=dockerfile,
                                      target=target or None, buildargs=dict(args) or None,
                                      rm=True, forcerm=True, decode=True):
            log.feed(event)
        log.close()
    except docker.errors.APIError as error:
        raise WimpyError(f"the Docker engine refused to build {context / dockerfile}: "
                         f"{error.explanation or error}") from None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise WimpyError(f"the Docker engine stopped answering during the build: "
                         f"{_short(error)}; nothing was pushed.", hint=START_ENGINE_HINT) from None
    if log.error:
        tail = "\n".join(f"  | {line}" for line in log.tail)
        raise WimpyError(f"the build of {context / dockerfile} failed: {log.error}\n"
                         f"Its last {len(log.tail)} lines of output:\n{tail}",
                         hint="Fix that step and re-run; nothing was pushed.")
    if not log.image_id:
        raise WimpyError("the build finished without giving an image id; nothing was pushed.",
                         hint="Re-run with --debug; if it repeats, check the engine's log.")
    return log.image_id


def tag(client: Any, image_id: str, repository: str, tag_: str) -> None:
    client.api.tag(image_id, repository, tag_, force=True)


def push(client: Any, registry: Registry, tag_: str) -> str:
    """Push `registry.repository:tag_` and return its digest. Pushes are layer-idempotent:
    re-running after an interruption uploads only what is missing, and the registry tags
    the image only after every layer is in."""
    import docker
    import requests

    reference = f"{registry.repository}:{tag_}"
    progress = PushProgress(reference)
    try:
        with progress:
            for event in client.api.push(registry.repository, tag=tag_, stream=True, decode=True,
                                         auth_config=_auth(registry)):
                progress.feed(event)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise registry_error(f"pushing {reference}", _short(error), registry,
                             interrupted=True) from None
    if progress.error:
        raise registry_error(f"pushing {reference}", progress.error, registry, interrupted=True)
    if not progress.digest:
        raise WimpyError(f"the push of {reference} ended without a digest.",
                         hint="Re-run the same command: layers already pushed are not sent again.")
    return progress.digest


def registry_digest(client: Any, reference: str, registry: Registry) -> str | None:
    """The digest of `reference` in its registry (asked through the engine), or None."""
    import docker

    try:
        return client.images.get_registry_data(reference, auth_config=_auth(registry)).id
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as error:
        message = str(error.explanation or error)
        if _kind(message) == "missing":
            return None
        raise registry_error(f"looking up {reference}", message, registry) from None


def pulled_image_id(client: Any, registry: Registry, digest: str) -> str:
    """Pull `repository@digest` and return its image id (its config digest), to compare
    the registry's content with a local build. Layers already present are not downloaded."""
    import docker
    import requests

    reference = f"{registry.repository}@{digest}"
    try:
        return client.images.pull(registry.repository, tag=digest, auth_config=_auth(registry)).id
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        message = str(getattr(error, "explanation", None) or error)
        raise registry_error(f"pulling {reference} to compare it", message, registry) from None


def known_digests(client: Any, image_id: str, repository: str) -> set[str]:
    """Digests the engine already knows `image_id` by in `repository` (from earlier pushes
    or pulls): a match proves equal content without asking the registry."""
    digests = client.images.get(image_id).attrs.get("RepoDigests") or []
    return {d.split("@", 1)[1] for d in digests if d.split("@", 1)[0] == repository}


def remove_if_untagged(client: Any, image_id: str) -> None:
    """Drop an image pulled only for comparison, unless something local still names it."""
    import docker

    try:
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)
    except docker.errors.APIError:
        pass  # in use by a container, or already gone: leaving it is harmless


def registry_error(doing: str, message: str, registry: Registry, *,
                   interrupted: bool = False) -> WimpyError:
    """A registry failure as a sentence: refused credentials, unreachable, or other."""
    credentials = registry.credentials
    if credentials is not None:
        message = credentials.scrub(message)
    kind = _kind(message)
    where = registry.describe()
    if kind == "auth":
        if credentials is None:
            return WimpyError(f"{where} asks for credentials when {doing} and none are "
                              f"configured ({message}).",
                              hint="Set registry.username_env and registry.password_env in "
                                   "wimpy.yml to the names of the environment variables "
                                   "holding them.")
        return WimpyError(f"{where} refused the credentials from {credentials.source} when "
                          f"{doing} ({message}).",
                          hint="Check the user name and the password or token in those "
                               "variables, and that they may push to "
                               f"{registry.repository}. Nothing was pushed.")
    if kind == "unreachable" and interrupted:
        return WimpyError(f"{where} could not be reached when {doing}: the push was "
                          f"interrupted ({message}).",
                          hint="Check that the registry is up, then re-run the same command: "
                               "pushes go layer by layer and the tag is written only once "
                               "every layer is in, so a re-run completes the push.")
    if kind == "unreachable":
        return WimpyError(f"{where} could not be reached when {doing} ({message}).",
                          hint="Check that the registry is up and that the Docker engine can "
                               "reach it, then re-run. Nothing was pushed.")
    return WimpyError(f"{where} failed when {doing}: {message}",
                      hint="Re-run the same command; layers already pushed are not sent again.")


def _auth(registry: Registry) -> dict[str, str] | None:
    return registry.credentials.auth_config() if registry.credentials else None


def _kind(message: str) -> str:
    for kind, pattern in (("auth", _AUTH), ("unreachable", _UNREACHABLE), ("missing", _MISSING)):
        if pattern.search(message):
            return kind
    return "other"


def _short(error: BaseException) -> str:
    """An exception's message on one line, without the SDK's long URL preambles."""
    text = str(getattr(error, "explanation", None) or error)
    return " ".join(text.split())
