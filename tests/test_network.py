"""Environment networks: one VPC per environment from its own CIDR, three subnet tiers in
the configured zones, NAT as configured, flow logs on."""

from __future__ import annotations

import ipaddress

import pytest


def template_of(example_stacks, env):
    from aws_cdk.assertions import Template

    return Template.from_stack(example_stacks.environments[env])


@pytest.mark.parametrize("env, cidr, nats", [("staging", "10.0.0.0/16", 1),
                                             ("production", "10.1.0.0/16", 2)])
def test_vpc_subnets_and_nat(example_stacks, env, cidr, nats):
    template = template_of(example_stacks, env)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": cidr, "EnableDnsSupport": True,
                                                       "EnableDnsHostnames": True})
    # NAT instances by default, one per zone in production.
    template.resource_count_is("AWS::EC2::Instance", nats)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    subnets = template.find_resources("AWS::EC2::Subnet").values()
    assert len(subnets) == 6  # 3 tiers x 2 zones
    network = ipaddress.IPv4Network(cidr)
    blocks = [ipaddress.IPv4Network(s["Properties"]["CidrBlock"]) for s in subnets]
    assert all(block.subnet_of(network) for block in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    assert {s["Properties"]["AvailabilityZone"] for s in subnets} == {"eu-west-1a", "eu-west-1b"}
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)


@pytest.fixture(scope="module")
def with_nat_gateways(example_config):
    """The example with AWS's NAT gateways instead of NAT instances."""
    import dataclasses

    from tests.conftest import synthesize

    config = dataclasses.replace(example_config, environments=tuple(
        dataclasses.replace(environment, nat="gateway") for environment in example_config.environments))
    return synthesize(config, with_release=False)[1]


@pytest.mark.parametrize("nat", ["instance", "gateway"])
def test_subnet_tiers_route_as_intended(example_stacks, with_nat_gateways, nat):
    """Public subnets reach the internet gateway, private ones a NAT (instance or gateway)
    and S3's gateway endpoint, isolated ones nothing outside the VPC."""
    stacks = example_stacks if nat == "instance" else with_nat_gateways
    template = template_of(stacks, "staging").to_json()
    resources = template["Resources"]
    tiers = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::EC2::Subnet":
            tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
            tiers[logical_id] = tags["aws-cdk:subnet-name"]
    routes_by_subnet = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::EC2::SubnetRouteTableAssociation":
            subnet = resource["Properties"]["SubnetId"]["Ref"]
            table = resource["Properties"]["RouteTableId"]["Ref"]
            routes_by_subnet[subnet] = [
                r["Properties"] for r in resources.values()
                if r["Type"] == "AWS::EC2::Route" and r["Properties"]["RouteTableId"]["Ref"] == table]
    for subnet, tier in tiers.items():
        routes = routes_by_subnet[subnet]
        if tier == "Public":
            assert [("GatewayId" in r) for r in routes] == [True]
        elif tier == "Private":
            target = "InstanceId" if nat == "instance" else "NatGatewayId"
            assert [(target in r, r["DestinationCidrBlock"]) for r in routes] == [(True, "0.0.0.0/0")]
        else:
            assert routes == [], f"isolated subnet {subnet} must have no route out"
    (endpoint,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    assert endpoint["VpcEndpointType"] == "Gateway" and ".s3" in str(endpoint["ServiceName"])
    private_tables = {resource["Properties"]["RouteTableId"]["Ref"] for logical_id, resource in resources.items()
                      if resource["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
                      and tiers[resource["Properties"]["SubnetId"]["Ref"]] == "Private"}
    assert {table["Ref"] for table in endpoint["RouteTableIds"]} == private_tables


def test_nat_instances_are_hardened_and_reachable_from_the_vpc_only(example_stacks):
    resources = template_of(example_stacks, "production").to_json()["Resources"]
    instances = [r for r in resources.values() if r["Type"] == "AWS::EC2::Instance"]
    assert len(instances) == 2
    for instance in instances:
        properties = instance["Properties"]
        assert properties["InstanceType"] == "t4g.nano" and properties["SourceDestCheck"] is False
        assert properties["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
        (interface,) = properties["NetworkInterfaces"]
        assert interface["AssociatePublicIpAddress"] is True  # its own way out
        template = resources[properties["LaunchTemplate"]["LaunchTemplateId"]["Ref"]]["Properties"]
        assert template["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
        assert "LaunchTemplateName" not in template  # a fixed name would clash across environments
        (group,) = interface["GroupSet"]
        rules = resources[group["Fn::GetAtt"][0]]["Properties"]["SecurityGroupIngress"]
        assert [(rule["CidrIp"], rule["IpProtocol"]) for rule in rules] == [("10.1.0.0/16", "-1")]
        role = resources[resources[properties["IamInstanceProfile"]["Ref"]]["Properties"]["Roles"][0]["Ref"]]
        assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]
    # No policy grants the NAT instances' roles anything.
    nat_roles = {resources[i["Properties"]["IamInstanceProfile"]["Ref"]]["Properties"]["Roles"][0]["Ref"]
                 for i in instances}
    assert not [r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
                and {x["Ref"] for x in r["Properties"]["Roles"]} & nat_roles]


def test_nat_gateways_when_asked(with_nat_gateways):
    template = template_of(with_nat_gateways, "production")
    template.resource_count_is("AWS::EC2::NatGateway", 2)
    template.resource_count_is("AWS::EC2::Instance", 0)


def test_flow_logs_capture_all_traffic_into_the_log_bucket_under_the_environments_folder(example_stacks):
    """Vended logs delivered to S3 cost half of CloudWatch Logs' ingestion in eu-west-1; the
    baseline's bucket allows the delivery and expires them (tests/test_baseline.py)."""
    for env in ("staging", "production"):
        template = template_of(example_stacks, env)
        template.has_resource_properties("AWS::EC2::FlowLog", {
            "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "s3",
            "LogDestination": f"arn:aws:s3:::wimpy-logs-111111111111-eu-west-1/vpc-flow-logs/{env}/"})
        template.resource_count_is("AWS::EC2::FlowLog", 1)
        template.resource_count_is("AWS::Logs::LogGroup", 0)


def test_the_network_construct_alone_keeps_its_flow_logs_in_an_encrypted_retained_group():
    """Without a bucket (the library's default), a log group of its own, as before."""
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Match, Template

    from wimpy_constructs import EnvironmentNetwork

    stack = cdk.Stack(cdk.App(), "Alone", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    key = kms.Key(stack, "Key")
    EnvironmentNetwork(stack, "Net", cidr="10.4.0.0/16", availability_zones=["eu-west-1a", "eu-west-1b"],
                       nat_gateways=1, log_key=key)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::EC2::FlowLog", {"LogDestinationType": "cloud-watch-logs"})
    template.has_resource("AWS::Logs::LogGroup", {
        "Properties": {"RetentionInDays": 365, "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]}},
        "DeletionPolicy": "Retain"})


@pytest.mark.parametrize("prefix", ["", "a/b"])
def test_a_flow_log_folder_is_one_name(prefix):
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from wimpy_constructs import EnvironmentNetwork

    stack = cdk.Stack(cdk.App(), "Alone")
    bucket = s3.Bucket.from_bucket_name(stack, "Logs", "logs")
    with pytest.raises(ValueError, match="flow_log_prefix must be one folder name"):
        EnvironmentNetwork(stack, "Net", cidr="10.4.0.0/16", availability_zones=["eu-west-1a", "eu-west-1b"],
                           nat_gateways=1, flow_log_bucket=bucket, flow_log_prefix=prefix)


def test_environment_publishes_its_network_through_ssm_not_exports(example_stacks):
    template = template_of(example_stacks, "staging").to_json()
    names = {r["Properties"]["Name"] for r in template["Resources"].values()
             if r["Type"] == "AWS::SSM::Parameter"}
    assert names == {f"/wimpy/staging/network/{n}" for n in
                     ("vpc-id", "public-subnet-ids", "private-subnet-ids", "isolated-subnet-ids",
                      "public-route-table-ids", "private-route-table-ids")}
    assert not any("Export" in o for o in template.get("Outputs", {}).values())
