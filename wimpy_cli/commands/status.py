"""wimpy status: every release of the application in an environment, with its traffic,
capacity, health and alarms."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from wimpy_cli import output, targets

from wimpy_domain import naming
from wimpy_cli.commands.common import ConfigOption, EnvOption, JsonOption, LocalOption, load, next_command
from wimpy_cli.phases import Phases


def status(config: Path = ConfigOption, env: str = EnvOption, local: bool = LocalOption,
           as_json: bool = JsonOption) -> None:
    """Show every release: version, weight and real share, capacity, health, alarms, age.

    Example: wimpy status --env production --json
    """
    from wimpy_cli.release.record import UNFINISHED
    from wimpy_cli.release.session import read_record, where_traffic_is

    loaded = load(config, [env])
    phases = Phases(stream=_Silent()) if as_json else Phases()
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        rows = collect(target, env, loaded.app.name)
        record = read_record(target.client("dynamodb"), env=env, app=loaded.app.name)
    document = {"app": loaded.app.name, "environment": env, "strategy": loaded.deploy.strategy,
                "releases": rows,
                "under_way": [r for r in record.summary() if r["state"] in UNFINISHED],
                "last_judgement": last_judgement(record)}
    under_way = where_traffic_is(record)[1:] if record.unfinished() else []
    output.result(document, "\n".join([render(document), *under_way]), as_json=as_json)


def last_judgement(record: Any) -> dict[str, Any] | None:
    """The judge's comparison at the newest canary step judged against a live release."""
    judged = [(j.started, release.version, j) for release in record.releases for j in release.judged
              if j.comparison is not None or j.outcome == "failed"]
    if not judged:
        return None
    _, version, step = max(judged, key=lambda found: found[0])
    return {"version": version, "step": step.step + 1, "percent": step.percent, "outcome": step.outcome,
            "comparison": step.comparison, "problems": step.problems}


def collect(target: Any, env: str, app: str) -> list[dict[str, Any]]:
    """One row per release. A release behind the front stack's load balancer has the weight
    its listener gives it (read back from the listener, 0-999) and a share of what that load
    balancer gets; any other release (and the front itself) has its DNS record's weight."""
    from urllib.parse import urlsplit

    from wimpy_cli.deploy import outcome
    from wimpy_cli.release import inventory
    from wimpy_cli.release.routing import listener_weights

    cloudformation = target.client("cloudformation")
    stacks = [(r.stack, r.version, r.weight, r.capacity_on, r.created, r.outputs, r.status)
              for r in inventory.releases(cloudformation, env, app)]
    rolling = outcome.read(cloudformation, naming.rolling_stack(env, app))
    if rolling is not None:
        described = cloudformation.describe_stacks(StackName=rolling.name)["Stacks"][0]
        # Without a hosted zone the rolling stack has no weighted record: it has it all.
        weight = int(rolling.parameters["TrafficWeight"]) if rolling.parameters.get("TrafficWeight") else 255
        stacks.append((rolling.name, rolling.outputs.get("Version", ""), weight, True,
                       described["CreationTime"], rolling.outputs, rolling.status))
    front = outcome.read(cloudformation, naming.front_stack(env, app))
    listener: dict[str, int] = {}
    front_weight = 0
    if front is not None and front.outputs.get("LoadBalancerArn"):
        # On a shared load balancer the application's share is its host name's rule.
        listener = dict(listener_weights(target.client("elbv2"), front.outputs["LoadBalancerArn"],
                                         urlsplit(front.outputs.get("Url", "")).hostname))
        front_weight = int(front.parameters.get("TrafficWeight") or 0) if "TrafficWeight" in front.parameters \
            else (255 if listener else 0)
    behind = {stack for stack, *_, outputs, _ in stacks if outputs.get("Traffic") == "load-balancer"}
    dns_total = sum(weight for stack, _, weight, *_ in stacks if stack not in behind) + front_weight or 1
    listener_total = sum(listener.values()) or 1
    # Once for every release (not once per release), and every page of it.
    paginator = target.client("autoscaling").get_paginator("describe_auto_scaling_groups")
    groups = [group for page in paginator.paginate() for group in page["AutoScalingGroups"]]
    rows = []
    for stack, version, weight, capacity_on, created, outputs, stack_status in stacks:
        if stack in behind:
            weight = listener.get(outputs.get("TargetGroupArn", ""), 0)
            share = 100 * front_weight / dns_total * weight / listener_total
            url = front.outputs.get("Url", "") if front is not None else ""
        else:
            share, url = 100 * weight / dns_total, outputs.get("Url", "")
        rows.append({
            "stack": stack, "version": version, "status": stack_status,
            "traffic": "listener" if stack in behind else "dns", "weight": weight,
            "share": round(share, 1), "capacity": "on" if capacity_on else "zero",
            **_instances_and_health(target, groups, stack, outputs.get("TargetGroupArn")),
            "alarms": _alarms(target, stack), "age": _age(created), "url": target.url_for(url),
        })
    return rows


def render(document: dict[str, Any]) -> str:
    rows = document["releases"]
    if not rows:
        return (f"{document['app']} is not deployed to {document['environment']}.\n"
                f"Next: {next_command('deploy', env=document['environment'])}")
    header = f"{'version':<16} {'share':>6} {'weight':>9} {'capacity':<8} {'instances':>9} {'health':<12} {'alarms':<24} {'age':>8}  stack"
    lines = [f"{document['app']} in {document['environment']} ({document['strategy']}):", header]
    unknown = "unknown"
    for row in rows:
        alarms = ", ".join(f"{name}={state}" for name, state in row["alarms"].items()) or "-"
        instances = unknown if row["instances"] is None else row["instances"]
        health = unknown if row["health"] is None else row["health"]
        weight = f"{row['weight']}{' lb' if row['traffic'] == 'listener' else ' dns'}"
        lines.append(f"{row['version'][:16]:<16} {row['share']:>5}% {weight:>9} {row['capacity']:<8} "
                     f"{instances:>9} {health:<12} {alarms[:24]:<24} {row['age']:>8}  {row['stack']}")
    judged = document.get("last_judgement")
    if judged:
        details = ([c["detail"] for c in judged["comparison"]["comparisons"]] if judged["comparison"]
                   else judged["problems"])
        lines.append(f"Judged against the live release: {judged['version']} at {judged['percent']:g}% "
                     f"(step {judged['step']}) {judged['outcome']}: " + "; ".join(details))
    if any(row["health"] is None for row in rows):
        lines.append("Instances and health are unknown on the local target without its data "
                     "plane: no instance boots in the emulator (`wimpy local start` runs one "
                     "where Docker and HAProxy are installed).")
    return "\n".join(lines)


def _instances_and_health(target: Any, groups: list[dict[str, Any]], stack: str,
                          target_group_arn: str | None) -> dict[str, Any]:
    if not target.is_local or target.rollout is not None:
        # On the local target, the data plane counts the instances and the emulator's
        # DescribeTargetHealth answers what its load balancer sees.
        instances = target.rollout.instances(stack) if target.is_local else _instances(groups, stack)
        return {"instances": instances, "health": _health(target, target_group_arn)}
    # No data plane: no instance boots, so nothing can know whether one is in service or
    # healthy (moto would say so of every one). Say unknown.
    return {"instances": None, "health": None}


def _instances(groups: list[dict[str, Any]], stack: str) -> int:
    for group in groups:
        tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
        if tags.get("aws:cloudformation:stack-name") == stack or group["AutoScalingGroupName"].startswith(stack):
            return len([i for i in group["Instances"] if i["LifecycleState"] == "InService"])
    return 0


def _health(target: Any, target_group_arn: str | None) -> str:
    if not target_group_arn:
        return "-"
    descriptions = target.client("elbv2").describe_target_health(
        TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
    healthy = sum(1 for d in descriptions if d["TargetHealth"]["State"] == "healthy")
    return f"{healthy}/{len(descriptions)} healthy"


def _alarms(target: Any, stack: str) -> dict[str, str]:
    names = naming.stack_alarms(stack)
    found = target.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    return {alarm["AlarmName"].removeprefix(stack + "-"): alarm["StateValue"] for alarm in found}


def _age(created: datetime.datetime) -> str:
    seconds = (datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


class _Silent:
    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass
