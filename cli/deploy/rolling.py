"""The rolling strategy: one stack per application and environment, updated in place.
CloudFormation replaces instances batch by batch and rolls back by itself; Wimpy's part is
to deploy it with the image and the pinned machine image, take over from blue/green
releases when the strategy changed, then report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cli import naming
from cli.config import WimpyConfig
from cli.deploy import machine_image, outcome, stacks
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
        seconds = dns.retire_wait_seconds(config.deploy.dns_ttl_seconds,
                                          config.app.deregistration_delay_seconds,
                                          local=target.is_local)
        phases.note(f"waiting {seconds}s: two DNS TTLs and the drain time")
        clock.sleep(seconds)
        for release in releases:
            delete_release(cloudformation, target.client("elbv2"), release.stack)
            phases.note(f"deleted {release.stack} ({release.version})")
