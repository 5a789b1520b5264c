"""EnvironmentNetwork: one VPC per environment, so staging can never reach production."""

from __future__ import annotations

import ipaddress
import math
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import defaults

PUBLIC, PRIVATE, ISOLATED = "Public", "Private", "Isolated"
_TIERS = 3


class EnvironmentNetwork(Construct):
    """A VPC with public (load balancers), private-with-egress (instances) and isolated
    (databases) subnets in each given zone, NAT gateways and VPC flow logs.

    :param cidr: the VPC's IPv4 range, /16 to /24.
    :param availability_zones: the zones to use, pinned so synthesis needs no AWS lookup.
    :param nat_gateways: how many NAT gateways (1 .. number of zones).
    :param flow_log_retention: retention of the flow log group. @default one year
    :param log_key: KMS key for the flow log group. @default none (CloudWatch-owned key)
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cidr: str,
        availability_zones: Sequence[str],
        nat_gateways: int,
        flow_log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        log_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id_)
        zones = list(availability_zones)
        subnet_mask = _subnet_mask(cidr, len(zones))
        if not 1 <= nat_gateways <= len(zones):
            raise ValueError(f"nat_gateways must be between 1 and the number of zones "
                             f"({len(zones)}), got {nat_gateways}")

        self.flow_log_group = logs.LogGroup(
            self, "FlowLogs",
            retention=flow_log_retention,
            encryption_key=log_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.vpc = ec2.Vpc(
            self, "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=zones,
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC,
                                        cidr_mask=subnet_mask, map_public_ip_on_launch=False),
                ec2.SubnetConfiguration(name=PRIVATE, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                                        cidr_mask=subnet_mask),
                ec2.SubnetConfiguration(name=ISOLATED, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                                        cidr_mask=subnet_mask),
            ],
            flow_logs={"All": ec2.FlowLogOptions(
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )},
            # Closing the default security group needs a Lambda-backed custom resource;
            # nothing Wimpy creates uses that group, so we skip the Lambda.
            restrict_default_security_group=False,
        )
        for subnet in self.vpc.public_subnets + self.vpc.private_subnets + self.vpc.isolated_subnets:
            _allow_pinned_zone(subnet)


def _allow_pinned_zone(subnet: ec2.ISubnet) -> None:
    """Zones are pinned on purpose (from wimpy.yml): synthesis needs no AWS lookup and a
    deploy never moves subnets because AWS changed which zones it lists first."""
    cfn_subnet = subnet.node.default_child
    reason = "Zones come from wimpy.yml on purpose; see _allow_pinned_zone"
    cfn_subnet.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3010"]}})
    # The same cfn-lint rule, as run by the CDK's built-in "CloudFormation Validate" plugin.
    cdk.Validations.of(cfn_subnet).acknowledge(
        cdk.Acknowledgment(id="CloudFormation-Validate::W3010", reason=reason))


def _subnet_mask(cidr: str, zone_count: int) -> int:
    """Split the VPC evenly into tiers x zones subnets, the largest that fit."""
    if cdk.Token.is_unresolved(cidr):
        raise ValueError("cidr must be a literal CIDR block (subnets are planned at synthesis)")
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise ValueError(f"cidr must be an IPv4 CIDR block like 10.0.0.0/16, got {cidr!r}") from None
    if not 2 <= zone_count <= 6:
        raise ValueError(f"availability_zones must list 2 to 6 zones, got {zone_count}")
    mask = network.prefixlen + math.ceil(math.log2(_TIERS * zone_count))
    if mask > 27:
        raise ValueError(f"cidr {cidr} is too small for {_TIERS} tiers in {zone_count} zones "
                         f"(subnets would be /{mask}); use a larger range")
    return mask
