"""A VPC laid out in given zones, built as CDK's `ec2.Vpc` builds it but without asking its
stack for the region's zones.

`ec2.Vpc` reads `stack.availability_zones` even when it is given its zones (to check them).
In a stack bound to an account and region that read is a context lookup, which the CDK CLI
then makes in AWS with credentials: `cdk synth` of a team's own plain Stack would fail
offline, for zones that are never used. Here the same public pieces (`PublicSubnet`,
`PrivateSubnet`, the IP address planner, `FlowLog`, `GatewayVpcEndpoint`, `Instance`) are
put together in the same tree, so every resource keeps the logical ID, properties and
dependencies that `ec2.Vpc` gave it (environments deployed before keep their VPC), and the
VPC is offered to consumers as an `ec2.IVpc` whose subnets carry the same "internet is
reachable" dependencies as `ec2.Vpc`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, DependencyGroup

# CDK's own tag names, which `SubnetSelection(subnet_group_name=...)` and the AWS console
# read on subnets made by ec2.Vpc.
_SUBNET_NAME_TAG, _SUBNET_TYPE_TAG = "aws-cdk:subnet-name", "aws-cdk:subnet-type"


@dataclass(frozen=True)
class Tier:
    """One group of subnets, one per zone: `name` is also their construct ids' prefix."""
    name: str
    subnet_type: ec2.SubnetType
    cidr_mask: int


@dataclass(frozen=True)
class NatInstances:
    """NAT instances instead of NAT gateways: their type and machine image."""
    instance_type: ec2.InstanceType
    machine_image: ec2.IMachineImage


@dataclass
class ZonedVpc:
    """What was built: the VPC as consumers use it, and the pieces EnvironmentNetwork adds to."""
    vpc: ec2.IVpc
    scope: Construct  # the construct named "Vpc" that holds every resource below
    cfn_vpc: ec2.CfnVPC
    subnets: dict[str, list[ec2.Subnet]]  # by tier name, in zone order
    nat_instances: list[ec2.Instance] = field(default_factory=list)
    nat_security_group: ec2.SecurityGroup | None = None


def build_zoned_vpc(scope: Construct, id_: str, *, cidr: str, zones: Sequence[str],
                    tiers: Sequence[Tier], nat_count: int, nat_instances: NatInstances | None,
                    ) -> ZonedVpc:
    """The VPC `scope/id_` with `tiers` (a public one first) across `zones`, an internet
    gateway, and `nat_count` NAT gateways, or NAT instances as `nat_instances` describes, in
    the first public subnets; each private-with-egress subnet routes through the NAT in its
    zone, or else the next in turn (as CDK's providers pick)."""
    if nat_count < 1 and any(t.subnet_type == ec2.SubnetType.PRIVATE_WITH_EGRESS for t in tiers):
        raise ValueError(f"nat_count must be at least 1 for private subnets with egress, got {nat_count}")
    holder = Construct(scope, id_)
    cfn_vpc = ec2.CfnVPC(holder, "Resource", cidr_block=cidr, enable_dns_hostnames=True,
                         enable_dns_support=True, instance_tenancy="default")
    cdk.Tags.of(holder).add("Name", holder.node.path)

    requested = [ec2.RequestedSubnet(availability_zone=zone, subnet_construct_id=f"{tier.name}Subnet{index + 1}",
                                     configuration=ec2.SubnetConfiguration(name=tier.name, subnet_type=tier.subnet_type,
                                                                           cidr_mask=tier.cidr_mask))
                 for tier in tiers for index, zone in enumerate(zones)]
    allocated = ec2.IpAddresses.cidr(cidr).allocate_subnets_cidr(
        vpc_cidr=cidr, requested_subnets=requested).allocated_subnets
    subnets: dict[str, list[ec2.Subnet]] = {tier.name: [] for tier in tiers}
    tier_of = {tier.name: tier for tier in tiers}
    for request, allocation in zip(requested, allocated):
        tier = tier_of[request.configuration.name]
        kind = ec2.PublicSubnet if tier.subnet_type == ec2.SubnetType.PUBLIC else ec2.PrivateSubnet
        subnet = kind(holder, request.subnet_construct_id, availability_zone=request.availability_zone,
                      vpc_id=cfn_vpc.ref, cidr_block=allocation.cidr, map_public_ip_on_launch=False)
        only_subnets = [ec2.CfnSubnet.CFN_RESOURCE_TYPE_NAME]
        cdk.Tags.of(subnet).add(_SUBNET_NAME_TAG, tier.name, include_resource_types=only_subnets)
        cdk.Tags.of(subnet).add(_SUBNET_TYPE_TAG, _type_tag(tier.subnet_type), include_resource_types=only_subnets)
        subnets[tier.name].append(subnet)

    public = [s for tier in tiers if tier.subnet_type == ec2.SubnetType.PUBLIC for s in subnets[tier.name]]
    egress = [s for tier in tiers if tier.subnet_type == ec2.SubnetType.PRIVATE_WITH_EGRESS
              for s in subnets[tier.name]]
    gateway = ec2.CfnInternetGateway(holder, "IGW")
    attachment = ec2.CfnVPCGatewayAttachment(holder, "VPCGW", internet_gateway_id=gateway.ref, vpc_id=cfn_vpc.ref)
    for subnet in public:
        subnet.add_default_internet_route(gateway.ref, attachment)

    vpc = ec2.Vpc.from_vpc_attributes(
        holder, "AsConsumersSeeIt", vpc_id=cfn_vpc.ref, vpc_cidr_block=cfn_vpc.attr_cidr_block,
        availability_zones=list(zones),
        **_imported_subnets(tiers, subnets))
    _carry_connectivity(vpc, gateway, subnets, tiers)

    built = ZonedVpc(vpc=vpc, scope=holder, cfn_vpc=cfn_vpc, subnets=subnets)
    nat_subnets = public[:nat_count]
    if nat_instances is None:
        exits = [subnet.add_nat_gateway().ref for subnet in nat_subnets]
        for subnet, exit_id in zip(egress, _pick_per_zone(nat_subnets, exits, egress)):
            subnet.add_default_nat_route(exit_id)
    else:
        _add_nat_instances(built, nat_instances, nat_subnets, egress)
    return built


def _add_nat_instances(built: ZonedVpc, spec: NatInstances, nat_subnets: list[ec2.Subnet],
                   egress: list[ec2.Subnet]) -> None:
    """What CDK's NatInstanceProviderV2 makes (its security group, with all outbound
    allowed and no inbound, its user data, no source/destination check, a public address),
    but in this VPC: that provider accepts only an `ec2.Vpc`."""
    group = ec2.SecurityGroup(built.scope, "NatSecurityGroup", vpc=built.vpc,
                              description="Security Group for NAT instances", allow_all_outbound=True)
    user_data = ec2.UserData.for_linux()
    user_data.add_commands(*ec2.NatInstanceProviderV2.DEFAULT_USER_DATA_COMMANDS)
    instances = []
    # The NAT subnets are the first public ones, which the imported VPC lists in the same order.
    for subnet, imported in zip(nat_subnets, built.vpc.public_subnets):
        instances.append(ec2.Instance(
            subnet, "NatInstance", instance_type=spec.instance_type, machine_image=spec.machine_image,
            source_dest_check=False, vpc=built.vpc,
            # The imported subnet: the VPC consumers see counts it as public.
            vpc_subnets=ec2.SubnetSelection(subnets=[imported]),
            associate_public_ip_address=True, security_group=group, user_data=user_data))
    exits = [instance.instance_id for instance in instances]
    for subnet, exit_id in zip(egress, _pick_per_zone(nat_subnets, exits, egress)):
        subnet.add_route("DefaultRoute", router_type=ec2.RouterType.INSTANCE, router_id=exit_id,
                         enables_internet_connectivity=True)
    built.nat_instances = instances
    built.nat_security_group = group


def _pick_per_zone(nat_subnets: list[ec2.Subnet], exits: list[str], egress: list[ec2.Subnet]) -> list[str]:
    """For each egress subnet, the NAT in its zone, or else the next one in turn: the
    choice CDK's NAT providers make (their PrefSet), so routes stay where they were."""
    by_zone = {subnet.availability_zone: exit_id for subnet, exit_id in zip(nat_subnets, exits)}
    turn = 0
    picked = []
    for subnet in egress:
        if subnet.availability_zone in by_zone:
            picked.append(by_zone[subnet.availability_zone])
        else:
            picked.append(exits[turn % len(exits)])
            turn += 1
    return picked


def _imported_subnets(tiers: Sequence[Tier], subnets: dict[str, list[ec2.Subnet]]) -> dict:
    keys = dict(zip(_TYPES, ("public", "private", "isolated")))
    attributes: dict[str, list] = {}
    for tier in sorted(tiers, key=lambda t: _TYPES.index(t.subnet_type)):
        key = keys[tier.subnet_type]
        attributes.setdefault(f"{key}_subnet_names", []).append(tier.name)  # one per group
        for subnet in subnets[tier.name]:
            attributes.setdefault(f"{key}_subnet_ids", []).append(subnet.subnet_id)
            attributes.setdefault(f"{key}_subnet_route_table_ids", []).append(subnet.route_table.route_table_id)
            attributes.setdefault(f"{key}_subnet_ipv4_cidr_blocks", []).append(subnet.ipv4_cidr_block)
    return attributes


def _carry_connectivity(vpc: ec2.IVpc, gateway: ec2.CfnInternetGateway,
                        subnets: dict[str, list[ec2.Subnet]], tiers: Sequence[Tier]) -> None:
    """The imported VPC's subnets depend on nothing; give each the real subnet's group of
    dependencies (its default route, to the internet gateway or a NAT, added later too: a
    group is read when the template is made), so a load balancer or NAT instance placed in
    it waits for the internet to be reachable, as with ec2.Vpc."""
    real = [s for kind in _TYPES for tier in tiers if tier.subnet_type == kind for s in subnets[tier.name]]
    imported = list(vpc.public_subnets) + list(vpc.private_subnets) + list(vpc.isolated_subnets)
    for mine, theirs in zip(real, imported):
        _group(theirs.internet_connectivity_established).add(mine.internet_connectivity_established)
    _group(vpc.internet_connectivity_established).add(gateway)


def _group(dependable) -> DependencyGroup:
    if not isinstance(dependable, DependencyGroup):
        raise TypeError(f"expected CDK's imported subnets to hold a DependencyGroup, got {type(dependable)}")
    return dependable


def _type_tag(subnet_type: ec2.SubnetType) -> str:
    return {ec2.SubnetType.PUBLIC: "Public", ec2.SubnetType.PRIVATE_WITH_EGRESS: "Private",
            ec2.SubnetType.PRIVATE_ISOLATED: "Isolated"}[subnet_type]


# The order of an imported VPC's subnets: public, then private, then isolated.
_TYPES = (ec2.SubnetType.PUBLIC, ec2.SubnetType.PRIVATE_WITH_EGRESS, ec2.SubnetType.PRIVATE_ISOLATED)
