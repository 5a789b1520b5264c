"""The rolling strategy: one stack per application and environment, updated in place.
CloudFormation replaces instances batch by batch and rolls back by itself; Wimpy's part is
to deploy the foundation, the image and the pinned machine image, then report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cli import naming
from cli.config import WimpyConfig
from cli.deploy import machine_image, outcome, stacks
from cli.errors import WimpyError
from cli.phases import Phases
from cli.release.canary import Clock, SystemClock
from cli.targets import Target


@dataclass(frozen=True)
class RollingResult:
    stack: str
    status: str
    url: str
    image: str
    machine_image: str


def foundation_stacks(config: WimpyConfig, env: str) -> list[str]:
    names = [naming.baseline_stack()]
    if config.registry.is_ecr:
        names.append(naming.registry_stack(config.app.name))
    return names + [naming.environment_stack(env),
                    naming.application_data_stack(env, config.app.name),
                    naming.application_resources_stack(env, config.app.name)]


def deploy_foundation(run: stacks.StackDeploy, config: WimpyConfig, phases: Phases) -> None:
    _refuse_a_retained_log_group(run, config)
    names = foundation_stacks(config, run.environment)
    with phases.phase("foundation", ", ".join(names)):
        stacks.deploy(run, names, what="Deploying the foundation stacks")


def deploy_rolling(*, config: WimpyConfig, config_path: Path, env: str, version: str, image: str,
                   target: Target, phases: Phases, run: stacks.StackDeploy,
                   update_machine_image: bool, clock: Clock = SystemClock()) -> RollingResult:
    app = config.app.name
    stack = naming.rolling_stack(env, app)
    ssm, ec2 = target.client("ssm"), target.client("ec2")
    from cli.release import inventory

    # Coming from blue/green: its releases serve until this stack is healthy, then hand it
    # all traffic at once and are retired. Until then this stack's record takes none.
    releases = inventory.releases(target.client("cloudformation"), env, app)
    switching = bool(releases) and config.hosted_zone is not None
    parameters = {stack: {"TrafficWeight": "0"}} if switching else {}
    with phases.phase("machine image"):
        ami, why = machine_image.choose(ssm=ssm, ec2=ec2, env=env, app=app,
                                        instance_type=config.app.instance_type,
                                        pinned=config.app.machine_image, update=update_machine_image)
        phases.note(f"{ami} ({why})")
    with phases.phase("CloudFormation", f"{stack}: rolling update to {version}"):
        stacks.deploy(run, [stack], exclusively=True, what=f"Deploying {stack}",
                      context={"version": version, "image": image, "machine_image": ami},
                      parameters=parameters)
    machine_image.record(ssm=ssm, env=env, app=app, ami=ami)
    from cli.release import state

    if switching:
        _take_over_from_releases(config, target, phases, env, stack, releases, clock)
    state.record_version(ssm, env, app, version)
    result = outcome.read(target.client("cloudformation"), stack)
    assert result is not None and result.succeeded, result
    return RollingResult(stack=stack, status=result.status, url=result.outputs.get("Url", ""),
                         image=image, machine_image=ami)


def _refuse_a_retained_log_group(run: stacks.StackDeploy, config: WimpyConfig) -> None:
    """The application's log group lives in its data stack, which `wimpy destroy` keeps. A
    group of that name without the data stack was left by something else (a Wimpy before
    the data stack, a hand-made group): creating the stack would fail half-way on its
    name, so say so before anything changes."""
    env, app = run.environment, config.app.name
    cloudformation, logs = run.target.client("cloudformation"), run.target.client("logs")
    if outcome.read(cloudformation, naming.application_data_stack(env, app)) is not None:
        return
    name = naming.application_log_group(env, app)
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    if any(group["logGroupName"] == name for group in groups):
        raise WimpyError(
            f"the log group {name} exists but no stack of Wimpy's keeps it (it was made "
            f"outside {naming.application_data_stack(env, app)}); nothing was deployed.",
            hint=f"Export what you need from it, then delete it (aws logs delete-log-group "
                 f"--log-group-name {name}{' --endpoint-url ' + run.target.endpoint if run.target.endpoint else ''}), "
                 "and deploy again.")


def _take_over_from_releases(config: WimpyConfig, target: Target, phases: Phases, env: str,
                             stack: str, releases: list, clock: Clock) -> None:
    """All traffic to the (healthy) rolling stack, then the blue/green releases retired:
    the rolling stack's weight first, so no moment has every weight at zero."""
    from cli.release import dns, state, traffic
    from cli.release.bluegreen import delete_release
    from cli.release.weights import MAX_WEIGHT

    cloudformation = target.client("cloudformation")
    with phases.phase("traffic", f"all traffic to {stack} (from blue/green)"):
        traffic.update_parameters(cloudformation, stack, {"TrafficWeight": str(MAX_WEIGHT)})
        for release in releases:
            if release.weight:
                traffic.update_parameters(cloudformation, release.stack, {"TrafficWeight": "0"})
    state.clear_canary(target.client("ssm"), env, config.app.name)
    with phases.phase("retire", ", ".join(r.stack for r in releases)):
        seconds = (2 * dns.client_cache_seconds(config.deploy.dns_ttl_seconds, local=target.is_local)
                   + config.app.deregistration_delay_seconds)
        phases.note(f"waiting {seconds}s: two DNS TTLs and the drain time")
        clock.sleep(seconds)
        for release in releases:
            delete_release(cloudformation, target.client("elbv2"), release.stack)
            phases.note(f"deleted {release.stack} ({release.version})")
