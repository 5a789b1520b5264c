"""What can stop a canary: the release's alarms (and any the user names) in ALARM, a
release whose target group has no healthy target, and, at the end of each step, the judge
(wimpy_cli/release/judge.py) finding it worse than the live release over the step's window."""

from __future__ import annotations

import datetime
from typing import Any, Sequence

from wimpy_domain import naming

from .judge import JudgeSettings, Sample, Verdict, judge

NAMESPACE = "AWS/ApplicationELB"
# How long after a period ends its datapoint may still be on its way, which the judge waits
# for at most. A load balancer sends each minute's metrics to CloudWatch once that minute is
# over, and they take some time more to be read back: assumed 3 minutes at most (AWS
# publishes no bound). The local data plane sends each 10 s period within 5 s.
AWS_METRICS_LAG_SECONDS = 180
LOCAL_METRICS_LAG_SECONDS = 12


def metrics_lag_seconds(*, local: bool, metrics: bool = True) -> float:
    """`metrics`: whether anything sends them (the local target without its data plane has
    no load balancer to, so there is nothing to wait for)."""
    if not metrics:
        return 0
    return LOCAL_METRICS_LAG_SECONDS if local else AWS_METRICS_LAG_SECONDS


class ReleaseWatch:
    def __init__(self, *, cloudwatch: Any, elbv2: Any, stack: str, extra_alarms: Sequence[str],
                 target_group_arn: str | None, live_target_group_arn: str | None = None,
                 judge_settings: JudgeSettings = JudgeSettings(), period_seconds: int = 60,
                 metrics_lag_seconds: float = 0):
        self.cloudwatch, self.elbv2 = cloudwatch, elbv2
        self.alarm_names = [*naming.stack_alarms(stack), *extra_alarms]
        self.target_group_arn = target_group_arn
        self.live_target_group_arn = live_target_group_arn
        self.judge_settings, self.period_seconds = judge_settings, period_seconds
        self.metrics_lag_seconds = metrics_lag_seconds

    def problems(self) -> list[str]:
        found = []
        alarms = self.cloudwatch.describe_alarms(AlarmNames=self.alarm_names)["MetricAlarms"]
        for alarm in alarms:
            if alarm["StateValue"] == "ALARM":
                found.append(f"alarm {alarm['AlarmName']} is in ALARM "
                             f"({alarm.get('StateReason', 'no reason given')})")
        if self.target_group_arn:
            health = self.elbv2.describe_target_health(
                TargetGroupArn=self.target_group_arn)["TargetHealthDescriptions"]
            if not any(t["TargetHealth"]["State"] == "healthy" for t in health):
                states = sorted({t["TargetHealth"]["State"] for t in health}) or ["no targets"]
                found.append(f"the release has no healthy target ({', '.join(states)})")
        return found

    def judge(self, start: float, end: float) -> Verdict | None:
        """The new release against the live one over [start, end) (epoch seconds), on the
        whole metric periods inside it; None when there is no live release to compare with."""
        if not self.target_group_arn or not self.live_target_group_arn:
            return None
        first, last = self._whole_periods(start, end)
        if last <= first:
            return judge(Sample(0, 0), Sample(0, 0), self.judge_settings)
        return judge(self._sample(self.target_group_arn, first, last),
                     self._sample(self.live_target_group_arn, first, last), self.judge_settings)

    def window_complete(self, start: float, end: float) -> bool:
        """Whether each release that had requests in the whole periods of [start, end) has
        its last one's count too. One that had none (no traffic, or the live release at a
        100% step) has nothing on its way."""
        if not self.target_group_arn or not self.live_target_group_arn:
            return True
        first, last = self._whole_periods(start, end)
        if last <= first:
            return True  # no whole period: nothing to wait for
        for arn in (self.target_group_arn, self.live_target_group_arn):
            found = self._datapoints(self._dimensions(arn), "RequestCount", "Sum", first, last)
            if found and max(p["Timestamp"].timestamp() for p in found) < last - self.period_seconds:
                return False
        return True

    def _whole_periods(self, start: float, end: float) -> tuple[int, int]:
        """The first and the end of the whole metric periods inside [start, end)."""
        return (int(start // self.period_seconds + 1) * self.period_seconds,
                int(end // self.period_seconds) * self.period_seconds)

    def _dimensions(self, target_group_arn: str) -> list[dict]:
        dimensions = [{"Name": "TargetGroup", "Value": target_group_arn.split(":", 5)[-1]}]
        balancers = self.elbv2.describe_target_groups(
            TargetGroupArns=[target_group_arn])["TargetGroups"][0].get("LoadBalancerArns", [])
        if balancers:
            dimensions.append({"Name": "LoadBalancer", "Value": balancers[0].split(":loadbalancer/", 1)[1]})
        return dimensions

    def _datapoints(self, dimensions: list[dict], metric: str, statistic: str, start: int, end: int) -> list[dict]:
        return self.cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName=metric, Dimensions=dimensions,
            StartTime=datetime.datetime.fromtimestamp(start, datetime.timezone.utc),
            EndTime=datetime.datetime.fromtimestamp(end, datetime.timezone.utc),
            Period=self.period_seconds, Statistics=[statistic])["Datapoints"]

    def _sample(self, target_group_arn: str, start: int, end: int) -> Sample:
        dimensions = self._dimensions(target_group_arn)

        def points(metric: str, statistic: str) -> list[float]:
            found = self._datapoints(dimensions, metric, statistic, start, end)
            return [point[statistic] for point in sorted(found, key=lambda p: p["Timestamp"])]
        return Sample(requests=int(sum(points("RequestCount", "Sum"))),
                      errors=int(sum(points("HTTPCode_Target_5XX_Count", "Sum"))),
                      latencies=tuple(points("TargetResponseTime", "Average")))
