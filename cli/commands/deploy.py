"""wimpy deploy: validate, build and push, deploy the foundation and the application's
stack, and report the URL (or the rollback and why)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli import naming, output, targets
from cli.build import versions
from cli.commands.common import ConfigOption, JsonOption, load
from cli.deploy import lock, stacks
from cli.deploy.rolling import deploy_foundation, deploy_rolling
from cli.errors import WimpyError
from cli.phases import Phases

LocalOption = typer.Option(False, "--local", help="Run against Wimpy's embedded AWS emulator "
                           "instead of your account (also WIMPY_TARGET=local).")


def deploy(
    config: Path = ConfigOption,
    env: str = typer.Option(..., "--env", "-e", help="Environment to deploy to (one of wimpy.yml's)."),
    version: Optional[str] = typer.Option(None, "--version", help="Version (image tag) to deploy. Default: git rev-parse HEAD."),
    image: Optional[str] = typer.Option(None, "--image", help="Deploy this existing image reference instead of building one."),
    skip_build: bool = typer.Option(False, "--skip-build", help="Do not build: the version's image is already in the registry."),
    update_machine_image: bool = typer.Option(False, "--update-machine-image", help="Move instances to the current Amazon Linux 2023 (replaces every instance)."),
    local: bool = LocalOption,
    as_json: bool = JsonOption,
) -> None:
    """Deploy a version: build and push its image, then replace instances with no downtime
    (CloudFormation rolls back by itself if the new version is not healthy).

    Example: wimpy deploy --env staging --version v1.4.2
    """
    phases = Phases()
    with phases.phase("validate"):
        if version is not None:
            versions.check(version)
        loaded = load(config, [env])
        if version is None:
            version = versions.from_git(loaded.project_dir)
            versions.check(version)
        if loaded.deploy.strategy != "rolling":
            raise WimpyError(f"deploy.strategy {loaded.deploy.strategy!r} is not available in "
                             "this version of Wimpy; use rolling.")
    app = loaded.app.name
    reference = image or naming.image_reference(
        registry_url=loaded.registry.url, account=loaded.account.id,
        region=loaded.account.region, app=app, version=version)

    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        run = stacks.StackDeploy(config_path=config, environment=env, target=target,
                                 show=stacks.progress_printer(quiet=as_json))
        with lock.deploy_lock(target.client("ssm"), env=env, app=app, version=version):
            deploy_foundation(run, loaded, phases)
            if image or skip_build:
                phases.note(f"not building: using {reference}")
            elif target.is_local:
                phases.note(f"not building: no instance boots in the emulator, so {reference} "
                            "is only named, not pulled")
            else:
                from cli.build.pipeline import build_and_push

                with phases.phase("build and push", reference):
                    build_and_push(loaded, version=version)
            result = deploy_rolling(config=loaded, config_path=config, env=env, version=version,
                                    image=reference, target=target, phases=phases, run=run,
                                    update_machine_image=update_machine_image)

    local_flag = " --local" if target.is_local else ""
    human = (f"Deployed {app} {version} to {env} ({result.stack}, {result.status}).\n"
             f"URL: {result.url}\n"
             f"Next: wimpy status --env {env}{local_flag}")
    output.result({"app": app, "environment": env, "version": version, "image": result.image,
                   "stack": result.stack, "status": result.status, "url": result.url,
                   "machine_image": result.machine_image, "target": target.name,
                   "phases": phases.timings}, human, as_json=as_json)
