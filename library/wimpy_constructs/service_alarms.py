"""ServiceAlarms: the three alarms a release is judged by (and users get paged on).

Named predictably (``<prefix>-errors``, ``-unhealthy-hosts``, ``-p99-latency``) so that a
deploy can find and watch the alarms of the release it is moving traffic to.
"""

from __future__ import annotations

from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import defaults
from .arguments import check_text

ALARM_SUFFIXES = ("errors", "unhealthy-hosts", "p99-latency")


class ServiceAlarms(Construct):
    """5xx rate of the targets, unhealthy hosts and p99 latency, per target group.

    :param target_group: the release's target group.
    :param load_balancer_full_name: ``app/<name>/<id>`` of the load balancer that forwards to
        it, when that is another stack's (a TrafficSplit's). @default the group's own
    :param alarm_name_prefix: e.g. ``wimpy-production-web``.
    :param error_rate_percent: share of 5xx answers that raises the alarm. @default 5
    :param p99_latency: p99 response time that raises the alarm. @default 2 s
    :param period: each datapoint's length: 10 s, 30 s or a multiple of a minute. An
        Application Load Balancer sends its metrics once a minute, so on AWS a shorter
        period has no data. @default 1 minute
    :param notify: topics told when an alarm fires and when it clears (at least one: an
        alarm nobody hears is only seen by a deploy that happens to be watching).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        target_group: elbv2.ApplicationTargetGroup,
        alarm_name_prefix: str,
        notify: Sequence[sns.ITopic],
        error_rate_percent: float = defaults.ERROR_RATE_PERCENT,
        p99_latency: cdk.Duration = defaults.P99_LATENCY,
        period: cdk.Duration = cdk.Duration.minutes(1),
        load_balancer_full_name: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        # Alarm names are at most 255 characters: the prefix leaves room for the longest suffix.
        check_text("alarm_name_prefix", alarm_name_prefix, pattern=r"[ -~]{1,230}",
                   accepted="1 to 230 printable ASCII characters, like 'shop-web'")
        seconds = period.to_seconds()
        if seconds not in (10, 30) and (seconds % 60 or not 60 <= seconds <= 86400):
            raise ValueError(f"period must be 10 s, 30 s or a multiple of a minute, got {seconds} s")
        if not 0 < error_rate_percent <= 100:
            raise ValueError(f"error_rate_percent must be in (0, 100], got {error_rate_percent}")
        if not isinstance(notify, (list, tuple)) or not notify:
            raise ValueError("notify must list at least one SNS topic (an AlarmTopic's topic), "
                             f"got {notify!r}")
        self._notify = list(notify)
        metrics = (target_group.metrics if load_balancer_full_name is None
                   else _TargetGroupMetrics(target_group, load_balancer_full_name))
        error_rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={
                "errors": metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT,
                                                   statistic="Sum", period=period),
                "requests": metrics.request_count(statistic="Sum", period=period),
            },
            period=period,
            label="5xx answers (%)",
        )
        self.errors = self._alarm("Errors", f"{alarm_name_prefix}-errors", error_rate,
                                  error_rate_percent, "Share of 5xx answers from the app")
        self.unhealthy_hosts = self._alarm(
            "UnhealthyHosts", f"{alarm_name_prefix}-unhealthy-hosts",
            metrics.unhealthy_host_count(statistic="Maximum", period=period), 0,
            "Instances failing the load balancer's health check")
        self.latency = self._alarm(
            "Latency", f"{alarm_name_prefix}-p99-latency",
            metrics.target_response_time(statistic="p99", period=period),
            p99_latency.to_seconds(), "p99 response time of the app (seconds)")

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return [self.errors, self.unhealthy_hosts, self.latency]

    def _alarm(self, id_: str, name: str, metric: cloudwatch.IMetric, threshold: float,
               description: str) -> cloudwatch.Alarm:
        # Two bad minutes out of three: one slow request or one blip does not page anyone.
        alarm = cloudwatch.Alarm(
            self, id_, alarm_name=name, metric=metric, threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description)
        for topic in self._notify:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
            alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
        return alarm


class _TargetGroupMetrics:
    """The target group's metrics, as ``ApplicationTargetGroup.metrics`` gives them, for a
    group whose load balancer is in another stack (CDK's needs a listener in this one)."""

    def __init__(self, target_group: elbv2.ApplicationTargetGroup, load_balancer_full_name: str):
        self._dimensions = {"TargetGroup": target_group.target_group_full_name,
                            "LoadBalancer": load_balancer_full_name}

    def _metric(self, name: str, **props) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="AWS/ApplicationELB", metric_name=name,
                                 dimensions_map=self._dimensions, **props)

    def http_code_target(self, code: elbv2.HttpCodeTarget, **props) -> cloudwatch.Metric:
        # The enum's members are TARGET_2XX_COUNT...; the metric is HTTPCode_Target_2XX_Count.
        digit = code.name.split("_")[1][0]
        return self._metric(f"HTTPCode_Target_{digit}XX_Count", **props)

    def request_count(self, **props) -> cloudwatch.Metric:
        return self._metric("RequestCount", **props)

    def unhealthy_host_count(self, **props) -> cloudwatch.Metric:
        return self._metric("UnHealthyHostCount", **props)

    def target_response_time(self, **props) -> cloudwatch.Metric:
        return self._metric("TargetResponseTime", **props)
