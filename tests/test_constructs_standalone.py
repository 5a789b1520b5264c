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
    ({"app_port": 0}, "app_port must be ports from 1 to 65535, got 0"),
    ({"database_ports": [70000]}, "database_ports must be ports from 1 to 65535, got 70000"),
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


def test_a_network_in_an_account_bound_stack_says_how_to_avoid_the_zone_lookup():
    """CDK's VPC asks its stack for the region's zones even when given them, which an
    account-and-region stack looks up in AWS with credentials. The network says how to
    make that lookup go away; once the stack pins its zones, none is left."""
    import json
    from pathlib import Path

    import aws_cdk as cdk
    from aws_cdk.assertions import Annotations, Match

    from wimpy_constructs import EnvironmentNetwork

    zones = ["eu-west-1a", "eu-west-1b"]
    env = cdk.Environment(account="123456789012", region="eu-west-1")

    class Pinned(cdk.Stack):
        @property
        def availability_zones(self):
            return zones

    for stack_class, lookups in ((cdk.Stack, 1), (Pinned, 0)):
        app = cdk.App()
        stack = stack_class(app, "Net", env=env)
        EnvironmentNetwork(stack, "Network", cidr="10.0.0.0/16", availability_zones=zones, nat_gateways=1)
        warnings = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("override the stack's availability_zones property"))
        assert len(warnings) == lookups
        manifest = json.loads((Path(app.synth().directory) / "manifest.json").read_text())
        assert len(manifest.get("missing", [])) == lookups
