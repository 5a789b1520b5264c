"""EnvironmentNetwork: one VPC per environment, so staging can never reach production."""

from __future__ import annotations

import ipaddress
import re
import math
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import defaults
from .compliance import acknowledge
from .zoned_vpc import NatInstances, Tier, build_zoned_vpc

PUBLIC, PRIVATE, ISOLATED = "Public", "Private", "Isolated"
_TIERS = 3


NAT_KINDS = ("gateway", "instance")


class EnvironmentNetwork(Construct):
    """A VPC with public (load balancers), private-with-egress (instances) and isolated
    (databases) subnets in each given zone, NAT for the private subnets' egress, an S3
    gateway endpoint and VPC flow logs: what CDK's ``ec2.Vpc`` would make, without asking
    the stack for the region's zones, so an account-bound stack synthesizes with no AWS
    lookup.

    ``vpc`` is the ``ec2.IVpc`` to give consumers (load balancers, groups, instances); its
    subnets carry the internet routes' dependencies as ``ec2.Vpc``'s do. It holds no
    resource itself: tag, depend on or suppress findings on the network construct, add
    endpoints with ``add_interface_endpoint`` / ``add_gateway_endpoint`` (they land where
    ``ec2.Vpc`` put them), and reach the resources through ``cfn_vpc`` and ``subnets``
    (the ``ec2.PublicSubnet`` / ``ec2.PrivateSubnet`` objects by tier, e.g. to add a route).

    :param cidr: the VPC's IPv4 range, /16 to /24.
    :param availability_zones: the zones to use, pinned so synthesis needs no AWS lookup.
    :param nat_gateways: how many NATs (1 .. number of zones), each in its own zone.
    :param nat: ``gateway`` (AWS's managed NAT gateways) or ``instance`` (NAT instances:
        about a fifth of the price, with a single small instance's throughput and
        availability). @default gateway (Wimpy's stacks choose ``instance`` by default)
    :param nat_instance_type: the NAT instances' type. @default t4g.nano
    :param flow_log_bucket: the bucket flow logs are delivered to, under
        ``vpc-flow-logs/<flow_log_prefix>/`` (an AccountBaseline's log bucket allows that
        delivery and expires them). @default a CloudWatch Logs group of the network's own
    :param flow_log_prefix: the folder of this network's flow logs in ``flow_log_bucket``,
        e.g. the environment's name. @default the construct's path
    :param flow_log_retention: retention of the flow log group (without
        ``flow_log_bucket``). @default one year
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
        nat: str = "gateway",
        nat_instance_type: str = defaults.NAT_INSTANCE_TYPE,
        flow_log_bucket: s3.IBucket | None = None,
        flow_log_prefix: str | None = None,
        flow_log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        log_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id_)
        zones = list(availability_zones)
        subnet_mask = _subnet_mask(cidr, len(zones))
        _check_zones_in_region(zones, cdk.Stack.of(self).region)
        if not 1 <= nat_gateways <= len(zones):
            raise ValueError(f"nat_gateways must be between 1 and the number of zones "
                             f"({len(zones)}), got {nat_gateways}")
        if nat not in NAT_KINDS:
            raise ValueError(f"nat must be one of {', '.join(NAT_KINDS)}, got {nat!r}")
        nat_instances = _nat_instances(nat_instance_type) if nat == "instance" else None

        self.flow_log_group: logs.LogGroup | None = None
        if flow_log_bucket is not None:
            folder = (flow_log_prefix if flow_log_prefix is not None
                      else self.node.path.replace("/", "-"))
            if not cdk.Token.is_unresolved(folder) and (not folder or "/" in folder):
                raise ValueError(f"flow_log_prefix must be one folder name, got {folder!r}")
            flow_logs = ec2.FlowLogDestination.to_s3(
                flow_log_bucket, f"{defaults.FLOW_LOG_PREFIX}/{folder}/")
        else:
            self.flow_log_group = logs.LogGroup(
                self, "FlowLogs",
                retention=flow_log_retention,
                encryption_key=log_key,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            flow_logs = ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group)
        # Not ec2.Vpc: it asks the stack for the region's zones even when given them, a
        # lookup in AWS for an account-bound stack (zoned_vpc.py). Same resources, same ids.
        built = build_zoned_vpc(
            self, "Vpc", cidr=cidr, zones=zones,
            tiers=[Tier(PUBLIC, ec2.SubnetType.PUBLIC, subnet_mask),
                   Tier(PRIVATE, ec2.SubnetType.PRIVATE_WITH_EGRESS, subnet_mask),
                   Tier(ISOLATED, ec2.SubnetType.PRIVATE_ISOLATED, subnet_mask)],
            nat_count=nat_gateways, nat_instances=nat_instances)
        self.vpc: ec2.IVpc = built.vpc
        self.cfn_vpc: ec2.CfnVPC = built.cfn_vpc
        self.subnets: dict[str, list[ec2.Subnet]] = built.subnets  # PUBLIC, PRIVATE, ISOLATED
        self._resources = built.scope
        # S3 (and the image layers ECR keeps in it) without NAT: free, and no NAT
        # processing charge for every image pull.
        # Only the instances' subnets: the isolated ones keep no route out at all.
        self.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3,
                                  subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)])
        ec2.FlowLog(built.scope, "All", resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
                    destination=flow_logs, traffic_type=ec2.FlowLogTrafficType.ALL)
        # The default security group stays as AWS makes it: closing it needs a
        # Lambda-backed custom resource, and nothing Wimpy creates uses that group.
        for subnets in built.subnets.values():
            for subnet in subnets:
                _allow_pinned_zone(subnet)
        self.nat_instances: list[ec2.Instance] = built.nat_instances
        if built.nat_security_group is not None:
            # Forwarding for the VPC's own subnets only: nothing from outside reaches it.
            built.nat_security_group.connections.allow_from(
                ec2.Peer.ipv4(cidr), ec2.Port.all_traffic(), "The VPC's egress")
            for instance in self.nat_instances:
                _harden_nat_instance(self, instance)
                _allow_pinned_zone(instance)

    def add_interface_endpoint(self, id_: str, **options) -> ec2.InterfaceVpcEndpoint:
        """``ec2.Vpc.add_interface_endpoint``: the endpoint beside the VPC's resources, with
        the logical id ec2.Vpc gave it."""
        return ec2.InterfaceVpcEndpoint(self._resources, id_, vpc=self.vpc, **options)

    def add_gateway_endpoint(self, id_: str, **options) -> ec2.GatewayVpcEndpoint:
        """``ec2.Vpc.add_gateway_endpoint``, likewise."""
        return ec2.GatewayVpcEndpoint(self._resources, id_, vpc=self.vpc, **options)


def _nat_instances(instance_type: str) -> NatInstances:
    """NAT instances as CDK's NatInstanceProviderV2 makes them (Amazon Linux 2023, iptables
    masquerading), on the type's architecture, with a public address of their own: the
    public subnets give none by default."""
    kind = ec2.InstanceType(instance_type)
    arm = kind.architecture == ec2.InstanceArchitecture.ARM_64
    return NatInstances(kind, ec2.MachineImage.latest_amazon_linux2023(
        cpu_type=ec2.AmazonLinuxCpuType.ARM_64 if arm else ec2.AmazonLinuxCpuType.X86_64))


def _harden_nat_instance(scope: Construct, instance: ec2.Instance) -> None:
    """What the NAT instance provider leaves out: IMDSv2 only, an encrypted root volume.
    Its role holds no permission at all. (CDK's InstanceRequireImdsv2Aspect would name its
    launch template after the construct, the same in every environment of a region.)"""
    metadata = ec2.CfnLaunchTemplate(
        scope, f"{instance.node.scope.node.id}NatMetadataOptions",
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
            metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
                http_tokens="required", http_endpoint="enabled")))
    cfn: ec2.CfnInstance = instance.node.default_child
    cfn.launch_template = ec2.CfnInstance.LaunchTemplateSpecificationProperty(
        launch_template_id=metadata.ref, version=metadata.attr_latest_version_number)
    cfn.block_device_mappings = [ec2.CfnInstance.BlockDeviceMappingProperty(
        device_name="/dev/xvda", ebs=ec2.CfnInstance.EbsProperty(
            encrypted=True, volume_type="gp3", delete_on_termination=True,
            volume_size=defaults.NAT_INSTANCE_ROOT_GIB))]
    acknowledge(instance, "EC28", "A NAT instance's 5-minute basic metrics are enough: it "
                "serves no request itself, and detailed monitoring would cost as much as it")
    acknowledge(instance, "EC29", "Termination protection would stop CloudFormation from "
                "replacing the NAT instance (a new machine image) or deleting the environment; "
                "it lives only in its stack")


def _check_zones_in_region(zones: list[str], region: str) -> None:
    """What ec2.Vpc checked against the region's zones, without asking AWS for them: a zone
    of another region (or a typo of the region) fails here, not half-way through a deploy."""
    if cdk.Token.is_unresolved(region):
        return
    for zone in zones:
        if cdk.Token.is_unresolved(zone):
            continue
        # us-east-1a; a Local Zone is us-west-2-lax-1a.
        if not re.fullmatch(re.escape(region) + r"(-[a-z0-9-]+)?[a-z]", zone, re.ASCII):
            raise ValueError(f"availability_zones must be zones of the stack's region {region} "
                             f"(like {region}a), got {zone!r}")


def _allow_pinned_zone(subnet: ec2.ISubnet | ec2.Instance) -> None:
    """Zones are pinned on purpose (given by the caller): synthesis needs no AWS lookup and a
    deploy never moves subnets (or the NAT instances in them) because AWS changed which
    zones it lists first."""
    cfn_subnet = subnet.node.default_child
    reason = "The zones are given by the caller on purpose; see _allow_pinned_zone"
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
