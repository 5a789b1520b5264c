"""WeightedAliasRecord: the application's DNS name pointing at one load balancer, weighted,
so several releases can share the name and traffic moves by changing weights alone."""

from __future__ import annotations

from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from .arguments import check_text

MAX_WEIGHT = 255


class WeightedAliasRecord(Construct):
    """An A alias record ``record_name`` -> ``load_balancer`` with a weight and set id.

    :param weight: 0-255; may be a token (e.g. a stack parameter, so moving traffic is a
        parameter-only update). Alias records take the load balancer's own 60 s TTL.
    :param set_identifier: unique among the records sharing the name (e.g. the stack name).
    """

    def __init__(self, scope: Construct, id_: str, *, zone: route53.IHostedZone, record_name: str,
                 load_balancer: elbv2.ILoadBalancerV2, weight: int | float,
                 set_identifier: str) -> None:
        super().__init__(scope, id_)
        check_text("set_identifier", set_identifier, pattern=r"[^\x00-\x1f]{1,128}",
                   accepted="1 to 128 characters (Route 53's limit)")
        if isinstance(weight, int) and not 0 <= weight <= MAX_WEIGHT:
            raise ValueError(f"weight must be 0-{MAX_WEIGHT}, got {weight}")
        self.record = route53.ARecord(
            self, "Record", zone=zone, record_name=record_name,
            target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(load_balancer)),
            weight=weight, set_identifier=set_identifier)
