"""Blue/green and canary deploys against the AWS emulator over HTTP (real CDK CLI, boto3):
weights after each step, promotion, automatic rollback on an alarm, manual steps with
promote and abort, rollback with a kept release and with none, interruption and a second
deploy at once. Time is a fake clock: bakes are real durations that take no time.

Every test deploys an application of its own (named after the test) and builds the state
it starts from with the fixtures below (`v1_live`, `v2_promoted`, `paused_canary`), so each
runs alone and in any order: nothing another test did can reach its releases, weights,
locks or paused canaries."""

from __future__ import annotations

import pytest

from wimpy_cli.errors import ExitCode
from tests.blue_green_support import *  # noqa: F401,F403 - the fixtures and helpers they use

# Route53 weights between releases each with its own load balancer: TTL waits and all.
# tests/test_blue_green_rollback.py runs through the load balancer's listener instead.
TRAFFIC = "dns"


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
    from wimpy_cli.errors import WimpyError

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
    assert "v4.0.0 is a canary paused at step 1/3 (10% of traffic)" in refused.output
    stepped = site.wimpy("promote", "--json")
    assert stepped.exit_code == 0, stepped.output
    assert json.loads(stepped.stdout)["status"] == "paused"
    assert site.weights() == {v1_live: 255, v4: 255}  # the 50 % step
