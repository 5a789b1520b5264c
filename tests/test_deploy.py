"""`wimpy deploy` with the rolling strategy, through the real CDK CLI and boto3 against the
embedded AWS emulator: a first deploy creates every stack, a second version updates the
application stack in place, and the guards (lock, credentials, rollback report) hold.

The emulator does not act out update policies or signals (see wimpy_cli/local/__init__.py), so
the rollout itself is proven in the template (tests/test_service.py) and on the instance
side with Docker (tests/test_instance_runtime.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from wimpy_cli.errors import ExitCode
from wimpy_cli.main import app
from wimpy_cli.toolchain import PROJECT_ROOT
from wimpy_cli.release.store import RecordStore
from tests.lock_support import lock_holder, plant_lock
from tests.conftest import EXAMPLE

runner = CliRunner()
STACK = "wimpy-staging-hello"
ECR = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello"




def deploy(*args):
    result = runner.invoke(app, ["deploy", "-c", str(EXAMPLE), "--env", "staging", "--local",
                                 "--json", *args])
    return result


def launch_template_user_data(local) -> str:
    """The application's launch template's user data (the network's NAT instances have
    launch templates too, with metadata options only)."""
    ec2 = local.client("ec2")
    found = []
    for template in ec2.describe_launch_templates()["LaunchTemplates"]:
        (version,) = ec2.describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], Versions=["$Latest"])["LaunchTemplateVersions"]
        if "UserData" in version["LaunchTemplateData"]:
            found.append(base64.b64decode(version["LaunchTemplateData"]["UserData"]).decode())
    (user_data,) = found
    return user_data


@pytest.fixture(scope="module")
def first_deploy(emulator):
    from wimpy_cli import cdk

    invocations = []
    run = cdk.run

    def recording(arguments, **options):
        invocations.append(list(arguments))
        return run(arguments, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cdk, "run", recording)
        result = deploy("--version", "v1.0.0")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # The CDK app ran once (an --output folder), for the baseline, the foundation and the
    # application stack alike: the two later steps deployed from that assembly.
    document["cdk invocations"] = invocations
    # What the first deploy left, read at once: later tests deploy other versions, in any order.
    document["user data"] = launch_template_user_data(emulator)
    return document


def test_first_deploy_creates_every_stack_and_reports_the_url(emulator, first_deploy):
    assert first_deploy["status"] == "CREATE_COMPLETE" and first_deploy["target"] == "local"
    assert first_deploy["url"] == "https://hello.staging.example.com"
    assert first_deploy["image"] == f"{ECR}:v1.0.0"
    # The account's first deploy: the baseline (with the release record and its lock) first.
    assert [p["phase"] for p in first_deploy["phases"]] == [
        "validate", "baseline", "foundation", "machine image", "CloudFormation"]
    deploys = [call for call in first_deploy["cdk invocations"] if call[:1] == ["deploy"]]
    assert len(deploys) == 3
    assert sum("--output" in call for call in deploys) == 1, deploys
    assembly = deploys[0][deploys[0].index("--output") + 1]
    assert [call[call.index("--app") + 1] for call in deploys[1:]] == [assembly, assembly]
    statuses = {s["StackName"]: s["StackStatus"]
                for s in emulator.client("cloudformation").describe_stacks()["Stacks"]}
    for stack in ("wimpy-baseline", "wimpy-registry-hello", "wimpy-staging",
                  "wimpy-staging-hello-data", "wimpy-staging-hello-resources", STACK):
        assert statuses[stack] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, (stack, statuses)


def test_the_instances_will_run_the_version_behind_the_load_balancer(emulator, first_deploy):
    script = first_deploy["user data"]
    assert f"IMAGE={ECR}:v1.0.0" in script and "REGISTRY_LOGIN=ecr" in script
    groups = emulator.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    (group,) = [g for g in groups if any(t["Value"] == "service" for t in g["Tags"] if t["Key"] == "wimpy:type")]
    # Staging's own size (environments.staging.app in examples/hello).
    assert (group["MinSize"], group["MaxSize"]) == (1, 2)
    assert len(group["TargetGroupARNs"]) == 1
    balancers = emulator.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert [b["Scheme"] for b in balancers] == ["internet-facing"]


def test_dns_record_is_weighted_under_the_apps_name(emulator, first_deploy):
    route53 = emulator.client("route53")
    (zone,) = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    (record,) = [r for r in records if r["Name"] == "hello.staging.example.com." and r["Type"] == "A"]
    assert record["SetIdentifier"] == STACK and record["Weight"] == 100
    assert "AliasTarget" in record


def test_the_machine_image_is_recorded_and_reused(emulator, first_deploy):
    ssm = emulator.client("ssm")
    recorded = ssm.get_parameter(Name="/wimpy/staging/hello/machine-image")["Parameter"]["Value"]
    assert recorded == first_deploy["machine_image"]
    # AWS publishes a newer image; the next deploy must not pick it up unasked.
    from wimpy_cli.local.bootstrap import _publish

    from wimpy_cli.deploy.machine_image import PUBLIC_IMAGE_PARAMETERS

    _publish(emulator, PUBLIC_IMAGE_PARAMETERS["x86_64"], "ami-0fffffffffffffff0")
    assert ssm.get_parameter(Name=PUBLIC_IMAGE_PARAMETERS["x86_64"])["Parameter"]["Value"] \
        == "ami-0fffffffffffffff0"
    second = deploy("--version", "v1.0.1")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["machine_image"] == recorded


def test_a_new_version_updates_the_stack_in_place(emulator, first_deploy):
    cloudformation = emulator.client("cloudformation")
    before = {r.get("LogicalResourceId"): r.get("PhysicalResourceId")
              for r in cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
              if r.get("ResourceType") in ("AWS::AutoScaling::AutoScalingGroup",
                                       "AWS::ElasticLoadBalancingV2::LoadBalancer")}
    assert len(before) == 2, before
    result = deploy("--version", "v2.0.0")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "UPDATE_COMPLETE"
    # Nothing the foundation is made from changed: it is not synthesized again.
    assert "foundation" not in [p["phase"] for p in document["phases"]]
    assert "foundation unchanged since the last deploy" in result.stderr
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]}
    assert outputs["Image"] == f"{ECR}:v2.0.0"
    assert f"IMAGE={ECR}:v2.0.0" in launch_template_user_data(emulator)
    after = {r.get("LogicalResourceId"): r.get("PhysicalResourceId")
             for r in cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
             if r.get("LogicalResourceId") in before}
    assert after == before  # same group, same load balancer: replaced in place


def test_a_deploy_already_running_is_refused_with_exit_code_5(emulator, first_deploy):
    dynamodb = emulator.client("dynamodb")
    plant_lock(dynamodb, "staging", "hello", by="ci@runner-7", what="deploy v9")
    try:
        result = deploy("--version", "v3.0.0")
        assert result.exit_code == ExitCode.LOCKED == 5
        assert "another command is changing hello in staging (deploy v9 by ci@runner-7" in result.output
        outputs = emulator.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
        assert not any(o["OutputValue"].endswith(":v3.0.0") for o in outputs)
    finally:
        RecordStore(dynamodb, "staging", "hello").force_release()


def test_the_lock_is_released_after_a_deploy(emulator, first_deploy):
    assert lock_holder(emulator.client("dynamodb"), "staging", "hello") is None


def test_bad_input_is_refused_before_anything_runs(emulator):
    result = deploy("--version", "feature/x")
    assert result.exit_code == ExitCode.USAGE and "--version" in result.output
    result = runner.invoke(app, ["deploy", "-c", str(EXAMPLE), "--env", "qa", "--version", "v1", "--local"])
    assert result.exit_code == ExitCode.USAGE and "'qa' is not an environment" in result.output


def test_without_credentials_the_message_mentions_local(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIMPY_"))}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run([sys.executable, "-m", "wimpy_cli", "deploy", "-c", str(EXAMPLE), "--env", "staging",
                             "--version", "v1"], capture_output=True, text=True, env=env,
                            cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == ExitCode.FAILED
    assert "no AWS credentials were found" in result.stderr and "--local" in result.stderr
    assert "Traceback" not in result.stderr


def test_credentials_of_another_account_are_refused(emulator):
    from wimpy_cli import aws
    from wimpy_cli.errors import WimpyError

    with pytest.raises(WimpyError, match="credentials are for account 111111111111, but wimpy.yml's "
                                         "account.id is 222222222222; nothing was deployed"):
        aws.check_identity(emulator.session(), "222222222222", {"AWS_ENDPOINT_URL": emulator.endpoint})


def test_a_rollback_is_reported_with_its_cause_and_exit_code_4():
    """What CloudFormation says after a failed rolling update (the emulator never rolls
    back, so its answers are given here as AWS gives them)."""
    from botocore.stub import Stubber
    import boto3

    from wimpy_cli.deploy.stacks import _raise_if_rolled_back
    from wimpy_cli.errors import WimpyError
    from wimpy_cli.targets import Target

    cloudformation = boto3.client("cloudformation", region_name="eu-west-1",
                                  aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(cloudformation)
    stubber.add_response("describe_stacks", {"Stacks": [{
        "StackName": STACK, "StackStatus": "UPDATE_ROLLBACK_COMPLETE",
        "CreationTime": "2026-11-26T07:00:00Z"}]}, {"StackName": STACK})
    event = {"StackId": "id", "StackName": STACK, "Timestamp": "2026-11-26T07:10:00Z", "EventId": "e"}
    stubber.add_response("describe_stack_events", {"StackEvents": [
        {**event, "LogicalResourceId": STACK, "ResourceStatus": "UPDATE_ROLLBACK_COMPLETE"},
        {**event, "LogicalResourceId": "ServiceGroupASG15272EA1", "ResourceStatus": "UPDATE_FAILED",
         "ResourceStatusReason": "Received 0 SUCCESS signal(s) out of 1. Unable to satisfy 100% "
                                 "MinSuccessfulInstancesPercent requirement"},
        {**event, "LogicalResourceId": STACK, "ResourceStatus": "UPDATE_IN_PROGRESS"},
        {**event, "LogicalResourceId": "Old", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "an older operation"},
    ]}, {"StackName": STACK})
    with stubber, pytest.raises(WimpyError) as raised:
        _raise_if_rolled_back(Target(name="aws", client=lambda _: cloudformation), [STACK],
                              WimpyError("cdk exited 1"))
    assert raised.value.code == ExitCode.ROLLED_BACK == 4
    message = str(raised.value)
    assert "rolled wimpy-staging-hello back (UPDATE_ROLLBACK_COMPLETE)" in message
    assert "previous version keeps serving" in message
    assert "ServiceGroupASG15272EA1: Received 0 SUCCESS signal(s)" in message
    assert "an older operation" not in message


def test_unlock_removes_a_lock_from_another_machine(emulator, first_deploy):
    dynamodb = emulator.client("dynamodb")
    plant_lock(dynamodb, "staging", "hello", by="ci@elsewhere", host="elsewhere")
    refused = deploy("--version", "v2.0.0")
    assert refused.exit_code == ExitCode.LOCKED and "wimpy unlock --env staging" in refused.output
    result = runner.invoke(app, ["unlock", "-c", str(EXAMPLE), "--env", "staging", "--local", "--yes"])
    assert result.exit_code == 0 and "it was deploy v9 by ci@elsewhere" in result.output
    assert lock_holder(dynamodb, "staging", "hello") is None


def test_diff_shows_what_a_new_version_would_change(emulator, first_deploy):
    result = runner.invoke(app, ["diff", "-c", str(EXAMPLE), "--env", "staging", "--local",
                                 "--version", "v9.9.9"])
    assert result.exit_code == 0, result.output
    assert "AWS::EC2::LaunchTemplate" in result.output and "hello:v9.9.9" in result.output
    outputs = emulator.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    assert not any(o["OutputValue"].endswith(":v9.9.9") for o in outputs)  # nothing deployed


def test_baseline_deploys_the_shared_stacks_only(emulator, first_deploy):
    result = runner.invoke(app, ["baseline", "-c", str(EXAMPLE), "--env", "staging", "--local", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stacks"] == ["wimpy-baseline", "wimpy-registry-hello", "wimpy-staging"]


def test_open_opens_the_url_of_the_release_serving_the_most_traffic(emulator, first_deploy, monkeypatch):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    result = runner.invoke(app, ["open", "-c", str(EXAMPLE), "--env", "staging", "--local"])
    assert result.exit_code == 0, result.output
    assert opened == [first_deploy["url"]]
    assert result.stdout == f"{first_deploy['url']}\n(opened in your browser)\n"
    # --print: the URL alone, no browser; and where no browser runs, it says so.
    result = runner.invoke(app, ["open", "-c", str(EXAMPLE), "--env", "staging", "--local", "--print"])
    assert result.exit_code == 0 and result.stdout == f"{first_deploy['url']}\n" and len(opened) == 1
    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    result = runner.invoke(app, ["open", "-c", str(EXAMPLE), "--env", "staging", "--local"])
    assert "(no browser found here: open it yourself)" in result.stdout


def test_open_where_nothing_is_deployed_says_to_deploy(emulator, first_deploy):
    result = runner.invoke(app, ["open", "-c", str(EXAMPLE), "--env", "production", "--local"])
    assert result.exit_code == 1, result.output
    assert "no release of hello in production has a URL yet" in result.output
    assert "wimpy deploy --env production" in result.output
