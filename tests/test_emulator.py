"""Integration: the real CDK CLI and boto3, over HTTP, against the AWS emulator that runs
inside this process (wimpy_cli/local). One emulator, bootstrapped once, serves the module:

  first deploy   the example's staging stacks, created from nothing
  update         the same stacks from a changed wimpy.yml (another port and retention)
  no-op deploy   the changed wimpy.yml again: nothing to do, and nothing done

Each stage records what boto3 sees right after it (`Observed`), so each test checks the
stage it names whatever order the tests run in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from wimpy_domain import naming
from wimpy_domain.config import load_config
from wimpy_cli.local import LocalAws, bootstrap, deploy, moto_fixes
from wimpy_cli.local.bootstrap import (BOOTSTRAP_VERSION_PARAMETER, MACHINE_IMAGE_PARAMETERS,
                                       NAT_IMAGE_PARAMETERS)
from wimpy_cli.local.deployer import deploy_arguments
from tests.conftest import EXAMPLE

ACCOUNT, REGION = "111111111111", "eu-west-1"
ENV, APP = "staging", "hello"
STACKS = [naming.baseline_stack(), naming.environment_stack(ENV),
          naming.application_resources_stack(ENV, APP)]
CONTEXT = {"environments": ENV}


# -- what boto3 sees ---------------------------------------------------------------------

@dataclass
class Observed:
    stacks: dict[str, dict[str, Any]]
    events: dict[str, int]
    parameters: dict[str, str]
    ingress: dict[str, set[tuple]]  # security group id -> (protocol, from, to, source)
    log_retention: dict[str, int | None]
    flow_logs: dict[str, str]  # VPC id -> where its flow logs go
    flow_log_days: int | None  # the log bucket's expiry of them

    def parameter(self, name: str) -> str:
        assert name in self.parameters, f"SSM parameter {name} is missing"
        return self.parameters[name]


def rules(group: dict[str, Any]) -> set[tuple]:
    found = set()
    for permission in group["IpPermissions"]:
        key = (permission["IpProtocol"], permission.get("FromPort"), permission.get("ToPort"))
        found |= {(*key, pair["GroupId"]) for pair in permission.get("UserIdGroupPairs", [])}
        found |= {(*key, cidr["CidrIp"]) for cidr in permission.get("IpRanges", [])}
    return found


def observe(local: LocalAws) -> Observed:
    cloudformation, ssm = local.client("cloudformation"), local.client("ssm")
    ec2, logs = local.client("ec2"), local.client("logs")
    stacks = {name: cloudformation.describe_stacks(StackName=name)["Stacks"][0]
              for name in STACKS}
    events = {name: len(cloudformation.describe_stack_events(StackName=name)["StackEvents"])
              for name in STACKS}
    parameters = {p["Name"]: p["Value"]
                  for page in ssm.get_paginator("get_parameters_by_path").paginate(
                      Path=naming.PARAMETER_ROOT, Recursive=True)
                  for p in page["Parameters"]}
    groups = ec2.describe_security_groups()["SecurityGroups"]
    retention = {g["logGroupName"]: g.get("retentionInDays")
                 for g in logs.describe_log_groups()["logGroups"]}
    flow_logs = {f["ResourceId"]: f["LogDestination"] for f in ec2.describe_flow_logs()["FlowLogs"]}
    lifecycle = local.client("s3").get_bucket_lifecycle_configuration(
        Bucket=naming.log_bucket(ACCOUNT, REGION))["Rules"]
    flow_log_days = next((r["Expiration"]["Days"] for r in lifecycle
                          if r.get("ID") == "ExpireFlowLogs"), None)
    return Observed(stacks, events, parameters, {g["GroupId"]: rules(g) for g in groups},
                    retention, flow_logs, flow_log_days)


def example_with(tmp: Path, *replacements: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"the example wimpy.yml no longer has {old!r}"
        text = text.replace(old, new)
    path = tmp / "wimpy.yml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the stages --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def emulator():
    with LocalAws(ACCOUNT, REGION) as running:
        yield running


@pytest.fixture(scope="module")
def images(emulator) -> dict[str, str]:
    return bootstrap(emulator)


@pytest.fixture(scope="module")
def local(emulator, images) -> LocalAws:
    """The emulator, bootstrapped."""
    return emulator


@pytest.fixture(scope="module")
def first_deploy(local) -> Observed:
    deploy(local, EXAMPLE, STACKS, CONTEXT)
    return observe(local)


@pytest.fixture(scope="module")
def changed_config(tmp_path_factory) -> Path:
    return example_with(tmp_path_factory.mktemp("changed"),
                        ("  port: 8080\n", "  port: 9090\n"),
                        ("  region: eu-west-1\n", "  region: eu-west-1\n  log_retention_days: 30\n"))


@pytest.fixture(scope="module")
def update(local, first_deploy, changed_config) -> Observed:
    deploy(local, changed_config, STACKS, CONTEXT)
    return observe(local)


# -- the emulator itself -----------------------------------------------------------------

def test_the_stacks_are_bound_to_the_account_the_emulator_answers_as():
    """The CDK CLI refuses to deploy a stack bound to another account than the caller's."""
    account = load_config(EXAMPLE).account
    assert (account.id, account.region) == (ACCOUNT, REGION)


def test_deploy_passes_the_config_and_context_as_wimpy_synth_does(tmp_path):
    arguments = deploy_arguments(EXAMPLE, STACKS, CONTEXT, tmp_path)
    assert arguments[:1 + len(STACKS)] == ["deploy", *STACKS]
    assert f"config={EXAMPLE.resolve()}" in arguments and f"environments={ENV}" in arguments
    assert "never" == arguments[arguments.index("--require-approval") + 1]
    with pytest.raises(ValueError, match="config_path"):
        deploy_arguments(EXAMPLE, STACKS, {"config": "other.yml"}, tmp_path)
    with pytest.raises(ValueError, match="at least one stack"):
        deploy_arguments(EXAMPLE, [], {}, tmp_path)


def test_the_emulator_answers_as_the_configured_account(local):
    assert local.endpoint.startswith("http://localhost:")
    identity = local.client("sts").get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"].startswith(f"arn:aws:iam::{ACCOUNT}:")
    assert local.client("ec2").describe_availability_zones()["AvailabilityZones"][0][
        "RegionName"] == REGION


def test_the_environment_leaves_no_way_to_the_callers_aws_setup(local, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com")
    overrides = local.overrides()
    assert overrides["AWS_PROFILE"] is None and overrides["AWS_ENDPOINT_URL_S3"] is None
    assert overrides["AWS_ENDPOINT_URL"] == local.endpoint
    assert local.environment()["AWS_CONFIG_FILE"] == local.environment()[
        "AWS_SHARED_CREDENTIALS_FILE"]
    # boto3 through the emulator's own session ignores AWS_PROFILE (which does not exist).
    assert local.client("sts").get_caller_identity()["Account"] == ACCOUNT


def test_only_one_emulator_runs_in_a_process(local):
    with pytest.raises(RuntimeError, match="another LocalAws"):
        with LocalAws(ACCOUNT, REGION):
            pass
    assert local.client("sts").get_caller_identity()["Account"] == ACCOUNT  # still serving


def test_bootstrap_leaves_what_a_deploy_reads(local, images):
    toolkit = local.client("cloudformation").describe_stacks(StackName="CDKToolkit")["Stacks"][0]
    assert toolkit["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in toolkit["Outputs"]}
    ssm, ec2 = local.client("ssm"), local.client("ec2")
    version = ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    assert outputs["BootstrapVersion"] == version and int(version) >= 6
    local.client("s3").head_bucket(Bucket=outputs["BucketName"])
    for architecture, name in MACHINE_IMAGE_PARAMETERS.items():
        image_id = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        assert images[architecture] == image_id
        image, = ec2.describe_images(ImageIds=[image_id])["Images"]
        assert image["Architecture"] == architecture
    for architecture, name in NAT_IMAGE_PARAMETERS.items():  # the NAT instances'
        image_id = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        image, = ec2.describe_images(ImageIds=[image_id])["Images"]
        assert image["Architecture"] == architecture


# -- moto's gaps, fixed (wimpy_cli/local/moto_fixes.py), through the API -----------------------

SSM_TYPED = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Source": {"Type": "AWS::SSM::Parameter::Value<String>",
                              "Default": "/fixture/source"}},
    "Resources": {"Copy": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": "/fixture/{passed}/copy", "Type": "String", "Value": {"Ref": "Source"}}}},
}


def run_change_set(cloudformation, stack: str, template: dict, kind: str,
                   parameters: list[dict] | None = None) -> dict:
    created = cloudformation.create_change_set(
        StackName=stack, ChangeSetName="fixture", ChangeSetType=kind,
        TemplateBody=json.dumps(template), Parameters=parameters or [])
    described = cloudformation.describe_change_set(StackName=stack, ChangeSetName="fixture")
    assert described["ChangeSetId"] == created["Id"]
    if described["Status"] == "FAILED":
        return described
    cloudformation.execute_change_set(StackName=stack, ChangeSetName="fixture")
    return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]


def test_change_sets_behave_as_in_aws(local):
    cloudformation = local.client("cloudformation")
    # The CDK CLI's first step on every deploy: delete a leftover change set, if any.
    cloudformation.delete_change_set(StackName="wimpy-nothing", ChangeSetName="nothing")
    with pytest.raises(ClientError) as missing:
        cloudformation.describe_change_set(StackName="wimpy-nothing", ChangeSetName="nothing")
    assert missing.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    # Every stack's change set has the same name (cdk-deploy-change-set): each request
    # reaches the one of the stack it names.
    template = json.dumps({"Resources": {"Group": {"Type": "AWS::Logs::LogGroup"}}})
    for stack in ("fixture-one", "fixture-two"):
        cloudformation.create_change_set(StackName=stack, ChangeSetName="same",
                                         ChangeSetType="CREATE", TemplateBody=template)
    for stack in ("fixture-one", "fixture-two"):
        assert cloudformation.describe_change_set(StackName=stack, ChangeSetName="same")[
            "StackName"] == stack
    cloudformation.delete_change_set(StackName="fixture-one", ChangeSetName="same")
    cloudformation.execute_change_set(StackName="fixture-two", ChangeSetName="same")
    status = {stack: cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
              for stack in ("fixture-one", "fixture-two")}
    assert status == {"fixture-one": "REVIEW_IN_PROGRESS", "fixture-two": "CREATE_COMPLETE"}
    for stack in ("fixture-one", "fixture-two"):  # deleted; executed, then removed
        with pytest.raises(ClientError, match="ChangeSetNotFound"):
            cloudformation.describe_change_set(StackName=stack, ChangeSetName="same")
    for stack in ("fixture-one", "fixture-two"):
        cloudformation.delete_stack(StackName=stack)


def test_a_deploy_killed_between_creating_and_executing_its_change_set_wedges_nothing(local):
    """The CDK CLI killed after CreateChangeSet of a new stack leaves it in
    REVIEW_IN_PROGRESS; the next deploy's CREATE change set takes that empty stack's place
    (one stack, which then completes and deletes), and a CREATE for a stack that exists is
    refused, as on AWS."""
    cloudformation = local.client("cloudformation")
    template = json.dumps({"Resources": {"Group": {"Type": "AWS::Logs::LogGroup"}}})
    for _ in range(2):  # the killed deploy, then the next one
        cloudformation.create_change_set(StackName="fixture-killed", ChangeSetName="cdk-deploy-change-set",
                                         ChangeSetType="CREATE", TemplateBody=template)

    def live():
        return [s["StackStatus"] for s in cloudformation.list_stacks()["StackSummaries"]
                if s["StackName"] == "fixture-killed" and s["StackStatus"] != "DELETE_COMPLETE"]
    assert live() == ["REVIEW_IN_PROGRESS"]
    cloudformation.execute_change_set(StackName="fixture-killed", ChangeSetName="cdk-deploy-change-set")
    assert live() == ["CREATE_COMPLETE"]
    with pytest.raises(ClientError) as exists:
        cloudformation.create_change_set(StackName="fixture-killed", ChangeSetName="again",
                                         ChangeSetType="CREATE", TemplateBody=template)
    assert exists.value.response["Error"]["Code"] == "AlreadyExistsException"
    cloudformation.delete_stack(StackName="fixture-killed")
    assert live() == []


@pytest.mark.parametrize("passed", ["defaulted", "explicit"])
def test_an_update_keeps_ssm_typed_parameters_by_name(local, passed):
    """UsePreviousValue of an AWS::SSM::Parameter::Value<...> parameter is the parameter's
    name, resolved again, not the value it resolved to (which moto looked up as a name)."""
    ssm, cloudformation = local.client("ssm"), local.client("cloudformation")
    stack, copy = f"fixture-ssm-{passed}", f"/fixture/{passed}/copy"
    template = json.loads(json.dumps(SSM_TYPED).replace("{passed}", passed))
    ssm.put_parameter(Name="/fixture/source", Value="first", Type="String", Overwrite=True)
    given = [{"ParameterKey": "Source", "ParameterValue": "/fixture/source"}] \
        if passed == "explicit" else []
    assert run_change_set(cloudformation, stack, template, "CREATE", given)[
        "StackStatus"] == "CREATE_COMPLETE"
    assert ssm.get_parameter(Name=copy)["Parameter"]["Value"] == "first"

    previous = [{"ParameterKey": "Source", "UsePreviousValue": True}]
    unchanged = run_change_set(cloudformation, stack, template, "UPDATE", previous)
    assert unchanged["Status"] == "FAILED" and "didn't contain changes" in unchanged[
        "StatusReason"]

    changed = json.loads(json.dumps(template))
    changed["Resources"]["Copy"]["Properties"]["Description"] = "changed"
    ssm.put_parameter(Name="/fixture/source", Value="second", Type="String", Overwrite=True)
    assert run_change_set(cloudformation, stack, changed, "UPDATE", previous)[
        "StackStatus"] == "UPDATE_COMPLETE"
    assert ssm.get_parameter(Name=copy)["Parameter"]["Value"] == "second"
    cloudformation.delete_stack(StackName=stack)


def test_a_resource_moto_cannot_update_is_kept_and_still_referenced(local):
    """moto updates an AWS::KMS::Key by no means at all: it used to put None in its place,
    so every resource that referred to the key lost it on the next update."""
    cloudformation, ssm = local.client("cloudformation"), local.client("ssm")
    template = {"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {
            "Description": "first", "KeyPolicy": {"Version": "2012-10-17", "Statement": []}}},
        "KeyArn": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/fixture/key-arn", "Type": "String", "Description": "first",
            "Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }}
    run_change_set(cloudformation, "fixture-kept", template, "CREATE")
    key_arn = ssm.get_parameter(Name="/fixture/key-arn")["Parameter"]["Value"]
    for resource in template["Resources"].values():
        resource["Properties"]["Description"] = "second"
    assert run_change_set(cloudformation, "fixture-kept", template, "UPDATE")[
        "StackStatus"] == "UPDATE_COMPLETE"
    assert ssm.get_parameter(Name="/fixture/key-arn")["Parameter"]["Value"] == key_arn
    cloudformation.delete_stack(StackName="fixture-kept")


def test_a_failed_change_set_fails_the_stack_with_the_reason(local):
    cloudformation = local.client("cloudformation")
    broken = {"Resources": {"Copy": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": "/fixture/broken", "Type": "String",
        "Value": {"Fn::GetAtt": ["Nowhere", "Arn"]}}}}}
    stack = run_change_set(cloudformation, "fixture-broken", broken, "CREATE")
    assert stack["StackStatus"] == "ROLLBACK_FAILED"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cloudformation.describe_stack_events(StackName="fixture-broken")["StackEvents"]]
    assert any("failed to apply the change set" in reason for reason in reasons)
    cloudformation.delete_stack(StackName="fixture-broken")


def test_the_fixes_are_taken_back_when_the_last_user_is_done():
    from moto.cloudformation.models import CloudFormationBackend
    from moto.ec2.models.security_groups import SecurityGroupIngress

    before = (vars(CloudFormationBackend)["delete_change_set"], "delete" in vars(SecurityGroupIngress))
    undo = moto_fixes.apply()
    assert vars(CloudFormationBackend)["delete_change_set"].__module__ == moto_fixes.__name__
    undo()
    undo()  # twice is once
    assert (vars(CloudFormationBackend)["delete_change_set"],
            "delete" in vars(SecurityGroupIngress)) == before


# -- (a) first deploy --------------------------------------------------------------------

def test_first_deploy_creates_every_stack(first_deploy):
    for name in STACKS:
        assert first_deploy.stacks[name]["StackStatus"] == "CREATE_COMPLETE", name


def test_first_deploy_creates_the_network(local, first_deploy):
    ec2 = local.client("ec2")
    vpc_id = first_deploy.parameter(naming.environment_parameter(ENV, "vpc-id"))
    vpc, = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    for kind in ("public", "private", "isolated"):
        ids = first_deploy.parameter(naming.environment_parameter(ENV, f"{kind}-subnet-ids"))
        subnets = ec2.describe_subnets(SubnetIds=ids.split(","))["Subnets"]
        assert {s["VpcId"] for s in subnets} == {vpc_id}
        assert sorted(s["AvailabilityZone"] for s in subnets) == ["eu-west-1a", "eu-west-1b"]


def test_first_deploy_chains_the_security_groups(first_deploy):
    group = {name: first_deploy.parameter(naming.application_parameter(ENV, APP, f"{name}-security-group-id"))
             for name in ("load-balancer", "instance", "database")}
    assert first_deploy.ingress[group["instance"]] == {("tcp", 8080, 8080, group["load-balancer"])}
    assert ("tcp", 80, 80, "0.0.0.0/0") in first_deploy.ingress[group["load-balancer"]]
    assert ("tcp", 5432, 5432, group["instance"]) in first_deploy.ingress[group["database"]]
    assert not any(rule[1] == 22 for rules_ in first_deploy.ingress.values() for rule in rules_)


def test_first_deploy_publishes_the_instance_role(local, first_deploy):
    arn = first_deploy.parameter(naming.application_parameter(ENV, APP, "instance-role-arn"))
    role = local.client("iam").get_role(RoleName=arn.rsplit("/", 1)[-1])["Role"]
    assert role["Arn"] == arn
    assert "ec2.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])


def test_first_deploy_creates_the_master_key_and_buckets(local, first_deploy):
    kms, s3 = local.client("kms"), local.client("s3")
    key_arn = first_deploy.parameter(naming.baseline_parameter("master-key-arn"))
    key = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert key["Arn"] == key_arn and key["Enabled"]
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/wimpy/master"] == key["KeyId"]
    # (moto applies a bucket's encryption and tags from a template, not its versioning.)
    def encryption(bucket: str) -> dict[str, str]:
        rule, = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"]
        return rule["ApplyServerSideEncryptionByDefault"]

    storage = encryption(naming.storage_bucket(ACCOUNT, REGION))
    assert storage["SSEAlgorithm"] == "aws:kms" and storage["KMSMasterKeyID"] == key_arn
    assert encryption(naming.log_bucket(ACCOUNT, REGION))["SSEAlgorithm"] == "AES256"
    assert first_deploy.log_retention[naming.application_log_group(ENV, APP)] == 365
    # Flow logs go to the log bucket, in the environment's folder, kept as long as the logs.
    vpc = first_deploy.parameter(naming.environment_parameter(ENV, "vpc-id"))
    assert first_deploy.flow_logs[vpc] == (
        f"arn:aws:s3:::{naming.log_bucket(ACCOUNT, REGION)}/vpc-flow-logs/{ENV}/")
    assert first_deploy.flow_log_days == 365


# -- (b) update --------------------------------------------------------------------------

def test_an_update_completes_and_changes_what_changed(first_deploy, update):
    for name in STACKS:
        assert update.stacks[name]["StackStatus"] == "UPDATE_COMPLETE", name
    lb, instance = (update.parameter(naming.application_parameter(ENV, APP, f"{name}-security-group-id"))
                    for name in ("load-balancer", "instance"))
    assert update.ingress[instance] == {("tcp", 9090, 9090, lb)}  # 8080 is gone
    assert update.log_retention[naming.application_log_group(ENV, APP)] == 30
    assert set(update.log_retention.values()) == {30}  # the trail's too
    assert update.flow_log_days == 30


def test_an_update_keeps_what_did_not_change(first_deploy, update):
    """Same VPC, groups, role and key: the update modified them in place, replaced nothing."""
    assert update.parameters == first_deploy.parameters


# -- (c) nothing changed -----------------------------------------------------------------

def test_a_deploy_with_nothing_changed_does_nothing(local, update, changed_config, monkeypatch):
    # The caller's own AWS setup must not leak into the CLI's run: this profile does not
    # exist, and this endpoint does not answer.
    monkeypatch.setenv("AWS_PROFILE", "wimpy-test-missing-profile")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", "http://127.0.0.1:9")
    deploy(local, changed_config, STACKS, CONTEXT)
    after = observe(local)
    for name in STACKS:
        assert after.stacks[name]["StackStatus"] == "UPDATE_COMPLETE", name
    assert after.events == update.events  # no change set was executed (moto has no
    # LastUpdatedTime; each execution adds IN_PROGRESS and COMPLETE events)
    assert after.parameters == update.parameters and after.ingress == update.ingress
