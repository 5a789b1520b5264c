"""wimpy-<env>-<app>-front: the application's long-lived load balancer when blue/green
moves traffic through it (deploy.traffic: load-balancer). Its listener forwards to the
target groups of at most two releases, the live one and the one coming or going, with
weights that are this stack's parameters: a canary step, a promotion or a rollback is a
parameter-only update of this stack. Each release (wimpy_stacks/service.py) brings its own
target group and instances, and reads this load balancer's name from SSM for its alarms.

With a hosted zone, the application's name points here through a weighted record, like a
DNS-mode release's: moving an application between the two modes is then a canary of
Route53 weights between this stack and a release stack, with no traffic lost."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from wimpy_domain import naming
from wimpy_domain.config.model import AppConfig, EnvironmentConfig, HostedZoneConfig
from wimpy_constructs import PublicLoadBalancer, WeightedAliasRecord
from wimpy_constructs.traffic_split import MAX_WEIGHT, TrafficSlot, TrafficSplit

from . import wiring
from .edge import enter_through_shared

# The listener's two slots, named for what they hold between deploys and during one.
SLOTS = ("Live", "Canary")


class FrontStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, app: AppConfig, environment: EnvironmentConfig,
                 hosted_zone: HostedZoneConfig | None, availability_zones: tuple[str, ...],
                 **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        env, name = environment.name, app.name
        zone = (route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=hosted_zone.id, zone_name=hosted_zone.name)
            if hosted_zone else None)
        slots = []
        for slot in SLOTS:
            arn = cdk.CfnParameter(
                self, f"{slot}TargetGroupArn", type="String", default="",
                description=f"The {slot.lower()} release's target group (empty: none)")
            weight = cdk.CfnParameter(
                self, f"{slot}Weight", type="Number", default=MAX_WEIGHT if slot == "Live" else 0,
                min_value=0, max_value=MAX_WEIGHT,
                description=f"The {slot.lower()} release's listener weight (0-{MAX_WEIGHT})")
            slots.append(TrafficSlot(arn.value_as_string, weight.value_as_number))
        dns_weight = cdk.CfnParameter(
            self, "TrafficWeight", type="Number", default=0, min_value=0, max_value=255,
            description="Route53 weight of this load balancer's record (0-255): 0 until it "
                        "serves, 255 once every release is behind it") if zone is not None else None
        if environment.shares_a_load_balancer:
            # The environment's load balancer: this stack is the application's rule on it.
            entrance = enter_through_shared(self, environment=environment, app=name, zone=zone,
                                            weight=dns_weight.value_as_number, slots=slots)
            balancer, full_name, url = entrance.load_balancer, entrance.full_name, entrance.url
        else:
            front = self._own_load_balancer(env, name, environment, zone, availability_zones)
            TrafficSplit(self, "Traffic", listener=front.serving_listener, slots=slots)
            if zone is not None:
                WeightedAliasRecord(self, "Dns", zone=zone, record_name=environment.domain,
                                    load_balancer=front.load_balancer,
                                    weight=dns_weight.value_as_number, set_identifier=self.stack_name)
            balancer, full_name, url = (front.load_balancer, front.load_balancer.load_balancer_full_name,
                                        front.url)
        wiring.publish(self, {naming.application_parameter(env, name, "load-balancer-full-name"): full_name})
        cdk.CfnOutput(self, "Url", value=url)
        cdk.CfnOutput(self, "LoadBalancerDnsName", value=balancer.load_balancer_dns_name)
        cdk.CfnOutput(self, "LoadBalancerArn", value=balancer.load_balancer_arn)
        cdk.CfnOutput(self, "Application", value=name)
        # The VPC the load balancer serves: the releases' target groups must be in it.
        cdk.CfnOutput(self, "VpcId", value=wiring.read(self, naming.environment_parameter(env, "vpc-id")))

    def _own_load_balancer(self, env: str, name: str, environment: EnvironmentConfig,
                           zone: route53.IHostedZone | None,
                           availability_zones: tuple[str, ...]) -> PublicLoadBalancer:
        vpc = wiring.environment_vpc(self, env, availability_zones, public=True)
        security_group = ec2.SecurityGroup.from_security_group_id(
            self, "LoadBalancerSecurityGroup",
            wiring.read(self, naming.application_parameter(env, name, "load-balancer-security-group-id")),
            mutable=False, allow_all_outbound=False)
        return PublicLoadBalancer(
            self, "Web", vpc=vpc, security_group=security_group,
            access_log_bucket=s3.Bucket.from_bucket_name(
                self, "LogBucket", naming.log_bucket(self.account, self.region)),
            access_log_prefix=f"alb/{env}/{name}",
            domain_name=environment.domain if zone is not None else None, hosted_zone=zone,
            deletion_protection=env == "production")
