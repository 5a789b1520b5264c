"""wimpy deploy: validate, build and push, deploy the foundation and the application's
stack, and report the URL (or the rollback and why)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from wimpy_cli import output, targets

from wimpy_domain import naming
from wimpy_cli.commands.common import (ConfigOption, JsonOption, LocalOption, check_image_reference,
                                       load, next_command)
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.phases import Phases

if TYPE_CHECKING:  # what a deploy needs is imported when one runs, not for `wimpy --help`
    from wimpy_domain.config import WimpyConfig
    from wimpy_cli.targets import Target


def deploy(
    config: Path = ConfigOption,
    env: str = typer.Option(..., "--env", "-e", help="Environment to deploy to (one of wimpy.yml's)."),
    version: Optional[str] = typer.Option(None, "--version", help="Version (image tag) to deploy. Default: git rev-parse HEAD."),
    image: Optional[str] = typer.Option(None, "--image", help="Deploy this existing image reference instead of building one."),
    skip_build: bool = typer.Option(False, "--skip-build", help="Do not build: the version's image is already in the registry."),
    update_machine_image: bool = typer.Option(False, "--update-machine-image", help="Move instances to the current ECS-optimized Amazon Linux 2023 (replaces every instance)."),
    manual: bool = typer.Option(False, "--manual", help="Blue/green: pause after the first canary step (then wimpy promote or wimpy abort)."),
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Blue/green: keep a release that was rolled back (at no traffic), for debugging."),
    local: bool = LocalOption,
    as_json: bool = JsonOption,
) -> None:
    """Deploy a version with no downtime: rolling, or blue/green with a watched canary.

    Builds and pushes the image, deploys the foundation, then either replaces instances in
    place (rolling; CloudFormation rolls back by itself if the new version is not healthy)
    or creates a release stack and moves traffic to it step by step, rolling back on an alarm
    (blue-green). Example: wimpy deploy --env staging --version v1.4.2
    """
    from wimpy_cli.build import versions
    from wimpy_cli.deploy import secrets, stacks
    from wimpy_cli.deploy.foundation import deploy_foundation, ensure_release_record
    from wimpy_cli.deploy.rolling import Rolling
    from wimpy_cli.release import images, routing
    from wimpy_cli.release.adopt import adopt_existing
    from wimpy_cli.release.session import release_session
    from wimpy_cli.notify.dispatch import deploy_reporting

    phases = Phases()
    with phases.phase("validate"):
        if image is not None and skip_build:
            raise WimpyError("--image and --skip-build cannot be used together: --image already "
                             "deploys an existing image without building.",
                             code=ExitCode.USAGE,
                             hint="Give --image REF to deploy that image, or --skip-build to deploy "
                                  "the version's image already in the app's registry.")
        if image is not None:
            check_image_reference(image)
        if version is not None:
            versions.check(version)
        loaded = load(config, [env])
        if not targets.wants_local(local):
            targets.refuse_local_only_settings(loaded)
        if version is None:
            version = versions.from_git(loaded.project_dir)
            versions.check(version)
        if (manual or keep_failed) and loaded.deploy.strategy != "blue-green":
            raise WimpyError("--manual and --keep-failed are for deploy.strategy: blue-green "
                             f"(this wimpy.yml says {loaded.deploy.strategy}).", code=ExitCode.USAGE)
    app = loaded.app.name
    reference = image or naming.image_reference(
        registry_url=loaded.registry.url, account=loaded.account.id,
        region=loaded.account.region, app=app, version=version)

    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        run = stacks.StackDeploy(config_path=config, environment=env, target=target,
                                 **stacks.progress(phases, quiet=as_json))
        if image or skip_build:
            with phases.phase("image", reference):
                images.refuse_missing(loaded, target, reference, why=f"deploy {version}")
        secrets.refuse_missing(loaded, env, target, note=phases.note)
        routing.refuse_a_switch_on_a_shared_load_balancer(loaded, env, target.client("cloudformation"))
        # The application stack's context, known now: every step below synthesizes with it,
        # so the CDK app runs once for the whole deploy (wimpy_cli/deploy/stacks.py).
        planned = _planned_context(loaded, env, target, version=version, image=reference,
                                   update_machine_image=update_machine_image)
        ensure_release_record(run, loaded, phases, context=planned)
        # Hooks and notifications only for the deploy that holds the lock: one refused
        # with exit 5 runs none.
        with release_session(target.client("dynamodb"), env=env, app=app, what=f"deploy {version}") as session, \
                deploy_reporting(loaded, environment=env, version=version, image=reference,
                                 client_factory=target.client, phases=phases) as report:
            adopt_existing(session, target.client("cloudformation"),
                           image_of=lambda v: naming.image_reference(
                               registry_url=loaded.registry.url, account=loaded.account.id,
                               region=loaded.account.region, app=app, version=v))
            deploy_foundation(run, loaded, phases, context=planned)
            if image or skip_build:
                phases.note(f"not building: using {reference}")
            elif target.is_local and target.rollout is None:
                # Without the data plane no instance pulls the image (and the emulator's
                # ECR has no registry behind it).
                from wimpy_cli.local.images import register_named_image

                register_named_image(target, loaded, version)
                phases.note(f"not building: no instance boots in the emulator, so {reference} "
                            "is only named in its registry, not pulled")
            else:
                from wimpy_cli.build.pipeline import build_and_push

                with phases.phase("build and push", reference, live=False):
                    build_and_push(loaded, version=version, aws_client=target.client)
            if loaded.deploy.strategy == "blue-green":
                from wimpy_cli.release.bluegreen import BlueGreen

                released = BlueGreen(config=loaded, config_path=config, env=env, target=target,
                                     phases=phases, run=run, session=session).deploy(
                    version=version, image=reference, manual=manual, keep_failed=keep_failed,
                    update_machine_image=update_machine_image)
                recorded = target.client("ssm").get_parameter(
                    Name=naming.machine_image_parameter(env, app))["Parameter"]["Value"]
                result = DeployResult(stack=released["stack"], status=released["status"],
                                      url=released["url"], machine_image=recorded,
                                      share=released.get("share"))
            else:
                rolled = Rolling(config=loaded, config_path=config, env=env, target=target,
                                 phases=phases, run=run, session=session).deploy(
                    version=version, image=reference, update_machine_image=update_machine_image)
                recorded = target.client("ssm").get_parameter(
                    Name=naming.machine_image_parameter(env, app))["Parameter"]["Value"]
                result = DeployResult(stack=rolled.stack, status=rolled.status, url=rolled.url,
                                      machine_image=rolled.machine_image or recorded)
            report.succeeded(result.url)

    if result.status == "paused":
        human = (f"{app} {version} takes {result.share}% of {env}'s traffic and is paused "
                 f"({result.stack}).\n"
                 f"Next: {next_command('promote', env=env, local=target.is_local)}\n"
                 f"  or: {next_command('abort', env=env, local=target.is_local)}")
    else:
        human = (f"Deployed {app} {version} to {env} ({result.stack}, {result.status}).\n"
                 f"URL: {result.url}\n"
                 f"Next: {next_command('status', env=env, local=target.is_local)}")
    output.result({"app": app, "environment": env, "version": version, "image": reference,
                   "stack": result.stack, "status": result.status, "url": result.url,
                   "strategy": loaded.deploy.strategy, "target": target.name,
                   "machine_image": result.machine_image,
                   **({"share": result.share} if result.share is not None else {}),
                   "phases": phases.timings}, human, as_json=as_json)


@dataclass(frozen=True)
class DeployResult:
    stack: str
    status: str
    url: str
    machine_image: str
    share: float | None = None


def _planned_context(config: WimpyConfig, env: str, target: Target, *, version: str, image: str,
                     update_machine_image: bool) -> dict[str, str]:
    """The context the strategy will deploy the application's stack with: the machine
    image it will choose (the same reads, nothing changes them in between) and, for
    blue/green, the release. Should they differ after all, that deploy only synthesizes
    again."""
    from wimpy_cli.deploy import context, machine_image

    ami, _ = machine_image.choose_for(config, env, target.client, update=update_machine_image)
    return context.for_version(version=version, image=image, machine_image=ami,
                               release_stack=config.deploy.strategy == "blue-green")
