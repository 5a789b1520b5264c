"""HostRule: one application's way into a load balancer shared with others. A rule on the
shared listener sends the requests for the application's host name to its target group
(or splits them by weight between its releases' groups), and the listener serves the
application's own certificate beside the others' (SNI). Everything else on the load
balancer belongs to other stacks, so this is all an application adds or removes."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from constructs import Construct

from .traffic_split import TrafficSlot, weighted_actions

# A listener's rule priorities: each rule on one listener needs its own.
PRIORITIES = range(1, 50001)


class HostRule(Construct):
    """Requests for ``host_name`` on ``listener_arn`` go to ``target_group`` or, by weight,
    to ``slots`` (give one of the two).

    :param listener_arn: the shared load balancer's serving (HTTPS) listener.
    :param host_name: e.g. ``web.example.com``; also the certificate's name.
    :param priority: 1-50000, unique on the listener (lower is evaluated first).
    :param hosted_zone: the zone that validates the certificate (DNS validation).
    :param target_group: one target group taking every request for the host.
    :param slots: target groups with weights (TrafficSplit's slots): a canary's split.
    """

    def __init__(self, scope: Construct, id_: str, *, listener_arn: str, host_name: str,
                 priority: int, hosted_zone: route53.IHostedZone,
                 target_group: elbv2.ITargetGroup | None = None,
                 slots: Sequence[TrafficSlot] | None = None) -> None:
        super().__init__(scope, id_)
        if (target_group is None) == (slots is None):
            raise ValueError("give target_group (one group takes every request) or slots "
                             "(weighted releases), exactly one of the two")
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be {PRIORITIES.start}-{PRIORITIES.stop - 1}, got {priority}")
        if not host_name or "*" in host_name:
            raise ValueError(f"host_name must be one host name (no wildcard), got {host_name!r}")
        actions = ([{"Type": "forward", "TargetGroupArn": target_group.target_group_arn}]
                   if target_group is not None else weighted_actions(self, slots or ()))
        self.certificate = acm.Certificate(
            self, "Certificate", domain_name=host_name,
            validation=acm.CertificateValidation.from_dns(hosted_zone))
        elbv2.CfnListenerCertificate(
            self, "ListenerCertificate", listener_arn=listener_arn,
            certificates=[elbv2.CfnListenerCertificate.CertificateProperty(
                certificate_arn=self.certificate.certificate_arn)])
        self.rule = elbv2.CfnListenerRule(
            self, "Rule", listener_arn=listener_arn, priority=priority,
            conditions=[elbv2.CfnListenerRule.RuleConditionProperty(
                field="host-header",
                host_header_config=elbv2.CfnListenerRule.HostHeaderConfigProperty(values=[host_name]))],
            actions=[])
        # Raw actions: the weighted ones hold conditions (Fn::If) the typed property refuses.
        self.rule.add_property_override("Actions", actions)
