"""The deploy-time model (wimpy_cli/estimate/deploy_time.py) on small hand-written templates
with answers worked out by hand, the peer comparison, and `wimpy plan`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from wimpy_cli import reporting
from wimpy_cli.commands.plan import plan
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.estimate import deploy_time as model
from wimpy_cli.estimate.peers import PEERS
from wimpy_cli.toolchain import PROJECT_ROOT
from tests.conftest import EXAMPLE

SNAPSHOT = (PROJECT_ROOT / "tests" / "__snapshots__" / "test_snapshots"
            / "test_template_snapshot[wimpy-production-hello].json")

# Round numbers so every expected value below can be checked by hand.
FIXED = model.Assumptions(boot_seconds=40, install_seconds=50, pull_seconds=20,
                          start_seconds=8, load_balancer_seconds=150)
# Launch to answering locally: 40 + 50 + 20 + 8 + 2 (the health wait's poll) = 120 s.
READY = 120


def app_template(*, min_size=4, max_size=6, batch=1, pause="PT10M", signals=True,
                 interval=10, healthy=2, unhealthy=2, dereg="30", creation="PT10M",
                 update_policy=True) -> dict:
    group = {
        "Type": "AWS::AutoScaling::AutoScalingGroup",
        "Properties": {"MinSize": str(min_size), "MaxSize": str(max_size),
                       "TargetGroupARNs": [{"Ref": "Targets"}]},
        "CreationPolicy": {"ResourceSignal": {"Count": min_size, "Timeout": creation}},
    }
    if update_policy:
        group["UpdatePolicy"] = {"AutoScalingRollingUpdate": {
            "MaxBatchSize": batch, "MinInstancesInService": min_size, "PauseTime": pause,
            "WaitOnResourceSignals": signals}}
    targets = {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
        "HealthCheckIntervalSeconds": interval, "HealthyThresholdCount": healthy,
        "UnhealthyThresholdCount": unhealthy,
        "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": dereg},
                                  {"Key": "stickiness.enabled", "Value": "false"}]}}
    return {"Resources": {"Group": group, "Targets": targets,
                          "Other": {"Type": "AWS::IAM::Policy", "Properties": {}}}}


def phase(result, name):
    (found,) = [p for p in result.phases if p.name == name]
    return found


# -- rolling -------------------------------------------------------------------------

def test_four_instances_one_at_a_time():
    result = model.estimate(app_template(), assumptions=FIXED)
    # Per batch: 120 s launch + 2 x 10 s target-group health + 30 s drain = 170 s; 4 batches.
    assert result.batches == 4 and result.capacity == 4
    assert result.expected_seconds == 4 * 170 == 680
    assert phase(result, "instance boot").seconds == 160
    assert phase(result, "healthy in the target group").seconds == 80
    assert phase(result, "healthy in the target group").formula == (
        "4 batches x 2 healthy checks x 10 s interval")
    assert phase(result, "drain of the replaced instance").seconds == 120
    # Worst: every batch takes its whole 600 s signal timeout.
    assert result.worst_seconds == 4 * (600 + 20 + 30) == 2600
    assert "600 s signal timeout" in result.worst_formula
    assert result.warnings == ()


def test_batches_round_up_and_capacity_can_be_given():
    result = model.estimate(app_template(min_size=5, max_size=8, batch=2), assumptions=FIXED)
    assert result.batches == 3  # ceil(5 / 2)
    assert result.expected_seconds == 3 * 170
    given = model.estimate(app_template(batch=2), assumptions=FIXED, capacity=9)
    assert (given.capacity, given.batches) == (9, 5)
    with pytest.raises(WimpyError, match="--capacity 0"):
        model.estimate(app_template(), assumptions=FIXED, capacity=0)


def test_slower_health_checks_and_longer_drain_add_per_batch():
    result = model.estimate(app_template(min_size=2, interval=30, healthy=5, dereg="300"),
                            assumptions=FIXED)
    assert result.expected_seconds == 2 * (READY + 150 + 300)


def test_the_phases_add_up_to_the_total():
    """With the default assumptions (40 s boot, 3 s starting the image's Docker, 30 s pull,
    5 s start), three instances two at a time: ceil(3 / 2) = 2 batches, each phase twice."""
    result = model.estimate(app_template(min_size=3, batch=2), assumptions=model.Assumptions())
    assert [(p.name, p.seconds) for p in result.phases] == [
        ("instance boot", 2 * 40),
        ("Docker start", 2 * 3),
        ("image pull", 2 * 30),
        ("container start to healthy locally", 2 * (5 + 2)),  # + the health wait's 2 s poll
        ("healthy in the target group", 2 * 2 * 10),  # 2 checks x 10 s
        ("drain of the replaced instance", 2 * 30),
    ]
    # 80 + 6 + 60 + 14 + 40 + 60 = 260 = 2 batches x (80 s ready + 20 s + 30 s).
    assert result.expected_seconds == 260


def test_a_template_without_an_update_policy_is_refused_naming_what_is_missing():
    with pytest.raises(WimpyError) as raised:
        model.estimate(app_template(update_policy=False), assumptions=FIXED)
    message = str(raised.value)
    assert "Group" in message and "UpdatePolicy.AutoScalingRollingUpdate" in message
    assert "UpdatePolicy.AutoScalingInstanceRefresh" in message


def test_a_template_without_a_group_or_target_group_is_refused():
    template = app_template()
    del template["Resources"]["Group"]
    with pytest.raises(WimpyError, match="exactly one AWS::AutoScaling::AutoScalingGroup"):
        model.estimate(template)
    template = app_template()
    del template["Resources"]["Targets"]
    with pytest.raises(WimpyError, match="TargetGroup"):
        model.estimate(template)
    with pytest.raises(WimpyError, match="no Resources"):
        model.estimate({"Outputs": {}})


def test_settings_left_out_take_aws_defaults_and_say_so():
    template = app_template()
    rolling = template["Resources"]["Group"]["UpdatePolicy"]["AutoScalingRollingUpdate"]
    del rolling["PauseTime"]
    template["Resources"]["Targets"]["Properties"] = {}
    rollout = model.read_rollout(template)
    assert rollout.pause_seconds == 300  # PT5M with WaitOnResourceSignals
    assert (rollout.health_interval_seconds, rollout.healthy_threshold,
            rollout.deregistration_delay_seconds) == (30, 5, 300)
    assert any("PauseTime" in d for d in rollout.defaulted)


def test_a_launch_longer_than_the_signal_timeout_is_a_warning():
    result = model.estimate(app_template(pause="PT1M"), assumptions=FIXED)
    assert any("signal timeout" in w and "rolls back" in w for w in result.warnings)


def test_without_signals_cloudformation_just_pauses():
    result = model.estimate(app_template(signals=False, pause="PT3M"), assumptions=FIXED)
    assert result.expected_seconds == 4 * (180 + 20 + 30) == result.worst_seconds
    assert any("WaitOnResourceSignals" in w for w in result.warnings)


def test_durations_and_bad_values():
    assert model.duration_seconds("PT1H2M3S", what="x") == 3723
    assert model.duration_seconds("PT10M", what="x") == 600
    with pytest.raises(WimpyError, match="ISO 8601"):
        model.duration_seconds("10 minutes", what="x")
    with pytest.raises(WimpyError, match="not a number"):
        model.estimate(app_template(dereg={"Ref": "Delay"}))
    with pytest.raises(WimpyError, match="boot_seconds"):
        model.Assumptions(boot_seconds=-1)


def test_the_synthesized_template_reads_as_wimpy_configures_it():
    rollout = model.read_rollout(json.loads(SNAPSHOT.read_text()))
    # The default batch is the whole group (a surge), where max leaves room for it.
    assert (rollout.min_size, rollout.max_size, rollout.max_batch_size) == (2, 4, 2)
    # The launch hook's timeout bounds a launch, as the signal's did.
    assert (rollout.pause_seconds, rollout.creation_timeout_seconds) == (600, 600)
    assert rollout.wait_on_signals and rollout.defaulted == ()
    assert rollout.refresh and (rollout.warmup_seconds, rollout.bake_seconds, rollout.alarms) == (20, 300, 3)
    assert (rollout.health_interval_seconds, rollout.healthy_threshold,
            rollout.deregistration_delay_seconds) == (10, 2, 30)
    result = model.estimate_rolling(rollout, FIXED)
    # One batch of both (the surge): 120 s ready + 20 s warm-up + 30 s drain, then the
    # 300 s bake.
    assert result.batches == 1 and result.expected_seconds == 170 + 300
    assert phase(result, "bake (alarms watched)").formula == "300 s BakeTime, 3 alarms watched; one firing rolls back"
    assert result.worst_seconds == (600 + 20 + 30) + 300


def refresh_template(*, min_size=4, low=100, high=150, warmup=20, bake=120, hook=True) -> dict:
    template = app_template(min_size=min_size, update_policy=False)
    group = template["Resources"]["Group"]
    group["UpdatePolicy"] = {"AutoScalingInstanceRefresh": {"Strategy": "Rolling", "Preferences": {
        "MinHealthyPercentage": low, "MaxHealthyPercentage": high, "InstanceWarmup": warmup,
        "BakeTime": bake, "AlarmSpecification": {"Alarms": [{"Ref": "Errors"}]}}}}
    if hook:
        group["Properties"]["LifecycleHookSpecificationList"] = [{
            "LifecycleHookName": "ready", "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
            "HeartbeatTimeout": 400, "DefaultResult": "CONTINUE"}]
    return template


def test_an_instance_refresh_batches_by_its_healthy_range_and_bakes_once():
    # 4 instances, 100-150%: 2 beside the 4, so 2 batches; each 120 s ready + 20 s warm-up
    # + 30 s drain; then one 120 s bake.
    result = model.estimate(refresh_template(), assumptions=FIXED)
    assert result.batches == 2
    assert result.expected_seconds == 2 * (120 + 20 + 30) + 120
    assert phase(result, "warm-up before the next batch").seconds == 40
    assert result.worst_seconds == 2 * (400 + 20 + 30) + 120
    assert "400 s launch hook timeout" in result.worst_formula
    # 100-110% of 4 leaves room for no whole instance: one at a time, as AWS does.
    assert model.estimate(refresh_template(high=110), assumptions=FIXED).batches == 4


def test_an_instance_refresh_without_a_hook_or_a_bake_is_warned_about():
    result = model.estimate(refresh_template(hook=False, bake=0), assumptions=FIXED)
    assert any("no launch lifecycle hook" in w for w in result.warnings)
    assert any("BakeTime is 0" in w for w in result.warnings)
    assert not [p for p in result.phases if p.name.startswith("bake")]


# -- blue/green ----------------------------------------------------------------------

def test_blue_green_creates_a_release_then_walks_the_canary():
    plan_ = model.canary_plan((10, 50, 100), 300, 60)
    result = model.estimate(app_template(), strategy="blue-green", assumptions=FIXED,
                            canary=plan_)
    # 150 s ALB + 120 s launch (all instances in parallel) + 20 s health
    # + (60 + 300) + (60 + 300) + (2 x 60 + 300) canary + 30 s drain.
    assert result.expected_seconds == 150 + 120 + 20 + 360 + 360 + 420 + 30 == 1460
    assert phase(result, "promotion at 100%").formula == "2 x 60 s TTL + 300 s bake"
    # Each step waits one TTL and the bake, the last two TTLs (clients of the old release
    # must have left) and the bake: in the model and in what wimpy_cli/release/canary.py waits.
    assert [p.seconds for p in result.phases if "%" in p.name] == [60 + 300, 60 + 300, 2 * 60 + 300]
    assert [plan_.wait_for(step) for step in plan_.steps] == [60 + 300, 60 + 300, 2 * 60 + 300]
    # Worst: the creation signal timeout instead of the launch, and the judge waiting the
    # longest for each step's metrics.
    assert result.worst_seconds == 150 + 600 + 20 + 1140 + 3 * 180 + 30


def test_blue_green_behind_the_front_creates_no_load_balancer_and_waits_no_ttl():
    plan_ = model.canary_plan((10, 50, 100), 300, 0)
    result = model.estimate(app_template(), strategy="blue-green", assumptions=FIXED,
                            canary=plan_, through_front=True)
    # 120 s launch + 20 s health + 3 x 300 s bake + 30 s drain: no ALB, no TTL.
    assert result.expected_seconds == 120 + 20 + 3 * 300 + 30
    assert not [p for p in result.phases if "load balancer" in p.name]
    assert phase(result, "canary step 10%").formula == "300 s bake (listener weights: in effect at once)"
    assert result.worst_seconds == 600 + 20 + 900 + 3 * 180 + 30


def test_rollback_from_a_kept_release_at_zero_or_warm_in_both_traffic_modes():
    """What `wimpy plan` prints for deploy.kept_release_capacity: from zero the instances
    boot first; warm, behind the front only its health checks (it left the listener, so
    nothing checked it), through DNS only the clients' TTL (its own load balancer kept
    checking it)."""
    def rollbacks(**kwargs):
        return {r.kept: r for r in model.estimate(app_template(), strategy="blue-green",
                                                  assumptions=FIXED, **kwargs).rollbacks}

    behind = rollbacks(canary=model.canary_plan((100,), 0, 0), through_front=True, kept="warm")
    assert (behind["zero"].seconds, behind["warm"].seconds) == (120 + 20, 20)
    assert behind["warm"].configured and not behind["zero"].configured
    dns = rollbacks(canary=model.canary_plan((100,), 0, 60))
    assert (dns["zero"].seconds, dns["warm"].seconds) == (120 + 20 + 60, 60)
    assert dns["zero"].configured and "60 s TTL" in dns["zero"].formula
    # None kept: the release is deployed again, through DNS with its load balancer.
    none = rollbacks(canary=model.canary_plan((100,), 0, 60), keep_releases=0)
    assert none["none"].seconds == 150 + 120 + 20 + 60 and none["none"].configured
    assert not none["zero"].configured and not none["warm"].configured
    # Rolling: the previous version deployed again, as long as a deploy.
    (rolling,) = model.estimate(app_template(), assumptions=FIXED).rollbacks
    assert (rolling.kept, rolling.seconds) == ("rolling", 680)


def test_blue_green_needs_no_update_policy_and_takes_its_defaults():
    result = model.estimate(app_template(update_policy=False), strategy="blue-green",
                            assumptions=FIXED)
    assert result.expected_seconds == 150 + 120 + 20 + (60 + 300) * 2 + (120 + 300) + 30


def test_bad_canary_and_strategy_values_name_the_flag():
    with pytest.raises(WimpyError, match="--steps 10,50") as raised:
        model.canary_plan((10, 50), 300, 60)
    assert raised.value.code == ExitCode.USAGE
    with pytest.raises(WimpyError, match="--strategy 'canary'"):
        model.estimate(app_template(), strategy="canary")


# -- the peers -----------------------------------------------------------------------

def test_every_peer_row_is_the_same_model_with_its_published_defaults():
    rollout = model.read_rollout(app_template())
    rows = {row.name: row for row in model.compare(rollout, FIXED)}
    assert rows["Wimpy (this template)"].expected_seconds == 680
    # AWS defaults: 5 x 30 s to be healthy, 300 s drain, the template's batch of 1, and a
    # PT5M PauseTime as the worst case (CloudFormation's UpdatePolicy documentation).
    aws = rows["AWS defaults (ALB + CFN rolling update)"]
    assert (aws.batches, aws.expected_seconds) == (4, 4 * (READY + 150 + 300))
    assert aws.worst_seconds == 4 * (300 + 150 + 300)
    # Copilot: 5 x 30 s, 60 s drain, the whole new set at once (min 100 % / max 200 %).
    copilot = rows["Copilot"]
    assert (copilot.batches, copilot.expected_seconds) == (1, READY + 150 + 60)
    # Elastic Beanstalk: all at once, 12 checks in 2 minutes, 840 s effective timeout.
    beanstalk = rows["Elastic Beanstalk"]
    assert (beanstalk.batches, beanstalk.expected_seconds) == (1, READY + 120 + 300)
    assert beanstalk.worst_seconds == 840 + 120 + 300
    assert any("300 s" in a for a in beanstalk.assumed)
    # Kamal: /up every 1 s, 30 s drain; its 30 s deploy timeout bounds the container only.
    kamal = rows["Kamal"]
    assert kamal.expected_seconds == READY + 1 + 30
    assert kamal.worst_seconds == (40 + 50 + 20 + 30) + 1 + 30
    assert kamal.assumed  # the threshold and the batching are not in the survey
    # Instance Refresh keeps 90 % healthy: one of four at a time.
    assert rows["ASG Instance Refresh"].batches == 4
    assert rows["CodeDeploy (EC2, OneAtATime)"].batches == 4


def test_every_peer_cites_public_pages_a_user_can_open():
    for peer in PEERS:
        cited = [source.strip() for source in peer.sources.split(";")]
        assert cited and all(source.startswith("https://") for source in cited), peer.name
        assert "peers-deploy-tools" not in peer.sources  # a file users do not have


def test_wimpy_defaults_are_faster_than_aws_defaults_for_the_example():
    """The README's claim, in the model: at the example's size, Wimpy's health check and
    drain make a rolling deploy several minutes shorter than AWS's defaults would."""
    rows = {row.name: row for row in model.compare(
        model.read_rollout(json.loads(SNAPSHOT.read_text())), FIXED)}
    wimpy, aws = rows["Wimpy (this template)"], rows["AWS defaults (ALB + CFN rolling update)"]
    # Wimpy's row also watches its alarms for the 300 s bake, which AWS's defaults skip.
    # One batch each (the same MaxBatchSize): 130 s less health checking, 270 s less drain.
    assert (wimpy.batches, aws.batches) == (1, 1)
    assert aws.expected_seconds - (wimpy.expected_seconds - 300) == (150 - 20) + (300 - 30)


# -- the command ---------------------------------------------------------------------

def command():
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command(name="plan")(reporting.reports_errors(plan))

    @app.callback()
    def _root() -> None:
        pass

    return app


runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(command(), ["plan", "-c", str(EXAMPLE), *args])


@pytest.fixture()
def template_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.template.json"
    path.write_text(json.dumps(app_template()))
    return path


def test_plan_prints_each_phase_with_its_formula_then_the_totals(template_file):
    result = invoke("--env", "staging", "--template", str(template_file), "--boot-seconds", "40",
                    "--install-seconds", "50", "--pull-seconds", "20", "--start-seconds", "8")
    assert result.exit_code == 0, result.output
    assert "4 batches x 2 healthy checks x 10 s interval" in result.stdout
    assert "(680 s)" in result.stdout and "(2600 s)" in result.stdout
    assert "Next: wimpy deploy --env staging" in result.stdout


def test_plan_json_and_compare(template_file):
    result = invoke("--env", "staging", "--template", str(template_file), "--json", "--compare",
                    "--boot-seconds", "40", "--install-seconds", "50", "--pull-seconds", "20",
                    "--start-seconds", "8")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["expected_seconds"] == 680 and document["strategy"] == "rolling"
    assert [p["name"] for p in document["phases"]][-1] == "drain of the replaced instance"
    names = [row["name"] for row in document["comparison"]]
    assert names[0] == "Wimpy (this template)" and "Kamal" in names


def test_plan_blue_green_flags(template_file, tmp_path):
    flags = ["--env", "staging", "--template", str(template_file), "--json", "--strategy", "blue-green",
             "--steps", "25,100", "--bake-seconds", "60", "--ttl-seconds", "10",
             "--load-balancer-seconds", "100", "--boot-seconds", "40", "--install-seconds", "50",
             "--pull-seconds", "20", "--start-seconds", "8"]
    # The example's deploy.traffic is the default, load-balancer: no ALB per release, no TTL.
    result = invoke(*flags)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["expected_seconds"] == 120 + 20 + 60 + 60 + 30
    assert [(r["kept"], r["seconds"], r["configured"]) for r in document["rollbacks"]] == [
        ("zero", 140, True), ("warm", 20, False)]
    # Through DNS: the release's ALB and a TTL per step (two at 100%).
    data = yaml.safe_load(EXAMPLE.read_text())
    data["deploy"] = {"traffic": "dns", "kept_release_capacity": "warm"}
    dns = tmp_path / "dns.yml"
    dns.write_text(yaml.safe_dump(data))
    result = runner.invoke(command(), ["plan", "-c", str(dns), *flags])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["expected_seconds"] == 100 + 120 + 20 + 70 + 80 + 30
    assert [(r["kept"], r["seconds"], r["configured"]) for r in document["rollbacks"]] == [
        ("zero", 150, False), ("warm", 10, True)]


def test_plan_prints_the_rollback_time_of_each_kept_release_size(template_file):
    result = invoke("--env", "staging", "--template", str(template_file), "--strategy", "blue-green",
                    "--boot-seconds", "40", "--install-seconds", "50", "--pull-seconds", "20",
                    "--start-seconds", "8")
    assert result.exit_code == 0, result.output
    assert "behind the application's load balancer" in result.stdout
    lines = result.stdout.splitlines()
    (zero,) = [line for line in lines if line.strip().startswith("kept at zero")]
    (warm,) = [line for line in lines if line.strip().startswith("kept warm")]
    assert "2m20s" in zero and "(wimpy.yml)" in zero and "instances boot" in zero
    assert "20s" in warm and "(wimpy.yml)" not in warm


@pytest.mark.parametrize("args, words", [
    (["--strategy", "canary"], ["--strategy", "canary", "rolling", "blue-green"]),
    (["--strategy", "blue-green", "--steps", "50,10,100"], ["--steps 50,10,100", "rise"]),
    (["--strategy", "blue-green", "--steps", "10,50"], ["--steps 10,50", "end at 100"]),
    (["--strategy", "blue-green", "--bake-seconds", "-1"], ["--bake-seconds -1"]),
    (["--steps", "ten"], ["--steps", "'ten'"]),
    (["--boot-seconds", "-5"], ["--boot-seconds -5", "0 or more"]),
])
def test_plan_bad_flags_exit_2_naming_the_flag(template_file, args, words):
    result = invoke("--env", "staging", "--template", str(template_file), *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    for word in words:
        assert word in result.stderr


def test_plan_without_update_policy_exits_1_naming_it(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(app_template(update_policy=False)))
    result = invoke("--env", "staging", "--template", str(path))
    assert result.exit_code == ExitCode.FAILED
    assert "UpdatePolicy.AutoScalingRollingUpdate" in result.stderr


def test_plan_synthesizes_the_application_stack():
    """Through the same CDK CLI path as `wimpy synth` (no --template)."""
    result = invoke("--env", "production", "--json", "--boot-seconds", "40",
                    "--install-seconds", "50", "--pull-seconds", "20", "--start-seconds", "8")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["template"].startswith("wimpy-production-hello.template.json")
    # The example: 2 instances in one batch (the default surge), 20 s warm-up, 30 s
    # drain, then the bake.
    assert document["batches"] == 1
    assert document["expected_seconds"] == 170 + document["phases"][-1]["seconds"]
    assert document["phases"][-1]["name"] == "bake (alarms watched)"


def test_estimate_modules_import_nothing_heavy():
    import subprocess
    import sys

    probe = ("import sys, wimpy_cli.estimate.deploy_time, wimpy_cli.estimate.cost, wimpy_cli.estimate.peers, "
             "wimpy_cli.commands.plan, wimpy_cli.commands.cost; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "{'aws_cdk','jsii','constructs','wimpy_constructs','wimpy_stacks','cdk_nag','moto','boto3'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, check=True).stdout.strip()
    assert out == "[]"


def test_template_is_not_modified():
    template = app_template()
    before = copy.deepcopy(template)
    model.estimate(template)
    model.estimate(template, strategy="blue-green")
    assert template == before
