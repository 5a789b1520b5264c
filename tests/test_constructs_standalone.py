"""The construct library on its own: another CDK app uses it with plain CDK objects, no
wimpy.yml and no CLI, and bad arguments are refused with the argument's name."""

from __future__ import annotations

import pytest


@pytest.fixture
def stack():
    import aws_cdk as cdk

    app = cdk.App()
    return cdk.Stack(app, "Standalone", env=cdk.Environment(account="222222222222", region="us-east-1"))


def test_all_three_constructs_compose_in_a_foreign_app(stack):
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk.assertions import Match, Template

    from wimpy_constructs import AccountBaseline, ApplicationAccess, EnvironmentNetwork

    baseline = AccountBaseline(stack, "Baseline")
    network = EnvironmentNetwork(stack, "Net", cidr="172.16.0.0/20",
                                 availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"],
                                 nat_gateways=1, log_key=baseline.master_key)
    access = ApplicationAccess(stack, "Api", vpc=network.vpc, storage_bucket=baseline.storage_bucket,
                               storage_prefix="qa/api", master_key=baseline.master_key, app_port=3000,
                               listener_ports=[443])
    # connections: another construct can be allowed in the CDK way.
    other = ec2.SecurityGroup(stack, "Other", vpc=network.vpc)
    access.connections.allow_from(other, ec2.Port.tcp(3000), "peer")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::Subnet", 9)
    # No fixed name of Wimpy's: CloudFormation names the log group and the key has no alias.
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": Match.absent()})
    template.resource_count_is("AWS::KMS::Alias", 0)
    assert isinstance(access.connections, ec2.Connections)
    # The rule landed: the other group may reach the instances (the group behind
    # `connections`, the one the load balancer reaches) on 3000, and on nothing else.
    (instances,) = access.connections.security_groups
    app_group = {"Fn::GetAtt": [stack.get_logical_id(instances.node.default_child), "GroupId"]}
    other_group = {"Fn::GetAtt": [stack.get_logical_id(other.node.default_child), "GroupId"]}
    ingress = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()]
    assert [rule for rule in ingress if rule.get("SourceSecurityGroupId") == other_group] == [{
        "GroupId": app_group, "SourceSecurityGroupId": other_group, "IpProtocol": "tcp",
        "FromPort": 3000, "ToPort": 3000, "Description": "peer"}]
    assert sorted(rule["Description"] for rule in ingress if rule["GroupId"] == app_group) == [
        "Load balancer to the app port", "peer"]


def test_grant_storage_read_write_to_another_principal(stack):
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Match, Template

    from wimpy_constructs import AccountBaseline, ApplicationAccess, EnvironmentNetwork

    baseline = AccountBaseline(stack, "Baseline")
    network = EnvironmentNetwork(stack, "Net", cidr="10.9.0.0/16",
                                 availability_zones=["us-east-1a", "us-east-1b"], nat_gateways=1)
    access = ApplicationAccess(stack, "Web", vpc=network.vpc, storage_bucket=baseline.storage_bucket,
                               storage_prefix="prod/web", master_key=baseline.master_key, app_port=80)
    job = iam.Role(stack, "BatchJob", assumed_by=iam.ServicePrincipal("batch.amazonaws.com"))
    access.grant_storage_read_write(job)
    Template.from_stack(stack).has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": Match.string_like_regexp("BatchJob")}],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["prod/web/", "prod/web/*"]}}})])},
    })


@pytest.mark.parametrize("kwargs, message", [
    ({"storage_prefix": "prod/web/"}, "storage_prefix must look like 'production/web'"),
    ({"storage_prefix": "prod/*"}, "storage_prefix must look like"),
    ({"app_port": 0}, "app_port must be a port from 1 to 65535, got 0"),
    ({"database_ports": [5432, 70000]}, r"database_ports\[1\] must be a port from 1 to 65535, got 70000"),
    ({"listener_ports": ["443"]}, r"listener_ports\[0\] must be a port from 1 to 65535, got '443'"),
])
def test_access_refuses_bad_arguments(stack, kwargs, message):
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    from wimpy_constructs import ApplicationAccess

    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["us-east-1a", "us-east-1b"],
                  restrict_default_security_group=False)
    arguments = {"vpc": vpc, "storage_bucket": s3.Bucket(stack, "B"), "storage_prefix": "prod/web",
                 "master_key": kms.Key(stack, "K"), "app_port": 8080, **kwargs}
    with pytest.raises(ValueError, match=message.replace("*", r"\*").replace("(", r"\(")):
        ApplicationAccess(stack, "Access", **arguments)


@pytest.mark.parametrize("kwargs, message", [
    ({"cidr": "10.0.0.0/26"}, "too small for 3 tiers in 2 zones"),
    ({"cidr": "ten"}, "cidr must be an IPv4 CIDR block"),
    ({"nat_gateways": 3}, "nat_gateways must be between 1 and the number of zones \\(2\\), got 3"),
    ({"availability_zones": ["us-east-1a"]}, "availability_zones must list 2 to 6 zones, got 1"),
    ({"availability_zones": ["us-east-1a", "eu-west-1b"]},
     "availability_zones must be zones of the stack's region us-east-1 \\(like us-east-1a\\), got 'eu-west-1b'"),
])
def test_network_refuses_bad_arguments(stack, kwargs, message):
    from wimpy_constructs import EnvironmentNetwork

    arguments = {"cidr": "10.0.0.0/16", "availability_zones": ["us-east-1a", "us-east-1b"],
                 "nat_gateways": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        EnvironmentNetwork(stack, "Net", **arguments)


def test_baseline_refuses_a_bad_alias(stack):
    from wimpy_constructs import AccountBaseline

    with pytest.raises(ValueError, match="master_key_alias must start with 'alias/'"):
        AccountBaseline(stack, "Baseline", master_key_alias="wimpy")


def test_acknowledgements_need_a_real_reason(stack):
    from wimpy_constructs.compliance import acknowledge

    with pytest.raises(ValueError, match="reason must explain itself"):
        acknowledge(stack, "S1", "false positive")


NETWORK_SHAPES = {
    "two NAT gateways in three zones, flow logs to a group": dict(
        cidr="10.1.0.0/16", availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"], nat_gateways=2),
    "one NAT instance, flow logs to a bucket": dict(
        cidr="10.3.0.0/20", availability_zones=["eu-west-1a", "eu-west-1b"], nat_gateways=1, nat="instance"),
    "two x86 NAT instances in three zones": dict(
        cidr="10.4.0.0/16", availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"], nat_gateways=2,
        nat="instance", nat_instance_type="t3.micro"),
}


def _network_app(build_network, shape: dict, stack_class=None):
    """An account-bound stack with a network built by `build_network(stack, **shape)` and
    what consumers put in it: an internet-facing load balancer, a group, subnets selected
    by group name and type. (app, stack)"""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_elasticloadbalancingv2 as elbv2
    from aws_cdk import aws_s3 as s3

    app = cdk.App()
    stack = (stack_class or cdk.Stack)(app, "Net", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    shape = dict(shape)
    if shape.get("nat") == "instance" and shape["nat_gateways"] == 1:
        shape.update(flow_log_bucket=s3.Bucket(stack, "Logs"), flow_log_prefix="staging")
    vpc = build_network(stack, **shape)
    elbv2.ApplicationLoadBalancer(stack, "Balancer", vpc=vpc, internet_facing=True)
    ec2.SecurityGroup(stack, "Instances", vpc=vpc)
    cdk.CfnOutput(stack, "Private", value=",".join(vpc.select_subnets(subnet_group_name="Private").subnet_ids))
    cdk.CfnOutput(stack, "Isolated", value=",".join(
        vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids))
    cdk.CfnOutput(stack, "Range", value=vpc.vpc_cidr_block)
    return app, stack


def _cdk_vpc(stack, *, cidr, availability_zones, nat_gateways, nat="gateway", nat_instance_type="t4g.nano",
             flow_log_bucket=None, flow_log_prefix=None):
    """EnvironmentNetwork as it was built on ec2.Vpc, which needs its stack to answer the
    zones itself."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_logs as logs
    from constructs import Construct

    from wimpy_constructs import environment_network as built

    from wimpy_constructs import defaults

    network = Construct(stack, "Network")
    if flow_log_bucket is None:
        group = logs.LogGroup(network, "FlowLogs", retention=defaults.LOG_RETENTION,
                              removal_policy=cdk.RemovalPolicy.RETAIN)
        destination = ec2.FlowLogDestination.to_cloud_watch_logs(group)
    else:
        destination = ec2.FlowLogDestination.to_s3(flow_log_bucket,
                                                   f"{defaults.FLOW_LOG_PREFIX}/{flow_log_prefix}/")
    mask = built._subnet_mask(cidr, len(availability_zones))
    provider = None
    if nat == "instance":
        kind = ec2.InstanceType(nat_instance_type)
        arm = kind.architecture == ec2.InstanceArchitecture.ARM_64
        provider = ec2.NatProvider.instance_v2(
            instance_type=kind, default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
            associate_public_ip_address=True, machine_image=ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64 if arm else ec2.AmazonLinuxCpuType.X86_64))
    vpc = ec2.Vpc(
        network, "Vpc", ip_addresses=ec2.IpAddresses.cidr(cidr), availability_zones=availability_zones,
        nat_gateways=nat_gateways, nat_gateway_provider=provider,
        gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)])},
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=mask,
                                    map_public_ip_on_launch=False),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=mask),
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=mask)],
        flow_logs={"All": ec2.FlowLogOptions(destination=destination, traffic_type=ec2.FlowLogTrafficType.ALL)},
        restrict_default_security_group=False)
    for subnet in vpc.public_subnets + vpc.private_subnets + vpc.isolated_subnets:
        built._allow_pinned_zone(subnet)
    if provider is not None:
        provider.connections.allow_from(ec2.Peer.ipv4(cidr), ec2.Port.all_traffic(), "The VPC's egress")
        for instance in provider.gateway_instances:
            built._harden_nat_instance(network, instance)
            built._allow_pinned_zone(instance)
    vpc.add_interface_endpoint("Ecr", service=ec2.InterfaceVpcEndpointAwsService.ECR)
    return vpc


@pytest.mark.parametrize("shape", NETWORK_SHAPES.values(), ids=NETWORK_SHAPES.keys())
def test_a_network_in_a_plain_account_bound_stack_needs_no_lookup_and_is_the_vpc_cdk_would_make(shape):
    """A team's own stack, bound to its account and region, synthesizes offline: nothing is
    left for the CDK CLI to look up in AWS, and nothing is asked of the stack. And the
    network is, resource for resource, what CDK's ec2.Vpc made from the same zones (in a
    stack that answers the zones itself, as Wimpy's own did): the same logical ids,
    properties and dependencies, a load balancer waiting for the internet routes, an
    interface endpoint added where ec2.Vpc put its own. So an environment deployed before
    keeps its VPC, and a CDK upgrade that changed ec2.Vpc's layout shows here."""
    import json
    from pathlib import Path

    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk.assertions import Annotations, Match, Template

    from wimpy_constructs import EnvironmentNetwork

    def ours(stack, **kwargs):
        network = EnvironmentNetwork(stack, "Network", **kwargs)
        network.add_interface_endpoint("Ecr", service=ec2.InterfaceVpcEndpointAwsService.ECR)
        return network.vpc

    class ZonesNeverAsked(cdk.Stack):
        @property
        def availability_zones(self):
            raise AssertionError("the network asked its stack for the region's zones")

    app, stack = _network_app(ours, shape, ZonesNeverAsked)
    manifest = json.loads((Path(app.synth().directory) / "manifest.json").read_text())
    assert manifest.get("missing", []) == []
    assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []

    class ZonesAnswered(cdk.Stack):
        @property
        def availability_zones(self):
            return shape["availability_zones"]

    _, reference = _network_app(_cdk_vpc, shape, ZonesAnswered)
    expected = Template.from_stack(reference).to_json()
    assert len(expected["Resources"]) > 30
    assert Template.from_stack(stack).to_json() == expected
