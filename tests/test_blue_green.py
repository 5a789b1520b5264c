"""Blue/green and canary deploys against the AWS emulator over HTTP (real CDK CLI, boto3):
weights after each step, promotion, automatic rollback on an alarm, manual steps with
promote and abort, rollback with a kept release and with none, interruption and a second
deploy at once. Time is a fake clock: bakes are real durations that take no time.

Every test deploys an application of its own (named after the test) and builds the state
it starts from with the fixtures below (`v1_live`, `v2_promoted`, `paused_canary`), so each
runs alone and in any order: nothing another test did can reach its releases, weights,
locks or paused canaries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cli.errors import ExitCode
from cli.main import app as wimpy
from tests.conftest import EXAMPLE

runner = CliRunner()
ENV = "staging"


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


@dataclass
class Site:
    """One application, configured for blue/green, in the module's emulator."""

    app: str
    config_path: Path
    releases: Any  # the BlueGreen `wimpy deploy` would build
    emulator: Any

    def stack(self, version: str) -> str:
        from cli import naming
        from cli.release.names import release_name

        return naming.release_stack(ENV, self.app, release_name(version))

    def image(self, version: str) -> str:
        return f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/{self.app}:{version}"

    def deploy(self, version: str, **kwargs) -> dict:
        return self.releases.deploy(version=version, image=self.image(version), **kwargs)

    def weights(self) -> dict[str, int]:
        """Release stack -> the weight Route53 really has for its record."""
        route53 = self.emulator.client("route53")
        (zone,) = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        return {r["SetIdentifier"]: r["Weight"] for r in records
                if r["Name"] == f"{self.app}.{ENV}.example.com." and "SetIdentifier" in r}

    def live(self) -> dict[str, int]:
        return {stack: weight for stack, weight in self.weights().items() if weight}

    def release_stacks(self) -> list[str]:
        from cli import naming

        prefix = naming.release_stack(ENV, self.app, "")
        stacks = self.emulator.client("cloudformation").describe_stacks()["Stacks"]
        return sorted(s["StackName"] for s in stacks if s["StackName"].startswith(prefix))

    def parameters(self, stack: str) -> dict[str, str]:
        (described,) = self.emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
        return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}

    def wimpy(self, command: str, *args: str):
        return runner.invoke(wimpy, [command, "-c", str(self.config_path), "--env", ENV, "--local",
                                     *args])


@pytest.fixture
def site(emulator, tmp_path, request, clock):
    """An application of the test's own with its foundation deployed, and no release yet."""
    from cli import targets
    from cli.commands.common import load
    from cli.deploy import stacks
    from cli.deploy.foundation import deploy_foundation
    from cli.phases import Phases
    from cli.release.bluegreen import BlueGreen

    name = "bg" + hashlib.sha256(request.node.name.encode()).hexdigest()[:8]
    data = yaml.safe_load(EXAMPLE.read_text())
    data["app"]["name"] = name
    data["app"]["deregistration_delay_seconds"] = 30
    data["deploy"] = {"strategy": "blue-green", "keep_releases": 1, "dns_ttl_seconds": 60,
                      "canary": {"steps": [10, 50, 100], "bake_seconds": 300}}
    config_path = tmp_path / "wimpy.yml"
    config_path.write_text(yaml.safe_dump(data))

    config = load(config_path, [ENV])
    phases = Phases()
    with targets.open_target(config, local=True, phases=phases) as target:
        run = stacks.StackDeploy(config_path=config_path, environment=ENV, target=target,
                                 show=lambda line: None)
        deploy_foundation(run, config, phases)
        yield Site(app=name, config_path=config_path, emulator=emulator,
                   releases=BlueGreen(config=config, config_path=config_path, env=ENV,
                                      target=target, phases=phases, run=run, clock=clock))


@pytest.fixture
def v1_live(site) -> str:
    """v1.0.0 deployed, taking all traffic; returns its stack."""
    result = site.deploy("v1.0.0")
    assert result["status"] == "live", result
    return result["stack"]


@pytest.fixture
def v2_promoted(site, v1_live) -> tuple[str, str]:
    """v2.0.0 canaried and promoted over v1.0.0, which is kept at zero; (v1, v2) stacks."""
    result = site.deploy("v2.0.0")
    assert result["status"] == "promoted", result
    return v1_live, result["stack"]


@pytest.fixture
def paused_canary(site, v1_live) -> tuple[str, str]:
    """v4.0.0 deployed with --manual over the live v1.0.0: paused at its first step
    (10 %); (v1, v4) stacks."""
    result = site.deploy("v4.0.0", manual=True)
    assert (result["status"], result["share"]) == ("paused", 10.0), result
    return v1_live, result["stack"]


@pytest.fixture
def weights_at_each_step(site, monkeypatch) -> list[dict[str, int]]:
    """Route53 weights after every traffic step of a canary."""
    from cli.release import traffic

    seen: list[dict[str, int]] = []
    set_split = traffic.WeightedTraffic.set_split

    def recording(self, split):
        set_split(self, split)
        seen.append(site.weights())
    monkeypatch.setattr(traffic.WeightedTraffic, "set_split", recording)
    return seen


def create_release_alarm(emulator, stack, suffix="errors"):
    """The emulator skips AWS::CloudWatch::Alarm in templates: create the alarm the
    template declares, under the same name, through the API."""
    emulator.client("cloudwatch").put_metric_alarm(
        AlarmName=f"{stack}-{suffix}", MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB", Statistic="Sum", Period=60, EvaluationPeriods=3,
        Threshold=5, ComparisonOperator="GreaterThanThreshold")


def test_the_first_release_takes_all_traffic(site):
    assert site.release_stacks() == [] and site.weights() == {}
    result = site.deploy("v1.0.0")
    # `--` before the release name; a version with dots gets a short hash of itself.
    assert result["status"] == "live"
    assert result["stack"] == f"wimpy-staging-{site.app}--v1-0-0-" + result["stack"][-7:]
    assert site.release_stacks() == [result["stack"]]
    assert site.weights() == {result["stack"]: 255}


def test_a_canary_moves_traffic_in_steps_then_promotes(site, v1_live, clock, weights_at_each_step):
    v1 = v1_live
    result = site.deploy("v2.0.0")
    v2 = result["stack"]
    assert result["status"] == "promoted"
    assert weights_at_each_step == [{v1: 252, v2: 28}, {v1: 255, v2: 255}, {v1: 0, v2: 255}]
    # Each step watched one TTL + the bake, the last two TTLs + bake; then two TTLs + drain.
    assert clock.slept == (60 + 300) * 2 + (120 + 300) + (120 + 30)
    # v1 is kept (keep_releases: 1) at no traffic and zero capacity, ready for rollback.
    assert site.release_stacks() == sorted([v1, v2])
    parameters = site.parameters(v1)
    assert parameters["TrafficWeight"] == "0" and parameters["Capacity"] == "off"


def test_status_shows_every_release(site, v2_promoted):
    result = site.wimpy("status", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["version"]: r for r in json.loads(result.stdout)["releases"]}
    assert set(rows) == {"v1.0.0", "v2.0.0"}
    assert (rows["v2.0.0"]["share"], rows["v2.0.0"]["weight"], rows["v2.0.0"]["capacity"]) == (100.0, 255, "on")
    assert (rows["v1.0.0"]["share"], rows["v1.0.0"]["capacity"]) == (0.0, "zero")
    human = site.wimpy("status")
    assert "v2.0.0" in human.stdout and "100.0%" in human.stdout


def test_an_alarm_during_a_bake_rolls_back_and_removes_the_release(site, v1_live, clock):
    from cli.errors import WimpyError

    v3 = site.stack("v3.0.0")
    create_release_alarm(site.emulator, v3)

    def raise_alarm(now):
        if now >= 100:  # during step 1's bake
            site.emulator.client("cloudwatch").set_alarm_state(
                AlarmName=f"{v3}-errors", StateValue="ALARM", StateReason="5xx rate 12% > 5%")
    clock.on_sleep = raise_alarm
    with pytest.raises(WimpyError) as failed:
        site.deploy("v3.0.0")
    assert failed.value.code == ExitCode.ROLLED_BACK
    assert f"alarm {v3}-errors is in ALARM (5xx rate 12% > 5%)" in str(failed.value)
    assert "at 10.0% of traffic" in str(failed.value)
    assert site.live() == {v1_live: 255}
    assert site.release_stacks() == [v1_live]


def test_manual_steps_pause_and_promote_continues(site, v1_live):
    result = site.deploy("v4.0.0", manual=True)
    assert result["status"] == "paused" and result["share"] == 10.0
    v4 = result["stack"]
    assert site.weights() == {v1_live: 252, v4: 28}
    # Another deploy is refused while the canary is paused.
    refused = site.wimpy("deploy", "--version", "v5.0.0")
    assert refused.exit_code == ExitCode.LOCKED, refused.output
    assert "a canary of v4.0.0 is paused" in refused.output
    stepped = site.wimpy("promote", "--json")
    assert stepped.exit_code == 0, stepped.output
    assert json.loads(stepped.stdout)["status"] == "paused"
    assert site.weights() == {v1_live: 255, v4: 255}  # the 50 % step


def test_abort_puts_traffic_back_and_removes_the_release(site, paused_canary, no_real_waiting):
    v1, v4 = paused_canary
    result = site.wimpy("abort", "--json")
    assert result.exit_code == 0, result.output
    assert site.live() == {v1: 255}
    assert site.release_stacks() == [v1]
    assert sum(no_real_waiting) == 2 * 60 + 30  # clients and in-flight requests leave first
    again = site.wimpy("abort")
    assert again.exit_code == ExitCode.FAILED and f"no canary of {site.app} is paused" in again.output


def test_rollback_to_the_kept_release_scales_it_up_and_moves_traffic(site, v2_promoted):
    v1, v2 = v2_promoted
    result = site.wimpy("rollback", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "v1.0.0"
    assert site.weights() == {v1: 255, v2: 0}
    assert site.parameters(v1)["Capacity"] == "on"


def test_rollback_when_the_previous_release_is_gone_redeploys_it(site, v2_promoted):
    from cli.release.bluegreen import delete_release

    v1, v2 = v2_promoted
    delete_release(site.emulator.client("cloudformation"), site.emulator.client("elbv2"), v1)
    assert site.release_stacks() == [v2]
    result = site.wimpy("rollback", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["version"] == "v1.0.0" and document["stack"] == v1
    assert site.weights() == {v1: 255, v2: 0}


def test_an_interrupted_deploy_can_be_rerun_and_converges(site, v1_live, clock):
    v6 = site.stack("v6.0.0")

    class Interrupted(Exception):
        pass

    def kill(now):
        raise Interrupted()  # the process dies during step 1's bake
    clock.on_sleep = kill
    with pytest.raises(Interrupted):
        site.deploy("v6.0.0")
    assert site.weights() == {v1_live: 252, v6: 28}  # left mid-canary
    clock.on_sleep = None
    result = site.deploy("v6.0.0")
    assert result["status"] == "promoted"
    assert site.live() == {v6: 255}


def test_a_second_deploy_at_once_is_refused(site):
    from cli.deploy.lock import deploy_lock

    with deploy_lock(site.emulator.client("ssm"), env=ENV, app=site.app, version="v7.0.0"):
        refused = site.wimpy("rollback")
    assert refused.exit_code == ExitCode.LOCKED
    assert f"another deploy of {site.app} to staging is running (version v7.0.0" in refused.output
