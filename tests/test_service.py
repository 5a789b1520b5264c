"""The application stack of a rolling deploy: instances, load balancer, scaling, DNS and
alarms, with every setting a safe deploy relies on asserted in the template."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.conftest import IMAGE, MACHINE_IMAGE
from wimpy_constructs.boot import READY_HOOK
from wimpy_constructs.service_alarms import ALARM_SUFFIXES


@pytest.fixture(scope="module")
def production(example_stacks):
    from aws_cdk.assertions import Template

    return Template.from_stack(example_stacks.services["production"])


@pytest.fixture(scope="module")
def staging(example_stacks):
    from aws_cdk.assertions import Template

    return Template.from_stack(example_stacks.services["staging"])


@pytest.fixture(scope="module")
def http_only(example_config):
    from aws_cdk.assertions import Template

    from tests.conftest import synthesize

    _, stacks = synthesize(dataclasses.replace(example_config, hosted_zone=None))
    return Template.from_stack(stacks.services["staging"])


def one(template, type_):
    (resource,) = template.find_resources(type_).values()
    return resource


def user_data(template) -> str:
    """The boot script as CloudFormation will render it, tokens shown as <Ref>."""
    data = one(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]["UserData"]

    def render(value):
        if isinstance(value, str):
            return value
        if "Fn::Join" in value:
            return value["Fn::Join"][0].join(render(v) for v in value["Fn::Join"][1])
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        raise AssertionError(value)
    return render(data["Fn::Base64"])


def test_launch_template_pins_the_image_requires_imdsv2_and_encrypts_the_disk(production):
    from aws_cdk.assertions import Match

    template = production.to_json()
    data = one(production, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    assert data["BlockDeviceMappings"] == [{"DeviceName": "/dev/xvda", "Ebs": {
        "DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 30, "VolumeType": "gp3"}}]
    assert data["InstanceType"] == "t3.small"
    assert data["Monitoring"] == {"Enabled": True}
    # The AMI is a literal, never an SSM lookup that changes under us.
    assert data["ImageId"] == MACHINE_IMAGE
    assert not any(p["Type"].startswith("AWS::SSM::Parameter::Value<AWS::EC2::Image")
                   for p in template["Parameters"].values())
    production.has_resource_properties("AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {
        "SecurityGroupIds": [{"Ref": Match.string_like_regexp("instancesecuritygroupid")}]}})


def test_group_never_sets_desired_capacity_and_lives_in_private_subnets(production):
    group = one(production, "AWS::AutoScaling::AutoScalingGroup")
    props = group["Properties"]
    assert "DesiredCapacity" not in props
    assert (props["MinSize"], props["MaxSize"]) == ("2", "4")
    assert props["HealthCheckType"] == "ELB" and props["HealthCheckGracePeriod"] == 600
    assert all("privatesubnetids" in json.dumps(s) for s in props["VPCZoneIdentifier"])
    assert len(props["TargetGroupARNs"]) == 1


def test_a_new_version_is_an_instance_refresh_the_alarms_guard_through_a_bake(production):
    """Instances are replaced one beside the minimum, each in service only once its boot
    completed the launch hook; any of the three alarms firing during the refresh or the
    five minutes after rolls the stack back."""
    resources = production.to_json()["Resources"]
    group = one(production, "AWS::AutoScaling::AutoScalingGroup")
    assert set(group["UpdatePolicy"]) == {"AutoScalingInstanceRefresh", "AutoScalingScheduledAction"}
    refresh = group["UpdatePolicy"]["AutoScalingInstanceRefresh"]
    preferences = refresh["Preferences"]
    assert refresh["Strategy"] == "Rolling"
    # Two in service (MinSize) and, by default, a whole new set beside them: 100% to 200%.
    assert (preferences["MinHealthyPercentage"], preferences["MaxHealthyPercentage"]) == (100, 200)
    assert preferences["SkipMatching"] is False
    assert preferences["InstanceWarmup"] == 20  # 2 healthy checks x 10 s
    assert preferences["BakeTime"] == 300
    watched = {resources[alarm["Ref"]]["Properties"]["AlarmName"]
               for alarm in preferences["AlarmSpecification"]["Alarms"]}
    assert watched == {f"wimpy-production-hello-{suffix}" for suffix in ALARM_SUFFIXES}
    assert group["Properties"]["LifecycleHookSpecificationList"] == [{
        "LifecycleHookName": READY_HOOK, "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        "HeartbeatTimeout": 600, "DefaultResult": "CONTINUE"}]
    assert group["CreationPolicy"]["ResourceSignal"] == {"Count": 2, "Timeout": "PT10M"}
    assert group["UpdatePolicy"]["AutoScalingScheduledAction"] == {"IgnoreUnmodifiedGroupSizeProperties": True}
    template = resources[group["Properties"]["LaunchTemplate"]["LaunchTemplateId"]["Ref"]]
    assert template["Properties"]["LaunchTemplateData"]["MetadataOptions"]["InstanceMetadataTags"] == "enabled"


def test_each_environment_runs_the_application_at_its_own_size(staging, production):
    """examples/hello runs staging on one t3.micro (up to two) and production on the
    application's two t3.small (up to four); each refresh is a surge of its own size."""
    sizes = {}
    for name, template in (("staging", staging), ("production", production)):
        group = one(template, "AWS::AutoScaling::AutoScalingGroup")
        launch = one(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
        preferences = group["UpdatePolicy"]["AutoScalingInstanceRefresh"]["Preferences"]
        sizes[name] = (launch["InstanceType"], group["Properties"]["MinSize"],
                       group["Properties"]["MaxSize"], group["CreationPolicy"]["ResourceSignal"]["Count"],
                       preferences["MaxHealthyPercentage"])
    assert sizes == {"staging": ("t3.micro", "1", "2", 1, 200),
                     "production": ("t3.small", "2", "4", 2, 200)}


def test_a_batch_size_goes_batch_by_batch(example_config):
    from aws_cdk.assertions import Template

    from tests.conftest import synthesize

    config = dataclasses.replace(example_config, deploy=dataclasses.replace(
        example_config.deploy, max_batch_size=1))
    _, stacks = synthesize(config)
    group = one(Template.from_stack(stacks.services["production"]), "AWS::AutoScaling::AutoScalingGroup")
    preferences = group["UpdatePolicy"]["AutoScalingInstanceRefresh"]["Preferences"]
    # Two in service and one beside them: 100% to 150%.
    assert (preferences["MinHealthyPercentage"], preferences["MaxHealthyPercentage"]) == (100, 150)


def test_boot_script_runs_the_version_and_signals_only_when_healthy(production):
    script = user_data(production)
    group_id = next(iter(production.find_resources("AWS::AutoScaling::AutoScalingGroup")))
    assert script.startswith("#!/bin/bash\n")
    assert f"IMAGE={IMAGE}" in script
    assert f"resource={group_id}" in script
    assert "health_url=http://127.0.0.1:8080/health" in script
    assert "health_timeout=480" in script  # the 600 s signal timeout, less boot time
    # Healthy, then into service (the launch hook), then the signal.
    joined = script.index("--lifecycle-hook-name wimpy-instance-ready")
    assert script.index('wimpy-health-wait "$health_url"') < script.index("  join\n  signal SUCCESS") and joined
    # Nothing installed on the image that carries Docker and the AWS CLI (tests/test_boot.py
    # runs this script), and no CloudFormation helper scripts at all.
    assert "/opt/aws/bin/cfn-signal" not in script and "aws-cfn-bootstrap" not in script
    assert "aws cloudformation signal-resource" in script
    assert "systemctl enable --now --no-block hello.service" in script
    assert "REGISTRY_LOGIN=ecr" in script
    assert "SECRETS=API_TOKEN=/hello/api-token" in script
    assert "--log-driver=awslogs" in script and "awslogs-group=/wimpy/production/hello" in script
    for variable in ("ENVIRONMENT=production", "PORT=8080", "APP_NAME=hello",
                     "S3_BUCKET=wimpy-storage-111111111111-eu-west-1", "S3_PREFIX=production/hello/",
                     "GREETING=hello from wimpy"):
        assert f"\n{variable}\n" in script, variable
    assert "KMS_MASTER_KEY=<SsmParameterValuewimpybaselinemasterkeyarn" in script


def test_no_secret_value_reaches_the_template(production, example_config):
    """Only parameter names travel; values are fetched by the instance at unit start."""
    template = json.dumps(production.to_json())
    assert "/hello/api-token" in template
    assert "API_TOKEN=" not in user_data(production).split("SECRETS=")[0].split("app.env")[-1]


def test_instances_may_signal_only_this_stack_and_nothing_else(production):
    """Leaving the load balancer is the Auto Scaling group's job when it terminates an
    instance, not the unit's on every stop: the release adds only the signal and the
    launch hook's completion (tests/test_role_isolation.py evaluates whose group)."""
    statements = [s for p in production.find_resources("AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert sorted(s["Action"] for s in statements) == ["autoscaling:CompleteLifecycleAction",
                                                       "cloudformation:SignalResource"]
    assert {"Action": "cloudformation:SignalResource", "Effect": "Allow",
            "Resource": {"Ref": "AWS::StackId"}} in statements
    # Granted before the first instance boots and needs them.
    group = one(production, "AWS::AutoScaling::AutoScalingGroup")
    assert group["DependsOn"] == list(production.find_resources("AWS::IAM::Policy"))


def test_load_balancer_is_public_drops_bad_headers_logs_and_is_protected_in_production(production, staging):
    for template, protected in ((production, "true"), (staging, "false")):
        lb = one(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
        attributes = {a["Key"]: a["Value"] for a in lb["LoadBalancerAttributes"]}
        assert lb["Scheme"] == "internet-facing"
        assert all("publicsubnetids" in json.dumps(s) for s in lb["Subnets"])
        assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
        assert attributes["access_logs.s3.enabled"] == "true"
        assert attributes["access_logs.s3.bucket"] == "wimpy-logs-111111111111-eu-west-1"
        assert attributes["deletion_protection.enabled"] == protected


def test_https_with_a_dns_validated_certificate_and_http_redirected(production):
    production.has_resource_properties("AWS::CertificateManager::Certificate", {
        "DomainName": "hello.example.com", "ValidationMethod": "DNS",
        "DomainValidationOptions": [{"DomainName": "hello.example.com", "HostedZoneId": "Z0123456789EXAMPLE"}]})
    listeners = {l["Properties"]["Port"]: l["Properties"]
                 for l in production.find_resources("AWS::ElasticLoadBalancingV2::Listener").values()}
    assert set(listeners) == {80, 443}
    assert listeners[443]["Protocol"] == "HTTPS" and listeners[443]["DefaultActions"][0]["Type"] == "forward"
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[80]["DefaultActions"] == [{"Type": "redirect", "RedirectConfig": {
        "Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}}]


def test_plain_http_without_a_domain(http_only):
    listeners = [l["Properties"] for l in http_only.find_resources("AWS::ElasticLoadBalancingV2::Listener").values()]
    assert [(l["Port"], l["Protocol"], l["DefaultActions"][0]["Type"]) for l in listeners] == [(80, "HTTP", "forward")]
    http_only.resource_count_is("AWS::CertificateManager::Certificate", 0)
    http_only.resource_count_is("AWS::Route53::RecordSet", 0)


def test_listeners_never_open_the_shared_security_groups(production):
    production.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    production.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)
    production.resource_count_is("AWS::EC2::SecurityGroup", 0)


def test_target_group_takes_traffic_fast_and_drains_fast(production):
    group = one(production, "AWS::ElasticLoadBalancingV2::TargetGroup")["Properties"]
    assert (group["Port"], group["Protocol"], group["TargetType"]) == (8080, "HTTP", "instance")
    assert group["HealthCheckPath"] == "/health"
    assert group["HealthCheckIntervalSeconds"] == 10 and group["HealthCheckTimeoutSeconds"] == 5
    assert group["HealthyThresholdCount"] == 2 and group["UnhealthyThresholdCount"] == 2
    assert group["Matcher"] == {"HttpCode": "200-399"}
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert attributes["deregistration_delay.timeout_seconds"] == "30"


def test_scaling_on_cpu_and_requests_per_target(production):
    policies = [p["Properties"]["TargetTrackingConfiguration"]
                for p in production.find_resources("AWS::AutoScaling::ScalingPolicy").values()]
    by_metric = {p["PredefinedMetricSpecification"]["PredefinedMetricType"]: p["TargetValue"] for p in policies}
    assert by_metric == {"ASGAverageCPUUtilization": 60, "ALBRequestCountPerTarget": 1000}


def test_weighted_alias_record_shares_the_name(production, staging):
    for template, name, stack in ((production, "hello.example.com.", "wimpy-production-hello"),
                                  (staging, "hello.staging.example.com.", "wimpy-staging-hello")):
        record = one(template, "AWS::Route53::RecordSet")["Properties"]
        assert record["Name"] == name and record["Type"] == "A"
        assert record["HostedZoneId"] == "Z0123456789EXAMPLE"
        assert record["SetIdentifier"] == stack
        assert record["Weight"] == {"Ref": "TrafficWeight"}
        assert "AliasTarget" in record and "TTL" not in record
        weight = template.to_json()["Parameters"]["TrafficWeight"]
        assert (weight["Type"], weight["Default"], weight["MinValue"], weight["MaxValue"]) == ("Number", 100, 0, 255)


def test_alarms_per_target_group(production):
    alarms = {a["Properties"]["AlarmName"]: a["Properties"]
              for a in production.find_resources("AWS::CloudWatch::Alarm").values()}
    assert set(alarms) == {"wimpy-production-hello-errors", "wimpy-production-hello-unhealthy-hosts",
                           "wimpy-production-hello-p99-latency"}
    errors = alarms["wimpy-production-hello-errors"]
    assert errors["Threshold"] == 5
    assert [m["Expression"] for m in errors["Metrics"] if "Expression" in m] == [
        "IF(requests > 0, 100 * errors / requests, 0)"]
    assert alarms["wimpy-production-hello-p99-latency"]["ExtendedStatistic"] == "p99"
    assert alarms["wimpy-production-hello-p99-latency"]["Threshold"] == 2
    assert alarms["wimpy-production-hello-unhealthy-hosts"]["Threshold"] == 0
    for alarm in alarms.values():
        assert alarm["TreatMissingData"] == "notBreaching"
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)


def test_a_new_version_changes_only_the_launch_template_and_image_output(example_config):
    """A deploy of v2 is a launch template change (a rolling replacement), nothing else."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from wimpy_stacks.composition import build_stacks
    from tests.conftest import cdk_context, release

    def service_template(version):
        app = cdk.App(context=cdk_context())
        stacks = build_stacks(app, example_config, environments=["staging"],
                              release=release(version, IMAGE.replace("v1.0.0", version)))
        return Template.from_stack(stacks.services["staging"]).to_json()["Resources"]

    first, second = service_template("v1.0.0"), service_template("v2.0.0")
    changed = {key for key in first if first[key] != second[key]}
    assert {first[key]["Type"] for key in changed} == {"AWS::EC2::LaunchTemplate"}
    assert set(first) == set(second)


def test_cfn_lint_is_clean_on_the_http_only_variant(http_only):
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(http_only.to_json()), config=ManualArgs(regions=["eu-west-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []


def test_a_blue_green_release_starts_without_traffic_and_can_scale_to_zero(example_config):
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from wimpy_stacks.composition import Release, build_stacks
    from tests.conftest import cdk_context

    app = cdk.App(context=cdk_context())
    stacks = build_stacks(app, example_config, environments=["production"], release=Release(
        version="v2.0.0", image=IMAGE, machine_image_id=MACHINE_IMAGE, name="v2-0-0-abc1234"))
    stack = stacks.services["production"]
    assert stack.stack_name == "wimpy-production-hello--v2-0-0-abc1234"
    template = Template.from_stack(stack).to_json()
    assert template["Parameters"]["TrafficWeight"]["Default"] == 0
    assert template["Parameters"]["Capacity"]["AllowedValues"] == ["on", "off"]
    group = next(r for r in template["Resources"].values() if r["Type"] == "AWS::AutoScaling::AutoScalingGroup")
    assert group["Properties"]["MinSize"] == {"Fn::If": ["ScaledToZero", "0", "2"]}
    assert group["Properties"]["MaxSize"] == {"Fn::If": ["ScaledToZero", "1", "4"]}
    record = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Route53::RecordSet")
    assert record["Properties"]["SetIdentifier"] == "wimpy-production-hello--v2-0-0-abc1234"
    assert record["Properties"]["Name"] == "hello.example.com."
    alarms = {r["Properties"]["AlarmName"] for r in template["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert "wimpy-production-hello--v2-0-0-abc1234-errors" in alarms
    tags = {t["Key"]: t["Value"] for t in group["Properties"]["Tags"]}
    assert tags["wimpy:release"] == "v2-0-0-abc1234" and tags["wimpy:type"] == "release"
    from cfnlint.api import ManualArgs, lint

    assert [m.rule.id for m in lint(json.dumps(template), config=ManualArgs(regions=["eu-west-1"]))] == []


def test_policies_on_the_shared_role_are_named_per_stack(example_config):
    """Blue/green releases attach policies to the same instance role; IAM names inline
    policies per role, so equal names would let one release replace another's."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from wimpy_stacks.composition import Release, build_stacks
    from tests.conftest import cdk_context

    names: list[str] = []
    for release in ("v1", "v2"):
        app = cdk.App(context=cdk_context())
        stacks = build_stacks(app, example_config, environments=["staging"], release=Release(
            version=release, image=IMAGE, machine_image_id=MACHINE_IMAGE, name=release))
        template = Template.from_stack(stacks.services["staging"]).to_json()
        names += [r["Properties"]["PolicyName"] for r in template["Resources"].values()
                  if r["Type"] == "AWS::IAM::Policy"]
    # Per release: the launch hook's policy (the service's own), and the creation signal's.
    assert len(names) == 4 and len(set(names)) == 4, names
