"""Application access: exactly internet -> load balancer -> app -> databases, no SSH,
and an instance role limited to the application's own things."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def resources(example_stacks):
    from aws_cdk.assertions import Template

    return Template.from_stack(example_stacks.application_resources["production"])


def security_groups(template) -> dict[str, str]:
    """Logical id -> role (load-balancer / instance / database), from the construct ids."""
    names = {}
    for logical_id in template.find_resources("AWS::EC2::SecurityGroup"):
        for role in ("LoadBalancer", "Instance", "Database"):
            if logical_id.startswith(f"Access{role}SecurityGroup"):
                names[logical_id] = role
    assert len(names) == 3, names
    return names


def ingress_rules(template) -> set[tuple]:
    """Every ingress rule as (target, source, from_port, to_port), inline or standalone."""
    groups = security_groups(template)
    rules = set()
    for logical_id, group in template.find_resources("AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            source = rule.get("CidrIp") or rule.get("CidrIpv6") or groups[rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]]
            rules.add((groups[logical_id], source, rule["IpProtocol"], rule["FromPort"], rule["ToPort"]))
    for rule in template.find_resources("AWS::EC2::SecurityGroupIngress").values():
        props = rule["Properties"]
        target = groups[props["GroupId"]["Fn::GetAtt"][0]]
        source = props.get("CidrIp") or props.get("CidrIpv6") or groups[props["SourceSecurityGroupId"]["Fn::GetAtt"][0]]
        rules.add((target, source, props["IpProtocol"], props["FromPort"], props["ToPort"]))
    return rules


def test_only_the_three_paths_are_open(resources):
    assert ingress_rules(resources) == {
        ("LoadBalancer", "0.0.0.0/0", "tcp", 80, 80),
        ("LoadBalancer", "0.0.0.0/0", "tcp", 443, 443),
        ("Instance", "LoadBalancer", "tcp", 8080, 8080),
        ("Database", "Instance", "tcp", 5432, 5432),
    }


def test_no_ssh_and_no_port_range_anywhere(resources):
    for _, _, protocol, low, high in ingress_rules(resources):
        assert protocol == "tcp" and low == high and not low <= 22 <= high


def test_http_only_without_a_domain(example_config):
    import dataclasses

    from aws_cdk.assertions import Template

    from tests.conftest import synthesize

    plain = dataclasses.replace(example_config, hosted_zone=None)
    _, stacks = synthesize(plain)
    rules = ingress_rules(Template.from_stack(stacks.application_resources["staging"]))
    assert ("LoadBalancer", "0.0.0.0/0", "tcp", 443, 443) not in rules
    assert ("LoadBalancer", "0.0.0.0/0", "tcp", 80, 80) in rules


def test_egress_is_limited(resources):
    groups = security_groups(resources)
    egress = set()
    for logical_id, group in resources.find_resources("AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupEgress", []):
            destination = rule.get("CidrIp") or groups.get(
                rule.get("DestinationSecurityGroupId", {}).get("Fn::GetAtt", [None])[0])
            egress.add((groups[logical_id], destination, rule["IpProtocol"], rule.get("FromPort"), rule.get("ToPort")))
    for rule in resources.find_resources("AWS::EC2::SecurityGroupEgress").values():
        props = rule["Properties"]
        egress.add((groups[props["GroupId"]["Fn::GetAtt"][0]],
                    groups[props["DestinationSecurityGroupId"]["Fn::GetAtt"][0]],
                    props["IpProtocol"], props["FromPort"], props["ToPort"]))
    assert egress == {
        ("LoadBalancer", "Instance", "tcp", 8080, 8080),
        ("Instance", "Database", "tcp", 5432, 5432),
        ("Instance", "0.0.0.0/0", "tcp", 443, 443),
        # CDK's marker for "no egress at all" on a group with allow_all_outbound=False
        ("Database", "255.255.255.255/32", "icmp", 252, 86),
    }


def test_instance_role_uses_session_manager_not_ssh_and_no_managed_policy(resources):
    """AmazonSSMManagedInstanceCore allows ssm:GetParameter* on *: every application could
    read every other's secrets. The role holds only what Session Manager needs."""
    from aws_cdk.assertions import Match

    (role,) = resources.find_resources("AWS::IAM::Role", {"Properties": {
        "AssumeRolePolicyDocument": {"Statement": [Match.object_like({
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})]}}}).values()
    assert "ManagedPolicyArns" not in role["Properties"]
    (session,) = [p for key, p in resources.find_resources("AWS::IAM::Policy").items()
                  if key.startswith("AccessSessionManagerPolicy")]
    assert session["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "ssm:UpdateInstanceInformation", "Effect": "Allow",
         "Resource": "arn:aws:ec2:eu-west-1:111111111111:instance/*"},
        {"Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
         "Effect": "Allow", "Resource": "*"},
    ]


def test_resourceless_actions_are_isolated_in_their_own_policies(resources):
    """Actions that take no resource (ECR login, Session Manager's channels) sit in
    policies of their own, so their wildcard acknowledgement covers nothing else."""
    policies = resources.find_resources("AWS::IAM::Policy")
    wildcard = {key: p["Properties"]["PolicyDocument"]["Statement"] for key, p in policies.items()
                if any(s["Resource"] == "*" for s in p["Properties"]["PolicyDocument"]["Statement"])}
    assert sorted(key.split("Policy")[0] for key in wildcard) == ["AccessRegistryLogin",
                                                                  "AccessSessionManager"]
    (login,) = [statements for key, statements in wildcard.items() if "RegistryLogin" in key]
    assert login == [{"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"}]


def test_pull_only_from_the_apps_own_repository(resources):
    statements = [s for p in resources.find_resources("AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]
                  if any(str(a).startswith("ecr:Batch") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    assert [s["Resource"] for s in statements] == [
        "arn:aws:ecr:eu-west-1:111111111111:repository/wimpy/hello"]


def test_log_group_is_the_apps_own_encrypted_retained_and_outlives_the_resources(example_stacks, resources):
    """The log group lives in the data stack, which `wimpy destroy` keeps, so a later
    deploy finds it instead of failing on the name the kept group holds."""
    from aws_cdk.assertions import Match, Template

    assert resources.find_resources("AWS::Logs::LogGroup") == {}
    data = Template.from_stack(example_stacks.application_data["production"])
    assert len(data.find_resources("AWS::Logs::LogGroup")) == 1
    data.has_resource("AWS::Logs::LogGroup", {
        "Properties": {"LogGroupName": "/wimpy/production/hello", "RetentionInDays": 365,
                       "KmsKeyId": {"Ref": Match.string_like_regexp("masterkeyarn")}},
        "DeletionPolicy": "Retain",
    })


def test_secrets_are_readable_by_parameter_name_only(resources):
    from aws_cdk.assertions import Match

    resources.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([{
        "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Effect": "Allow",
        "Resource": "arn:aws:ssm:eu-west-1:111111111111:parameter/hello/api-token"}])}})


def test_resources_are_published_for_the_deploy_stacks(resources):
    names = {r["Properties"]["Name"] for r in resources.find_resources("AWS::SSM::Parameter").values()}
    assert names == {f"/wimpy/production/hello/{n}" for n in (
        "load-balancer-security-group-id", "instance-security-group-id",
        "database-security-group-id", "instance-role-arn", "log-group-name", "alarm-topic-arn")}


def test_vpc_and_key_come_from_ssm_at_deploy_time(resources):
    parameters = resources.to_json()["Parameters"]
    ssm = {p["Default"] for p in parameters.values() if p["Type"].startswith("AWS::SSM::Parameter::Value")}
    assert {"/wimpy/production/network/vpc-id", "/wimpy/baseline/master-key-arn"} <= ssm
