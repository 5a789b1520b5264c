"""What can stop a canary: the release's alarms (and any the user names) in ALARM, or a
release whose target group has no healthy target."""

from __future__ import annotations

from typing import Any, Sequence

from cli import naming


class ReleaseWatch:
    def __init__(self, *, cloudwatch: Any, elbv2: Any, stack: str, extra_alarms: Sequence[str],
                 target_group_arn: str | None):
        self.cloudwatch, self.elbv2 = cloudwatch, elbv2
        self.alarm_names = [*naming.stack_alarms(stack), *extra_alarms]
        self.target_group_arn = target_group_arn

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
