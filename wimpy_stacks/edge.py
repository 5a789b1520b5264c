"""wimpy-<env>--load-balancer: the environment's shared load balancer
(`environments.<name>.load_balancer: shared`). Its HTTPS listener answers 404 to a host
name no application claims; each application adds its own rule and certificate
(wimpy_constructs.HostRule) from its own stacks, so applications come and go without
this stack changing. Like the network, it is shared: it records the wimpy.yml values it
was built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from wimpy_domain import naming
from wimpy_domain.config.model import EnvironmentConfig, HostedZoneConfig
from wimpy_constructs import HostRule, PublicLoadBalancer, WeightedAliasRecord
from wimpy_constructs.traffic_split import TrafficSlot
from wimpy_constructs.application_access import open_listener_ports

from . import wiring

UNROUTED_MESSAGE = "no application here serves this host name"


class EdgeStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, environment: str, hosted_zone: HostedZoneConfig,
                 availability_zones: Sequence[str], settings: Mapping[str, object],
                 **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        wiring.record_settings(self, settings)
        vpc = wiring.environment_vpc(self, environment, availability_zones, public=True)
        # Its way to each application's instances is added by that application's resources
        # stack (ApplicationAccess), so nothing here reaches any instance by itself.
        security_group = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{environment} shared load balancer: listener ports from the internet")
        open_listener_ports(security_group, (80, 443))
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=hosted_zone.id, zone_name=hosted_zone.name)
        edge = PublicLoadBalancer(
            self, "Web", vpc=vpc, security_group=security_group,
            access_log_bucket=s3.Bucket.from_bucket_name(
                self, "LogBucket", naming.log_bucket(self.account, self.region)),
            access_log_prefix=f"alb/{environment}/shared",
            # The listener's default certificate; each application adds its own beside it.
            domain_name=f"*.{hosted_zone.name}", hosted_zone=zone,
            deletion_protection=environment == "production",
            unrouted_status=404, unrouted_message=UNROUTED_MESSAGE)
        balancer = edge.load_balancer
        wiring.publish(self, {naming.edge_parameter(environment, name): value for name, value in {
            "listener-arn": edge.serving_listener.listener_arn,
            "arn": balancer.load_balancer_arn,
            "full-name": balancer.load_balancer_full_name,
            "dns-name": balancer.load_balancer_dns_name,
            "canonical-hosted-zone-id": balancer.load_balancer_canonical_hosted_zone_id,
            "security-group-id": security_group.security_group_id,
        }.items()})
        cdk.CfnOutput(self, "LoadBalancerDnsName", value=balancer.load_balancer_dns_name)
        cdk.CfnOutput(self, "LoadBalancerArn", value=balancer.load_balancer_arn)


@dataclass(frozen=True)
class SharedEntrance:
    """An application's way in through the environment's shared load balancer."""

    load_balancer: elbv2.IApplicationLoadBalancer
    full_name: str  # CloudWatch's LoadBalancer dimension: the alarms' and scaling's
    url: str


def enter_through_shared(scope: Construct, *, environment: EnvironmentConfig, app: str,
                         zone: route53.IHostedZone, weight: int | float,
                         target_group: elbv2.ITargetGroup | None = None,
                         slots: Sequence[TrafficSlot] | None = None) -> SharedEntrance:
    """The application's rule and certificate on the shared listener, and its weighted
    record pointing at the shared load balancer (weighted like a release's own, so the
    routing code treats both alike). Everything about the load balancer is read from the
    parameters EdgeStack writes."""
    def read(name: str) -> str:
        return wiring.read(scope, naming.edge_parameter(environment.name, name))

    balancer = elbv2.ApplicationLoadBalancer.from_application_load_balancer_attributes(
        scope, "SharedLoadBalancer", load_balancer_arn=read("arn"),
        security_group_id=read("security-group-id"), load_balancer_dns_name=read("dns-name"),
        load_balancer_canonical_hosted_zone_id=read("canonical-hosted-zone-id"))
    HostRule(scope, "HostRule", listener_arn=read("listener-arn"), host_name=environment.domain,
             priority=naming.listener_rule_priority(app), hosted_zone=zone,
             target_group=target_group, slots=slots)
    stack = cdk.Stack.of(scope)
    WeightedAliasRecord(scope, "Dns", zone=zone, record_name=environment.domain,
                        load_balancer=balancer, weight=weight, set_identifier=stack.stack_name)
    return SharedEntrance(balancer, read("full-name"), f"https://{environment.domain}")
