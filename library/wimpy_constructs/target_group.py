"""The target group a release's instances join: HTTP to the application's port, health
checked on its path. One definition for both ways a release meets traffic: behind its own
load balancer (PublicLoadBalancer), or behind the application's shared one (TrafficSplit)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from . import defaults
from .arguments import check_port


def health_checked_target_group(
    scope: Construct,
    id_: str,
    *,
    vpc: ec2.IVpc,
    app_port: int,
    health_check_path: str,
    health_check_interval: cdk.Duration = defaults.HEALTH_CHECK_INTERVAL,
    health_check_timeout: cdk.Duration = defaults.HEALTH_CHECK_TIMEOUT,
    healthy_threshold: int = defaults.HEALTHY_THRESHOLD,
    unhealthy_threshold: int = defaults.UNHEALTHY_THRESHOLD,
    deregistration_delay: cdk.Duration = defaults.DEREGISTRATION_DELAY,
) -> elbv2.ApplicationTargetGroup:
    """An instance target group in `scope` under `id_` (made there, not in a wrapper
    construct, so an existing stack's target group keeps its logical id); answers 200-399
    count as healthy."""
    check_port("app_port", app_port)
    if not health_check_path.startswith("/"):
        raise ValueError(f"health_check_path must start with '/', got {health_check_path!r}")
    if health_check_timeout.to_seconds() >= health_check_interval.to_seconds():
        raise ValueError("health_check_timeout must be shorter than health_check_interval")
    return elbv2.ApplicationTargetGroup(
        scope, id_,
        vpc=vpc,
        port=app_port,
        protocol=elbv2.ApplicationProtocol.HTTP,
        target_type=elbv2.TargetType.INSTANCE,
        deregistration_delay=deregistration_delay,
        health_check=elbv2.HealthCheck(
            path=health_check_path,
            interval=health_check_interval,
            timeout=health_check_timeout,
            healthy_threshold_count=healthy_threshold,
            unhealthy_threshold_count=unhealthy_threshold,
            healthy_http_codes=defaults.HEALTHY_HTTP_CODES,
        ),
    )
