"""The canary judge's statistics (wimpy_cli/release/judge.py), on known cases: what a user
relies on is that identical releases pass, a real degradation fails with its numbers, and
too little traffic is said to be too little instead of being called a pass or a failure.
Its error rates over many runs are measured in bench/judge.py, not here."""

from __future__ import annotations

import math

import pytest

from wimpy_cli.release.judge import (FAIL, INCONCLUSIVE, PASS, JudgeSettings, Sample, fisher_greater, judge,
                                     mann_whitney_greater)


def test_fisher_is_the_exact_hypergeometric_tail():
    # 3 errors in all, each as likely anywhere: all 3 in the canary's 500 of 5,500 requests.
    expected = (500 * 499 * 498) / (5500 * 5499 * 5498)
    assert math.isclose(fisher_greater(3, 500, 0, 5000), expected, rel_tol=1e-9)
    assert fisher_greater(0, 500, 3, 5000) == 1.0  # the canary has none of them
    assert fisher_greater(0, 500, 0, 5000) == 1.0


def test_identical_releases_pass_and_say_so_with_the_numbers():
    verdict = judge(Sample(5000, 50, (0.01,) * 10), Sample(15000, 150, (0.01,) * 10))
    assert verdict.outcome == PASS and verdict.failures == []
    assert "5xx 1.00% of 5000 vs live 1.00% of 15000" in verdict.summary()


def test_two_points_more_5xx_fails_with_the_rates_and_p_value():
    verdict = judge(Sample(2000, 60), Sample(6000, 60))  # 3% against 1%
    (errors,) = [c for c in verdict.comparisons if c.metric == "5xx"]
    assert (verdict.outcome, errors.outcome) == (FAIL, FAIL)
    assert errors.p_value < 0.01
    assert "5xx 3.00% of 2000 vs live 1.00% of 6000: worse by 2.00 points" in verdict.failures[0]


def test_a_significant_but_tiny_increase_is_within_the_margin():
    # 1.3% against 1.0% over 200,000 requests each is significant, and not worth a rollback.
    verdict = judge(Sample(200_000, 2600), Sample(200_000, 2000))
    (errors,) = [c for c in verdict.comparisons if c.metric == "5xx"]
    assert errors.p_value < 0.001 and errors.outcome == PASS


def test_too_few_requests_are_inconclusive_not_a_pass():
    verdict = judge(Sample(100, 30), Sample(100, 0))
    assert verdict.outcome == INCONCLUSIVE
    assert "too few requests to compare (at least 500 each)" in verdict.summary()


def test_latency_compares_periods_and_needs_enough_of_them():
    live = tuple(0.010 + 0.001 * (i % 3) for i in range(12))
    slow = tuple(2 * value for value in live)
    verdict = judge(Sample(5000, 0, slow), Sample(5000, 0, live))
    (latency,) = [c for c in verdict.comparisons if c.metric == "latency"]
    assert latency.outcome == FAIL and "slower beyond 20%" in latency.detail
    few = judge(Sample(5000, 0, slow[:3]), Sample(5000, 0, live[:3]))
    assert "too few periods to compare (3; at least 8 each)" in few.summary()
    same = judge(Sample(5000, 0, live), Sample(5000, 0, live))
    assert [c.outcome for c in same.comparisons] == [PASS, PASS]


@pytest.mark.parametrize("a, b, low, high", [((5, 6, 7, 8, 9), (1, 2, 3, 4, 5), 0.0, 0.02),
                                             ((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), 0.4, 0.7)])
def test_mann_whitney_orders_the_two_samples(a, b, low, high):
    assert low <= mann_whitney_greater(a, b) <= high


def test_settings_come_from_wimpy_yml():
    from wimpy_domain.config.model import JudgeConfig

    settings = JudgeSettings.from_config(JudgeConfig(confidence_percent=98, max_error_increase_points=1,
                                                     max_latency_increase_percent=50, min_requests=200))
    assert (settings.confidence, settings.error_margin_points, settings.latency_margin_percent,
            settings.min_requests) == (0.98, 1, 50, 200)


class FakeMetrics:
    """CloudWatch's request counts per target group (period start -> count), and the
    target groups' load balancer, as ReleaseWatch reads them."""

    def __init__(self, counts: dict[str, dict[int, float]]):
        self.counts = counts

    def describe_target_groups(self, TargetGroupArns):
        return {"TargetGroups": [{"LoadBalancerArns": [
            "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/front/1"]}]}

    def get_metric_statistics(self, Namespace, MetricName, Dimensions, StartTime, EndTime, Period, Statistics):
        import datetime

        name = Dimensions[0]["Value"]
        return {"Datapoints": [
            {"Timestamp": datetime.datetime.fromtimestamp(at, datetime.timezone.utc), "Sum": count}
            for at, count in self.counts.get(name, {}).items()
            if StartTime.timestamp() <= at < EndTime.timestamp()]}


def test_a_window_is_complete_once_each_release_with_requests_has_its_last_period():
    from wimpy_cli.release.watch import ReleaseWatch

    new, live = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/new/1", \
        "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/live/1"
    metrics = FakeMetrics({"targetgroup/new/1": {1000: 5, 1010: 6}, "targetgroup/live/1": {1000: 50}})
    watch = ReleaseWatch(cloudwatch=metrics, elbv2=metrics, stack="s", extra_alarms=(),
                         target_group_arn=new, live_target_group_arn=live, period_seconds=10)
    # The step ran 995-1025: whole periods 1000 and 1010; the live release's 1010 is missing.
    assert not watch.window_complete(995, 1025)
    metrics.counts["targetgroup/live/1"][1010] = 49
    assert watch.window_complete(995, 1025)
    # A release with no requests in the window (the live one at 100%) has nothing coming.
    metrics.counts["targetgroup/live/1"] = {}
    assert watch.window_complete(995, 1025)
    # Less than a whole period: nothing to wait for.
    assert watch.window_complete(1001, 1009)
