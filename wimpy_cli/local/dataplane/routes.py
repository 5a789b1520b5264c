"""Where the emulator says traffic goes, read through its AWS API as a client would:
a name (a Route53 record, or a load balancer no record points at) -> the target groups
behind it, each with its share, and what each target group health-checks.

On AWS a resolver picks one of a name's weighted alias records by weight, and the load
balancer it points at forwards to its listener's target group(s). The local data plane
folds the two into one HAProxy per name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from wimpy_cli.local.dataplane.balancer import HealthCheck
from wimpy_cli.release.routing import listener_weights


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str
    health: HealthCheck
    deregistration_delay_seconds: int
    load_balancer_arn: str = ""  # the one whose listener forwards to it

    @property
    def full_name(self) -> str:
        """CloudWatch's TargetGroup dimension: targetgroup/<name>/<id>."""
        return self.arn.split(":", 5)[-1]

    @property
    def load_balancer_full_name(self) -> str:
        """CloudWatch's LoadBalancer dimension: app/<name>/<id>."""
        return self.load_balancer_arn.split(":loadbalancer/", 1)[-1] if self.load_balancer_arn else ""


@dataclass(frozen=True)
class Route:
    name: str  # the host name it serves: a record's (hello.staging.example.com) or a balancer's
    shares: tuple[tuple[TargetGroup, int], ...]    # each target group and its weight
    # The split is a listener's alone (at most one record with weight): a load balancer
    # applies it to every request. Between weighted records it is a resolver's pick, which
    # clients then keep: only a share on average.
    exact: bool = True


def read_routes(client: Any, target_group: Callable[[Any, str], TargetGroup] | None = None) -> list[Route]:
    """`target_group(elbv2, arn)` describes one (default: asked every time)."""
    target_group = target_group or describe_target_group
    elbv2, route53 = client("elbv2"), client("route53")
    balancers = elbv2.describe_load_balancers()["LoadBalancers"]
    by_dns = {_dns(b["DNSName"]): b for b in balancers}
    groups: dict[str, TargetGroup] = {}
    forwards: dict[tuple[str, str | None], list[tuple[str, int]]] = {}

    def shares_of(balancer_arn: str, weight: int, host: str | None = None) -> list[tuple[TargetGroup, int]]:
        # A shared load balancer sends each host name its own rule's way.
        if (balancer_arn, host) not in forwards:
            forwards[balancer_arn, host] = listener_weights(elbv2, balancer_arn, host)
        result = []
        for arn, share in forwards[balancer_arn, host]:
            if arn not in groups:
                groups[arn] = target_group(elbv2, arn)
            # The balancer forwarding to it now (a description may be older than that).
            result.append((dataclasses.replace(groups[arn], load_balancer_arn=balancer_arn), weight * share))
        return result

    named: dict[str, list[tuple[TargetGroup, int]]] = {}
    weighted_records: dict[str, int] = {}
    aliased: set[str] = set()
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for record in _records(route53, zone["Id"]):
            alias = record.get("AliasTarget")
            balancer = by_dns.get(_dns(alias["DNSName"])) if alias else None
            if record["Type"] != "A" or balancer is None:
                continue
            aliased.add(balancer["LoadBalancerArn"])
            weight = int(record.get("Weight", 1))
            name = record["Name"].rstrip(".")
            named.setdefault(name, []).extend(shares_of(balancer["LoadBalancerArn"], weight, name))
            weighted_records[name] = weighted_records.get(name, 0) + (weight > 0)
    for balancer in balancers:
        if balancer["LoadBalancerArn"] not in aliased:
            named[_dns(balancer["DNSName"])] = shares_of(balancer["LoadBalancerArn"], 1)
    return [Route(name, tuple(shares), exact=weighted_records.get(name, 0) <= 1)
            for name, shares in sorted(named.items())]


def _dns(name: str) -> str:
    name = name.lower().rstrip(".")
    return name.removeprefix("dualstack.")


def _records(route53: Any, zone_id: str) -> list[dict]:
    paginator = route53.get_paginator("list_resource_record_sets")
    return [r for page in paginator.paginate(HostedZoneId=zone_id) for r in page["ResourceRecordSets"]]


def describe_target_group(elbv2: Any, arn: str) -> TargetGroup:
    group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    attributes = {a["Key"]: a["Value"] for a in
                  elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}
    return TargetGroup(
        arn=arn, name=group["TargetGroupName"],
        health=HealthCheck(
            path=group.get("HealthCheckPath", "/"),
            interval_seconds=int(group.get("HealthCheckIntervalSeconds", 30)),
            timeout_seconds=int(group.get("HealthCheckTimeoutSeconds", 5)),
            healthy_threshold=int(group.get("HealthyThresholdCount", 5)),
            unhealthy_threshold=int(group.get("UnhealthyThresholdCount", 2)),
            matcher=group.get("Matcher", {}).get("HttpCode", "200")),
        deregistration_delay_seconds=int(attributes.get("deregistration_delay.timeout_seconds", 300)),
        load_balancer_arn=next(iter(group.get("LoadBalancerArns", [])), ""))
