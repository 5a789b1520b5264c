"""Blue/green and canary deploys against the AWS emulator over HTTP (real CDK CLI, boto3):
weights after each step, promotion, automatic rollback on an alarm, manual steps with
promote and abort, rollback with a kept release and with none, interruption and a second
deploy at once. Time is a fake clock: bakes are real durations that take no time."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from cli.errors import ExitCode
from cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()
PREFIX = "wimpy-staging-hello--"  # cli.naming.release_stack


class FakeClock:
    """Advances on sleep; `on_sleep` lets a test act during a bake (e.g. raise an alarm)."""

    def __init__(self):
        self.time, self.slept, self.on_sleep = 0.0, 0.0, None

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.time += seconds
        self.slept += seconds
        if self.on_sleep:
            self.on_sleep(self.time)




@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["app"]["deregistration_delay_seconds"] = 30
    data["deploy"] = {"strategy": "blue-green", "keep_releases": 1, "dns_ttl_seconds": 60,
                      "canary": {"steps": [10, 50, 100], "bake_seconds": 300}}
    path = tmp_path_factory.mktemp("app") / "wimpy.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(autouse=True)
def no_real_waiting(monkeypatch):
    """Commands run with the system clock: make it a fake one that records its waits and
    advances by them, so bakes and drains take no real time."""
    from cli.release.canary import SystemClock

    waited: list[float] = []
    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: waited.append(seconds))
    monkeypatch.setattr(SystemClock, "now", lambda self: sum(waited))
    return waited


@pytest.fixture
def releases(emulator, config_path, clock):
    """A BlueGreen on the emulator, as `wimpy deploy` builds it."""
    from cli import targets
    from cli.commands.common import load
    from cli.deploy import stacks
    from cli.phases import Phases
    from cli.release.bluegreen import BlueGreen

    config = load(config_path, ["staging"])
    phases = Phases()
    with targets.open_target(config, local=True, phases=phases) as target:
        run = stacks.StackDeploy(config_path=config_path, environment="staging", target=target,
                                 show=lambda line: None)
        yield BlueGreen(config=config, config_path=config_path, env="staging", target=target,
                        phases=phases, run=run, clock=clock)


def image(version):
    return f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello:{version}"


def weights(emulator) -> dict[str, int]:
    """Release stack -> the weight Route53 really has for its record."""
    route53 = emulator.client("route53")
    (zone,) = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
    return {r["SetIdentifier"]: r["Weight"]
            for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
            if r["Name"] == "hello.staging.example.com." and "SetIdentifier" in r}


def release_stacks(emulator) -> list[str]:
    return sorted(s["StackName"] for s in emulator.client("cloudformation").describe_stacks()["Stacks"]
                  if s["StackName"].startswith(PREFIX))


def record_weights_during(releases, emulator):
    """Route53 weights after every traffic step of the canary."""
    from cli.release import traffic

    seen = []
    original = traffic.WeightedTraffic.set_split

    def set_split(self, split):
        original(self, split)
        seen.append(weights(emulator))
    traffic.WeightedTraffic.set_split = set_split
    return seen, lambda: setattr(traffic.WeightedTraffic, "set_split", original)


def create_release_alarm(emulator, stack, suffix="errors"):
    """The emulator skips AWS::CloudWatch::Alarm in templates: create the alarm the
    template declares, under the same name, through the API."""
    emulator.client("cloudwatch").put_metric_alarm(
        AlarmName=f"{stack}-{suffix}", MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB", Statistic="Sum", Period=60, EvaluationPeriods=3,
        Threshold=5, ComparisonOperator="GreaterThanThreshold")


def test_1_first_release_takes_all_traffic(releases, emulator):
    from cli.deploy.foundation import deploy_foundation

    deploy_foundation(releases.run, releases.config, releases.phases)
    result = releases.deploy(version="v1.0.0", image=image("v1.0.0"))
    assert result["status"] == "live" and result["stack"] == "wimpy-staging-hello-v1-0-0-" + result["stack"][-7:]
    assert weights(emulator) == {result["stack"]: 255}


def test_2_canary_moves_traffic_in_steps_then_promotes(releases, emulator, clock):
    (v1,) = release_stacks(emulator)
    seen, undo = record_weights_during(releases, emulator)
    try:
        result = releases.deploy(version="v2.0.0", image=image("v2.0.0"))
    finally:
        undo()
    v2 = result["stack"]
    assert result["status"] == "promoted"
    assert seen == [{v1: 252, v2: 28}, {v1: 255, v2: 255}, {v1: 0, v2: 255}]
    # Each step watched one TTL + the bake, the last two TTLs + bake; then two TTLs + drain.
    assert clock.slept == (60 + 300) * 2 + (120 + 300) + (120 + 30)
    # v1 is kept (keep_releases: 1) at no traffic and zero capacity, ready for rollback.
    assert release_stacks(emulator) == sorted([v1, v2])
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in emulator.client("cloudformation")
                  .describe_stacks(StackName=v1)["Stacks"][0]["Parameters"]}
    assert parameters["TrafficWeight"] == "0" and parameters["Capacity"] == "off"


def test_3_status_shows_every_release(emulator, config_path):
    result = runner.invoke(app, ["status", "-c", str(config_path), "--env", "staging", "--local", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["version"]: r for r in json.loads(result.stdout)["releases"]}
    assert set(rows) == {"v1.0.0", "v2.0.0"}
    assert (rows["v2.0.0"]["share"], rows["v2.0.0"]["weight"], rows["v2.0.0"]["capacity"]) == (100.0, 255, "on")
    assert (rows["v1.0.0"]["share"], rows["v1.0.0"]["capacity"]) == (0.0, "zero")
    human = runner.invoke(app, ["status", "-c", str(config_path), "--env", "staging", "--local"])
    assert "v2.0.0" in human.stdout and "100.0%" in human.stdout


def test_4_an_alarm_during_a_bake_rolls_back_and_removes_the_release(releases, emulator, clock):
    from cli.errors import WimpyError
    from cli.release.names import release_name

    v3 = PREFIX + release_name("v3.0.0")
    live_before = {k: v for k, v in weights(emulator).items() if v}
    create_release_alarm(emulator, v3)

    def raise_alarm(now):
        if now >= 100:  # during step 1's bake
            emulator.client("cloudwatch").set_alarm_state(
                AlarmName=f"{v3}-errors", StateValue="ALARM", StateReason="5xx rate 12% > 5%")
    clock.on_sleep = raise_alarm
    with pytest.raises(WimpyError) as failed:
        releases.deploy(version="v3.0.0", image=image("v3.0.0"))
    assert failed.value.code == ExitCode.ROLLED_BACK
    assert f"alarm {v3}-errors is in ALARM (5xx rate 12% > 5%)" in str(failed.value)
    assert "at 10.0% of traffic" in str(failed.value)
    assert {k: v for k, v in weights(emulator).items() if v} == live_before
    assert v3 not in release_stacks(emulator)


def test_5_manual_steps_pause_and_promote_continues(releases, emulator, config_path):
    from cli.release.names import release_name

    result = releases.deploy(version="v4.0.0", image=image("v4.0.0"), manual=True)
    assert result["status"] == "paused" and result["share"] == 10.0
    v4 = PREFIX + release_name("v4.0.0")
    assert weights(emulator)[v4] == 28
    # Another deploy is refused while the canary is paused.
    refused = runner.invoke(app, ["deploy", "-c", str(config_path), "--env", "staging", "--local",
                                  "--version", "v5.0.0"])
    assert refused.exit_code == ExitCode.LOCKED, refused.output
    assert "a canary of v4.0.0 is paused" in refused.output
    stepped = runner.invoke(app, ["promote", "-c", str(config_path), "--env", "staging", "--local", "--json"])
    assert stepped.exit_code == 0, stepped.output
    assert json.loads(stepped.stdout)["status"] == "paused" and weights(emulator)[v4] == 255


def test_6_abort_puts_traffic_back_and_removes_the_release(emulator, config_path, no_real_waiting):
    from cli.release.names import release_name

    v4 = PREFIX + release_name("v4.0.0")
    result = runner.invoke(app, ["abort", "-c", str(config_path), "--env", "staging", "--local", "--json"])
    assert result.exit_code == 0, result.output
    live = {k: v for k, v in weights(emulator).items() if v}
    assert list(live.values()) == [255] and v4 not in live
    assert v4 not in release_stacks(emulator)
    assert sum(no_real_waiting) == 2 * 60 + 30  # clients and in-flight requests leave first
    again = runner.invoke(app, ["abort", "-c", str(config_path), "--env", "staging", "--local"])
    assert again.exit_code == ExitCode.FAILED and "no canary of hello is paused" in again.output


def test_7_rollback_to_the_kept_release_scales_it_up_and_moves_traffic(emulator, config_path):
    from cli.release.names import release_name

    v1, v2 = (PREFIX + release_name(v) for v in ("v1.0.0", "v2.0.0"))
    result = runner.invoke(app, ["rollback", "-c", str(config_path), "--env", "staging", "--local", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "v1.0.0"
    assert weights(emulator)[v1] == 255 and weights(emulator)[v2] == 0
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in emulator.client("cloudformation")
                  .describe_stacks(StackName=v1)["Stacks"][0]["Parameters"]}
    assert parameters["Capacity"] == "on"


def test_8_rollback_when_the_previous_release_is_gone_redeploys_it(releases, emulator, config_path):
    from cli.release.bluegreen import delete_release
    from cli.release.names import release_name

    v1, v2 = (PREFIX + release_name(v) for v in ("v1.0.0", "v2.0.0"))
    delete_release(emulator.client("cloudformation"), emulator.client("elbv2"), v2)
    assert v2 not in release_stacks(emulator)
    result = runner.invoke(app, ["rollback", "-c", str(config_path), "--env", "staging", "--local", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["version"] == "v2.0.0" and document["stack"] == v2
    assert weights(emulator)[v2] == 255 and weights(emulator)[v1] == 0


def test_9_an_interrupted_deploy_can_be_rerun_and_converges(releases, emulator, clock):
    from cli.release.names import release_name

    v6 = PREFIX + release_name("v6.0.0")

    class Interrupted(Exception):
        pass

    def kill(now):
        raise Interrupted()  # the process dies during step 1's bake
    clock.on_sleep = kill
    with pytest.raises(Interrupted):
        releases.deploy(version="v6.0.0", image=image("v6.0.0"))
    assert weights(emulator)[v6] == 28  # left mid-canary
    clock.on_sleep = None
    result = releases.deploy(version="v6.0.0", image=image("v6.0.0"))
    assert result["status"] == "promoted"
    live = {k: v for k, v in weights(emulator).items() if v}
    assert live == {v6: 255}


def test_10_a_second_deploy_at_once_is_refused(emulator, config_path):
    from cli.deploy.lock import deploy_lock

    with deploy_lock(emulator.client("ssm"), env="staging", app="hello", version="v7.0.0"):
        refused = runner.invoke(app, ["rollback", "-c", str(config_path), "--env", "staging", "--local"])
    assert refused.exit_code == ExitCode.LOCKED
    assert "another deploy of hello to staging is running (version v7.0.0" in refused.output
