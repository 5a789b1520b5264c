"""`wimpy plan --first-deploy`: a new application's first deploy, stack by stack, each as
long as its longest chain of resources, and the production rolling deploy it is followed
by."""

from __future__ import annotations

import json

from wimpy_cli.estimate import first_deploy as model
from wimpy_cli.estimate.deploy_time import Assumptions
from tests.test_estimate import invoke


def test_a_stack_takes_its_longest_chain_of_references():
    """Ref, GetAtt, Sub and DependsOn order creation; independent chains run side by side."""
    template = {"Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC"},                                              # 15
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}}},  # 20
        "Nat": {"Type": "AWS::EC2::NatGateway",                                         # 140
                "Properties": {"SubnetId": {"Fn::GetAtt": ["Subnet", "SubnetId"]}}},
        "Route": {"Type": "AWS::EC2::Route", "DependsOn": "Nat"},                       # 145
        "Key": {"Type": "AWS::KMS::Key"},                                               # 60
        "Bucket": {"Type": "AWS::S3::Bucket",                                           # 80
                   "Properties": {"Name": {"Fn::Sub": "x-${Key.Arn}"}}},
    }}
    estimate = model.estimate_first_deploy({"net": template}, ["net"], build_seconds=0)
    (stack,) = estimate.stacks
    assert stack.seconds == 15 + 5 + 120 + 5
    assert stack.chain[-1].startswith("Nat (NAT gateway until available, 120 s)")
    assert estimate.expected_seconds == 145


def test_the_instances_take_their_launch_to_healthy_time_in_parallel():
    a = Assumptions(boot_seconds=40, install_seconds=3, pull_seconds=30, start_seconds=5)
    template = {"Resources": {
        "Profile": {"Type": "AWS::IAM::InstanceProfile"},
        "Template": {"Type": "AWS::EC2::LaunchTemplate",
                     "Properties": {"Profile": {"Fn::GetAtt": ["Profile", "Arn"]}}},
        "Group": {"Type": "AWS::AutoScaling::AutoScalingGroup",
                  "CreationPolicy": {"ResourceSignal": {"Count": 2, "Timeout": "PT10M"}},
                  "Properties": {"LaunchTemplate": {"LaunchTemplateId": {"Ref": "Template"}}}},
        "Balancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},
    }}
    (stack,) = model.estimate_first_deploy({"app": template}, ["app"], assumptions=a).stacks
    # 120 s profile + 5 s template + 80 s (40 + 3 + 30 + 5 + the 2 s health poll), beside
    # the 180 s load balancer.
    assert stack.seconds == 120 + 5 + 80
    assert "Group (2 instances booted in parallel until they signal, 80 s)" in stack.formula
    assert stack.instances == ()  # the instances are the longest chain here


def test_plan_prints_the_first_deploy_of_the_example_stack_by_stack():
    result = invoke("--env", "production", "--json", "--first-deploy", "--build-seconds", "90")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    first = document["first_deploy"]
    assert [phase["name"] for phase in first["phases"]] == [
        "image build and push", "wimpy-baseline", "wimpy-registry-hello", "wimpy-production",
        "wimpy-production-hello-data", "wimpy-production-hello-resources", "wimpy-production-hello"]
    assert first["phases"][0]["seconds"] == 90
    assert first["expected_seconds"] == sum(phase["seconds"] for phase in first["phases"])
    network = first["phases"][3]["formula"]
    assert "NatInstance" in network and "instance until running" in network
    application = first["phases"][-1]["formula"]
    assert "load balancer" in application and "2 instances booted in parallel" in application


def test_the_production_rolling_deploy_of_the_example_serves_within_150_seconds():
    """Issue 14's bar, with plan's own default assumptions: one batch (the surge), nothing
    installed at boot. The bake after it is the alarms' watch, shown apart."""
    result = invoke("--env", "production", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["batches"] == 1
    assert document["serving_seconds"] <= 150
    assert document["expected_seconds"] == document["serving_seconds"] + 300  # the bake


def test_first_deploy_refuses_a_single_template(tmp_path):
    template = tmp_path / "t.json"
    template.write_text("{}")
    result = invoke("--env", "production", "--first-deploy", "--template", str(template))
    assert result.exit_code == 2
    assert "--first-deploy estimates every stack" in result.output
