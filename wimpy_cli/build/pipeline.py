"""build_and_push: the steps of `wimpy build`, ordered so that a failure is found as early
and as cheaply as it can be and nothing is ever pushed half-way: local checks, the
registry lookup, the build, the content check, then the push."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from wimpy_cli import output
from wimpy_cli.build import images, registries, versions
from wimpy_cli.build.progress import BuildLog
from wimpy_domain.config import WimpyConfig
from wimpy_cli.errors import WimpyError

ALREADY_IN_REGISTRY = "already-in-registry"


@dataclass(frozen=True)
class Outcome:
    """What `wimpy build` did; its `--json` document is exactly these fields."""

    image: str  # repository:version
    digest: str  # the manifest digest in the registry
    pushed: bool
    skipped_reason: str | None = None

    def document(self) -> dict[str, Any]:
        return asdict(self)


class _Engine:
    """The Docker client, connected on first use: a version already in ECR needs no
    engine at all, so `wimpy deploy` of a built version works without one."""

    def __init__(self) -> None:
        self._client: Any = None

    def __call__(self) -> Any:
        if self._client is None:
            self._client = images.connect()
        return self._client


def build_and_push(config: WimpyConfig, *, version: str, force: bool = False,
                   say: Callable[[str], None] = output.info,
                   aws_client: Callable[[str], Any] | None = None) -> Outcome:
    """Build the application's image, tag it `version` and push it, unless the registry
    already has `version` (then nothing is built, unless `force`). `version` must already
    be a valid tag (see wimpy_cli.build.versions). `aws_client`: the target's AWS clients, for
    ECR (default: boto3's, from the environment)."""
    context, dockerfile = dockerfile_path(config)
    registry = registries.resolve(config, aws_client)
    registry.login()
    reference = f"{registry.repository}:{version}"
    engine = _Engine()

    existing = registry.find(version, engine)
    if existing and not force:
        say(f"{reference} is already in the {registry.describe()} ({existing}): nothing to "
            "build or push. Use --force to build it again and re-push the same content.")
        return Outcome(image=reference, digest=existing, pushed=False,
                       skipped_reason=ALREADY_IN_REGISTRY)

    client = engine()
    changed = versions.uncommitted(context)
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        say(f"Warning: the build context has {len(changed)} uncommitted change(s) ({shown}): "
            f"{reference} is built from the working tree, not from what is committed.")
    say(f"Building {reference} from {dockerfile} ...")
    image_id = images.build(client, context=context, dockerfile=config.build.dockerfile,
                            target=config.build.target, args=config.build.args, log=BuildLog())
    if existing:
        _refuse_different_content(client, registry, version, existing, image_id)

    tags = [version, *(["latest"] if config.build.push_latest else [])]
    for tag in tags:
        images.tag(client, image_id, registry.repository, tag)
    say(f"Pushing {reference} to the {registry.describe()} ...")
    digest = images.push(client, registry, version)
    if config.build.push_latest:
        # After the version tag, so `latest` never names an image whose version push failed.
        images.push(client, registry, "latest")
    say(f"Pushed {reference} ({digest}).")
    return Outcome(image=reference, digest=digest, pushed=True)


def dockerfile_path(config: WimpyConfig) -> tuple[Path, Path]:
    """The build context folder and the Dockerfile in it; WimpyError naming the path looked
    at and the wimpy.yml keys that set it otherwise."""
    build = config.build
    context = (config.project_dir / build.context).resolve()
    if not context.is_dir():
        raise WimpyError(f"build.context: {context} is not a folder (build.context is "
                         f"'{build.context}', relative to {config.source}).",
                         hint="Set build.context in wimpy.yml to the folder to build.")
    dockerfile = context / build.dockerfile
    if not dockerfile.is_file():
        raise WimpyError(f"no Dockerfile at {dockerfile} (build.context '{build.context}' + "
                         f"build.dockerfile '{build.dockerfile}', relative to {config.source}).",
                         hint="Create it, or set build.context and build.dockerfile in "
                              "wimpy.yml to where the Dockerfile is.")
    return context, dockerfile


def _refuse_different_content(client: Any, registry: registries.Registry, version: str,
                              existing: str, image_id: str) -> None:
    """Tags are immutable: --force may re-push the same content (a no-op for the registry,
    and the way to repair a tag whose push was cut short) but never replace it. ECR
    enforces this itself (tag_mutability IMMUTABLE); for other registries Wimpy does."""
    if existing in images.known_digests(client, image_id, registry.repository):
        return
    remote = registry.content_id(version, existing, lambda: client)
    if remote == image_id:
        return
    if remote:
        images.remove_if_untagged(client, remote)  # pulled only to compare
    raise WimpyError(
        f"{registry.repository}:{version} already exists in the {registry.describe()} with "
        f"different content: the registry has {existing} (image {remote or 'unknown'}), this "
        f"build is image {image_id}. Tags are immutable, so --force only re-pushes identical "
        "content and never overwrites a tag. Nothing was pushed.",
        hint="Give the new content a new --version (e.g. its commit id).")
