"""wimpy build: build the application's image and push it to its registry, once per version."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wimpy_cli import output
from wimpy_cli.commands.common import ConfigOption, JsonOption, load


def build(
    config: Path = ConfigOption,
    env: str = typer.Option(..., "--env", "-e", help="Environment the image is for; must be one of wimpy.yml's."),
    version: Optional[str] = typer.Option(None, "--version", help="Image tag. Default: the project's git commit (git rev-parse HEAD)."),
    force: bool = typer.Option(False, "--force", help="Build and push even if the registry has this version (same content only: tags are immutable)."),
    as_json: bool = JsonOption,
) -> None:
    """Build the Docker image and push it to the app's registry; skipped if the version is there.

    Example: wimpy build -c wimpy.yml --env staging --version 1.4.0
    """
    from wimpy_cli.build import versions
    from wimpy_cli.build.pipeline import build_and_push

    # The tag first: a bad one is refused before wimpy.yml, the registry or Docker is touched.
    if version is not None:
        versions.check(version)
    loaded = load(config, [env])
    tag = version if version is not None else versions.from_git(loaded.project_dir)

    outcome = build_and_push(loaded, version=tag, force=force)
    output.result(outcome.document(), f"{outcome.image}@{outcome.digest}", as_json=as_json)
