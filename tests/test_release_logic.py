"""Blue/green decision logic on its own: release names, weights and the canary's steps,
driven by a fake clock (no real sleeping)."""

from __future__ import annotations

import pytest

from wimpy_cli.release.canary import Canary, CanaryFailed, CanaryPlan
from wimpy_domain.naming import release_stack
from wimpy_cli.release.names import InvalidVersion, release_name
from wimpy_cli.release.weights import MAX_WEIGHT, Split, split_for


@pytest.mark.parametrize("version, expected", [
    ("v1-2-3", "v1-2-3"),
    ("0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567"),
])
def test_versions_that_are_already_names_keep_them(version, expected):
    assert release_name(version) == expected


@pytest.mark.parametrize("version", ["v1.2.3", "feature/x", "V1", "Feature-X", "release_2026.11",
                                     "a" * 128])
def test_other_versions_get_a_readable_name_and_a_hash(version):
    name = release_name(version)
    assert len(name) <= 48 and name == name.lower()
    assert all(c.isalnum() or c == "-" for c in name) and "--" not in name
    assert not name.startswith("-") and not name.endswith("-")
    stack = release_stack("production", "a" * 21, name)
    assert len(stack) <= 128


def test_names_are_distinct_for_look_alike_versions():
    versions = ["v1.2.3", "v1-2-3", "V1.2.3", "feature/x", "feature-x", "Feature-X", "feature_x",
                "0123456789abcdef0123456789abcdef01234567", "0123456789ABCDEF0123456789ABCDEF01234567"]
    names = [release_name(v) for v in versions]
    assert len(set(names)) == len(names), dict(zip(versions, names))
    assert release_name("v1.2.3").startswith("v1-2-3-")
    assert release_name("feature/x").startswith("feature-x-")


@pytest.mark.parametrize("version, message", [
    ("", "must be non-empty"), (" v1", "no spaces"), ("v 1", "no spaces"), ("v1\n", "control"),
    ("a" * 129, "129 characters"), ("///", "no letter or digit"),
])
def test_versions_that_are_refused(version, message):
    with pytest.raises(InvalidVersion, match=message):
        release_name(version)


@pytest.mark.parametrize("percent", [1, 5, 10, 25, 33, 50, 66.6, 75, 99])
def test_weights_are_as_close_as_route53_allows(percent):
    split = split_for(percent)
    assert 0 <= split.new <= MAX_WEIGHT and 0 <= split.old <= MAX_WEIGHT
    best = min(abs(100 * n / (n + o) - percent) for n in range(1, 256) for o in range(1, 256))
    assert abs(split.share - percent) == pytest.approx(best)


def test_exact_shares_and_the_ends():
    assert split_for(10) == Split(28, 252) and split_for(10).share == 10
    assert split_for(50) == Split(MAX_WEIGHT, MAX_WEIGHT)
    assert split_for(100) == Split(MAX_WEIGHT, 0) and split_for(100).share == 100
    assert split_for(0) == Split(0, MAX_WEIGHT)
    with pytest.raises(ValueError, match="between 0 and 100"):
        split_for(101)


def test_an_unreachable_share_reports_the_real_one():
    split = split_for(0.1)  # 1/256 is as small as a nonzero share gets with these weights
    assert split == Split(1, 255) and split.share == pytest.approx(0.390625)


class FakeClock:
    def __init__(self):
        self.time = 1000.0
        self.slept: list[float] = []

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.time += seconds


class RecordingTraffic:
    def __init__(self):
        self.splits: list[Split] = []

    def set_split(self, split):
        self.splits.append(split)


class ScriptedWatch:
    """Reports problems from a given moment (in fake seconds since the start) onwards."""

    def __init__(self, clock, fail_at: float | None = None, problem="wimpy-staging-web-v2-errors in ALARM"):
        self.clock, self.start, self.fail_at, self.problem = clock, clock.time, fail_at, problem
        self.checks = 0

    def problems(self):
        self.checks += 1
        if self.fail_at is not None and self.clock.now() - self.start >= self.fail_at:
            return [self.problem]
        return []


PLAN = CanaryPlan(steps=(10, 50, 100), bake_seconds=300, ttl_seconds=60, poll_seconds=10)


def test_plan_waits_a_ttl_then_bakes_and_two_ttls_at_full_traffic():
    assert [PLAN.wait_for(s) for s in PLAN.steps] == [360, 360, 420]


@pytest.mark.parametrize("steps, message", [((10, 50), "end at 100"), ((50, 10, 100), "rise strictly"),
                                            ((0, 100), "rise strictly"), ((), "end at 100")])
def test_bad_plans_are_refused(steps, message):
    with pytest.raises(ValueError, match=message):
        CanaryPlan(steps=steps, bake_seconds=1, ttl_seconds=1)


def run_steps(canary, steps):
    """What the blue/green strategy does per step (without the record): move, then watch."""
    from wimpy_cli.release.weights import split_for

    watched = []
    for percent in steps:
        split = split_for(percent)
        canary.move(split)
        watched.append(canary.watch(percent, split))
    return watched


def test_a_healthy_canary_goes_through_every_step_on_the_clock():
    clock, traffic = FakeClock(), RecordingTraffic()
    watch = ScriptedWatch(clock)
    watched = run_steps(Canary(PLAN, traffic, watch, clock), PLAN.steps)
    assert traffic.splits == [Split(28, 252), Split(255, 255), Split(255, 0)]
    assert watched == [360, 360, 420]
    assert clock.time - 1000 == 1140 and max(clock.slept) <= 10
    assert watch.checks >= 1140 / 10


def test_an_alarm_during_a_bake_stops_the_canary_at_once():
    clock, traffic = FakeClock(), RecordingTraffic()
    watch = ScriptedWatch(clock, fail_at=400)  # during step 2's bake
    with pytest.raises(CanaryFailed) as failed:
        run_steps(Canary(PLAN, traffic, watch, clock), PLAN.steps)
    assert failed.value.step == 50 and failed.value.split == Split(255, 255)
    assert "errors in ALARM" in str(failed.value) and "50.0% of traffic" in str(failed.value)
    assert traffic.splits == [Split(28, 252), Split(255, 255)]  # never went to 100%
    assert clock.time - 1000 <= 410  # stopped within one poll of the alarm


class LaggingWatch(ScriptedWatch):
    """Judged at each step's end; the step's last period reaches CloudWatch `arrives`
    seconds after the step (never, with None)."""

    metrics_lag_seconds = 180

    def __init__(self, clock, arrives: float | None, fail_at: float | None = None):
        super().__init__(clock, fail_at=fail_at)
        self.arrives, self.judged = arrives, []

    def window_complete(self, start, end):
        return self.arrives is not None and self.clock.now() >= end + self.arrives

    def judge(self, start, end):
        self.judged.append((start, end, self.clock.now()))


ONE_STEP = CanaryPlan(steps=(100,), bake_seconds=60, ttl_seconds=0, poll_seconds=10)


def test_the_judge_waits_for_the_steps_last_period_and_judges_the_step_alone():
    clock = FakeClock()
    watch = LaggingWatch(clock, arrives=25)
    watched = run_steps(Canary(ONE_STEP, RecordingTraffic(), watch, clock, wall=clock.now), (100,))
    # Baked 60 s, then waited in 10 s polls until the metrics were there (at 85 s).
    assert watched == [90]
    assert watch.judged == [(1000, 1060, 1090)]  # the step's window, not the wait


def test_metrics_that_never_arrive_are_waited_for_the_lag_only_and_alarms_still_stop_it():
    clock = FakeClock()
    watch = LaggingWatch(clock, arrives=None)
    watched = run_steps(Canary(ONE_STEP, RecordingTraffic(), watch, clock, wall=clock.now), (100,))
    assert watched == [60 + 180] and watch.judged == [(1000, 1060, 1240)]
    clock = FakeClock()
    watch = LaggingWatch(clock, arrives=None, fail_at=100)  # an alarm while waiting
    with pytest.raises(CanaryFailed, match="errors in ALARM"):
        run_steps(Canary(ONE_STEP, RecordingTraffic(), watch, clock, wall=clock.now), (100,))
    assert watch.judged == [] and clock.time == 1100


def test_dns_waits_on_aws_never_undercut_the_alias_ttl_clients_see():
    """Route 53 answers an alias to a load balancer with a 60 s TTL, whatever wimpy.yml
    says: a smaller deploy.dns_ttl_seconds cannot shorten the wait on AWS, a larger one
    lengthens it (clients that cache longer). The local target has no resolver cache."""
    from types import SimpleNamespace

    from wimpy_cli.release.bluegreen import BlueGreen
    from wimpy_cli.release.dns import client_cache_seconds

    assert client_cache_seconds(1, local=False) == 60
    assert client_cache_seconds(0, local=False) == 60
    assert client_cache_seconds(300, local=False) == 300
    assert client_cache_seconds(1, local=True) == 1

    config = SimpleNamespace(deploy=SimpleNamespace(
        dns_ttl_seconds=1, canary=SimpleNamespace(steps=(10.0, 100.0), bake_seconds=0)))
    for local, ttl in ((False, 60), (True, 1)):
        blue_green = BlueGreen(config=config, config_path=None, env="production",
                               target=SimpleNamespace(is_local=local), phases=None, run=None,
                               session=None)
        plan = blue_green.plan()
        assert plan.ttl_seconds == ttl
        assert plan.wait_for(10.0) == ttl and plan.wait_for(100.0) == 2 * ttl
