"""EnvironmentNetwork: one VPC per environment, so staging can never reach production."""

from __future__ import annotations

import ipaddress
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

PUBLIC, PRIVATE, ISOLATED = "Public", "Private", "Isolated"
_TIERS = 3


NAT_KINDS = ("gateway", "instance")


class EnvironmentNetwork(Construct):
    """A VPC with public (load balancers), private-with-egress (instances) and isolated
    (databases) subnets in each given zone, NAT for the private subnets' egress, an S3
    gateway endpoint and VPC flow logs.

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
        if not 1 <= nat_gateways <= len(zones):
            raise ValueError(f"nat_gateways must be between 1 and the number of zones "
                             f"({len(zones)}), got {nat_gateways}")
        if nat not in NAT_KINDS:
            raise ValueError(f"nat must be one of {', '.join(NAT_KINDS)}, got {nat!r}")
        provider = _nat_instances(nat_instance_type) if nat == "instance" else None

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
        self.vpc = ec2.Vpc(
            self, "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=zones,
            nat_gateways=nat_gateways,
            nat_gateway_provider=provider,
            # S3 (and the image layers ECR keeps in it) without NAT: free, and no NAT
            # processing charge for every image pull.
            # Only the instances' subnets: the isolated ones keep no route out at all.
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)])},
            subnet_configuration=[
                ec2.SubnetConfiguration(name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC,
                                        cidr_mask=subnet_mask, map_public_ip_on_launch=False),
                ec2.SubnetConfiguration(name=PRIVATE, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                                        cidr_mask=subnet_mask),
                ec2.SubnetConfiguration(name=ISOLATED, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                                        cidr_mask=subnet_mask),
            ],
            flow_logs={"All": ec2.FlowLogOptions(
                destination=flow_logs,
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )},
            # Closing the default security group needs a Lambda-backed custom resource;
            # nothing Wimpy creates uses that group, so we skip the Lambda.
            restrict_default_security_group=False,
        )
        _warn_of_a_zone_lookup(self)
        for subnet in self.vpc.public_subnets + self.vpc.private_subnets + self.vpc.isolated_subnets:
            _allow_pinned_zone(subnet)
        self.nat_instances: list[ec2.Instance] = []
        if provider is not None:
            # Forwarding for the VPC's own subnets only: nothing from outside reaches it.
            provider.connections.allow_from(ec2.Peer.ipv4(cidr), ec2.Port.all_traffic(),
                                            "The VPC's egress")
            self.nat_instances = list(provider.gateway_instances)
            for instance in self.nat_instances:
                _harden_nat_instance(self, instance)
                _allow_pinned_zone(instance)


def _nat_instances(instance_type: str) -> ec2.NatInstanceProviderV2:
    """CDK's NAT instances (Amazon Linux 2023, iptables masquerading), with a public address
    of their own: the public subnets give none by default."""
    kind = ec2.InstanceType(instance_type)
    arm = kind.architecture == ec2.InstanceArchitecture.ARM_64
    return ec2.NatProvider.instance_v2(
        instance_type=kind,
        machine_image=ec2.MachineImage.latest_amazon_linux2023(
            cpu_type=ec2.AmazonLinuxCpuType.ARM_64 if arm else ec2.AmazonLinuxCpuType.X86_64),
        default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
        associate_public_ip_address=True)


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


# What Stack.availability_zones gives while CDK's lookup of them is pending.
_LOOKUP_PENDING = ["dummy1a", "dummy1b", "dummy1c"]


def _warn_of_a_zone_lookup(network: Construct) -> None:
    """CDK's VPC always asks its stack for the region's zones, even with its own given; an
    account-and-region stack answers from a context lookup that the CDK CLI then makes in
    AWS, with credentials. The zones here are pinned, so the answer is never used: say how
    to make the lookup go away instead of letting `cdk synth` fail offline."""
    stack = cdk.Stack.of(network)
    if cdk.Token.is_unresolved(stack.account) or cdk.Token.is_unresolved(stack.region):
        return  # an environment-agnostic stack asks nothing of AWS
    if list(stack.availability_zones) == _LOOKUP_PENDING:
        cdk.Annotations.of(network).add_warning_v2(
            "wimpy:availabilityZoneLookup",
            "CDK's VPC asks this stack for its region's zones, which the CDK CLI looks up in "
            "AWS (credentials needed). The zones given here are used anyway: override the "
            "stack's availability_zones property to return them, and synthesis needs no AWS "
            "access.")


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
