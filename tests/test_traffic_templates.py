"""The templates of blue/green's two traffic modes. Through the load balancer: one front
stack per application and environment holds the only load balancer, its listener forwards
to the releases' target groups with weights that are stack parameters, and a release stack
holds a target group, instances and alarms but no load balancer. Through DNS: each
release has its own load balancer and weighted record, and there is no front stack."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import IMAGE, MACHINE_IMAGE

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
RECORD = "AWS::Route53::RecordSet"


def blue_green(example_config, traffic: str, *, zone: bool = True):
    from wimpy_stacks.composition import Release

    config = dataclasses.replace(
        example_config, deploy=dataclasses.replace(example_config.deploy, strategy="blue-green", traffic=traffic),
        hosted_zone=example_config.hosted_zone if zone else None)
    import aws_cdk as cdk

    from wimpy_stacks.composition import build_stacks
    from tests.conftest import cdk_context

    app = cdk.App(context=cdk_context())
    return build_stacks(app, config, environments=["production"], release=Release(
        version="v1.0.0", image=IMAGE, machine_image_id=MACHINE_IMAGE, name="v1-0-0"))


def template(stack):
    from aws_cdk.assertions import Template

    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def through_front(example_config):
    stacks = blue_green(example_config, "load-balancer")
    return template(stacks.fronts["production"]), template(stacks.services["production"])


@pytest.fixture(scope="module")
def through_dns(example_config):
    stacks = blue_green(example_config, "dns")
    return stacks, template(stacks.services["production"])


def test_the_front_has_the_only_load_balancer_and_the_release_only_its_target_group(through_front):
    front, release = through_front
    front.resource_count_is(LOAD_BALANCER, 1)
    front.resource_count_is(TARGET_GROUP, 0)
    release.resource_count_is(LOAD_BALANCER, 0)
    release.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 0)
    release.resource_count_is(RECORD, 0)
    release.resource_count_is(TARGET_GROUP, 1)
    (group,) = release.find_resources(TARGET_GROUP).values()
    assert group["Properties"]["HealthCheckPath"] == "/health"
    outputs = release.to_json()["Outputs"]
    assert outputs["Traffic"]["Value"] == "load-balancer" and "TargetGroupArn" in outputs
    assert "Url" not in outputs  # the front's URL is the application's


def test_the_listener_forwards_by_weights_that_are_parameters(through_front):
    front, _ = through_front
    parameters = front.to_json()["Parameters"]
    for slot in ("Live", "Canary"):
        assert parameters[f"{slot}TargetGroupArn"]["Default"] == ""
        assert (parameters[f"{slot}Weight"]["MinValue"], parameters[f"{slot}Weight"]["MaxValue"]) == (0, 999)
    listeners = front.find_resources("AWS::ElasticLoadBalancingV2::Listener")
    (https,) = [l for l in listeners.values() if l["Properties"]["Protocol"] == "HTTPS"]
    (action,) = https["Properties"]["DefaultActions"]
    condition, forward, unavailable = action["Fn::If"]
    assert unavailable["Type"] == "fixed-response" and unavailable["FixedResponseConfig"]["StatusCode"] == "503"
    live, canary = forward["ForwardConfig"]["TargetGroups"]
    assert live == {"TargetGroupArn": {"Ref": "LiveTargetGroupArn"}, "Weight": {"Ref": "LiveWeight"}}
    canary_condition, canary_group, absent = canary["Fn::If"]
    assert canary_group == {"TargetGroupArn": {"Ref": "CanaryTargetGroupArn"}, "Weight": {"Ref": "CanaryWeight"}}
    assert absent == {"Ref": "AWS::NoValue"}
    conditions = front.to_json()["Conditions"]
    assert conditions[condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "LiveTargetGroupArn"}, ""]}]}
    assert conditions[canary_condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CanaryTargetGroupArn"}, ""]}]}
    # HTTP only redirects to HTTPS.
    (http,) = [l for l in listeners.values() if l["Properties"]["Protocol"] == "HTTP"]
    assert http["Properties"]["DefaultActions"][0]["Type"] == "redirect"


def test_the_front_is_one_weighted_record_among_the_names_entries(through_front):
    """Weighted, at weight 0 until it serves: an application moving from DNS mode shares the
    name with its releases' records while the canary moves traffic between them."""
    front, _ = through_front
    (record,) = front.find_resources(RECORD).values()
    assert record["Properties"]["Weight"] == {"Ref": "TrafficWeight"}
    assert record["Properties"]["SetIdentifier"] == "wimpy-production-hello-front"
    assert front.to_json()["Parameters"]["TrafficWeight"]["Default"] == 0


def test_the_release_alarms_and_scaling_name_the_fronts_load_balancer(through_front):
    _, release = through_front
    parameter = "SsmParameterValuewimpyproductionhelloloadbalancerfullname"
    names = set()
    for alarm in release.find_resources("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        metrics = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        names |= {metric["MetricName"] for metric in metrics or [properties]}
        dimensions = [d for metric in metrics or [properties] for d in metric["Dimensions"]]
        (balancer,) = [d["Value"] for d in dimensions if d["Name"] == "LoadBalancer"][:1]
        assert balancer["Ref"].startswith(parameter), balancer
    # The names the load balancer publishes, as the dns mode's alarms have them.
    assert names == {"HTTPCode_Target_5XX_Count", "RequestCount", "UnHealthyHostCount", "TargetResponseTime"}
    (requests,) = [p for p in release.find_resources("AWS::AutoScaling::ScalingPolicy").values()
                   if "PredefinedMetricSpecification" in p["Properties"]["TargetTrackingConfiguration"]
                   and p["Properties"]["TargetTrackingConfiguration"]["PredefinedMetricSpecification"][
                       "PredefinedMetricType"] == "ALBRequestCountPerTarget"]
    label = requests["Properties"]["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]["ResourceLabel"]
    assert parameter in str(label) and "TargetGroupFullName" in str(label)


def test_through_dns_each_release_has_its_own_load_balancer_and_record(through_dns):
    stacks, release = through_dns
    assert stacks.fronts == {}
    release.resource_count_is(LOAD_BALANCER, 1)
    (record,) = release.find_resources(RECORD).values()
    assert record["Properties"]["Weight"] == {"Ref": "TrafficWeight"}
    assert release.to_json()["Outputs"]["Traffic"]["Value"] == "dns"


def test_through_the_load_balancer_without_a_zone_the_front_serves_plain_http(example_config):
    stacks = blue_green(example_config, "load-balancer", zone=False)
    front = template(stacks.fronts["production"])
    front.resource_count_is(RECORD, 0)
    (listener,) = front.find_resources("AWS::ElasticLoadBalancingV2::Listener").values()
    assert listener["Properties"]["Protocol"] == "HTTP"
    assert "Fn::If" in listener["Properties"]["DefaultActions"][0]


@pytest.mark.parametrize("traffic", ["load-balancer", "dns"])
def test_both_modes_pass_cdk_nag_and_cfn_lint(example_config, tmp_path, traffic):
    import json

    import aws_cdk as cdk
    import cdk_nag
    from cfnlint.api import ManualArgs, lint

    from wimpy_stacks.composition import Release, build_stacks
    from tests.conftest import cdk_context
    from tests.test_compliance import nag_findings

    config = dataclasses.replace(example_config, deploy=dataclasses.replace(
        example_config.deploy, strategy="blue-green", traffic=traffic))
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    stacks = build_stacks(app, config, environments=["production"], release=Release(
        version="v1.0.0", image=IMAGE, machine_image_id=MACHINE_IMAGE, name="v1-0-0"))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    app.synth()  # raises ValidationFailed on any unacknowledged finding
    assert nag_findings(tmp_path) == []
    checked = [stacks.services["production"], *stacks.fronts.values()]
    assert len(checked) == (2 if traffic == "load-balancer" else 1)
    for stack in checked:
        matches = lint(json.dumps(template(stack).to_json()), config=ManualArgs(regions=["eu-west-1"]))
        assert [f"{m.rule.id} {m.message}" for m in matches] == [], stack.stack_name
