"""What CloudFormation does on AWS after it changes an Auto Scaling group, and the emulator
does not: wait for the instance refresh (or the instances' signals), watch the refresh's
alarms through it and its bake time, and roll the stack back when an instance fails or an
alarm fires. With the local data plane running, `cdk deploy` against the emulator returns
as soon as the group's launch template changed; this then waits until the data plane has
put the group's instances of that launch template in service (or seen one fail), keeps
reading the alarms the group's AutoScalingInstanceRefresh policy names for its BakeTime,
and on failure deploys the stack's previous template again, so the previous version's
instances stay or come back, and the deploy ends as a rolled-back one would on AWS.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.local.dataplane import group_update_policy, launch_template_version, publish

GROUP = "AWS::AutoScaling::AutoScalingGroup"
# Longer than any signal timeout a stack may give (the data plane fails an instance at its
# own boot script's health timeout): only a data plane that stopped acting runs into this.
WAIT_LIMIT_SECONDS = 3600


@dataclass(frozen=True)
class Snapshot:
    """A stack as it was before a deploy: what a rollback deploys again, and its groups'
    launch template versions (a group whose version changes is refreshed)."""

    template: dict | None  # None: the stack did not exist
    parameters: list[dict]
    versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Guard:
    """An instance refresh's AlarmSpecification and BakeTime, as a template declares them."""

    alarms: tuple[str, ...]
    bake_seconds: float


class Rollout:
    def __init__(self, client: Callable[[str], Any], *, poll_seconds: float = 0.5,
                 show: Callable[[str], None] = lambda line: None) -> None:
        self._client = client
        self._poll = poll_seconds
        self.show = show

    def active(self) -> bool:
        return publish.is_running(self._client("ssm"))

    def local_url(self, url: str) -> str | None:
        host = urllib.parse.urlsplit(url).hostname
        return publish.local_url(self._client("ssm"), host) if host else None

    def instances(self, stack: str) -> int:
        """The stack's instances in service, as the data plane counts them."""
        ssm = self._client("ssm")
        return sum((publish.group_status(ssm, group) or {}).get("in_service", 0)
                   for group, _ in self._groups(stack))

    def before(self, stacks: Sequence[str]) -> dict[str, Snapshot]:
        cloudformation = self._client("cloudformation")
        snapshots = {}
        for stack in stacks:
            try:
                described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
                body = cloudformation.get_template(StackName=stack)["TemplateBody"]
            except cloudformation.exceptions.ClientError:
                snapshots[stack] = Snapshot(None, [])
                continue
            snapshots[stack] = Snapshot(json.loads(body) if isinstance(body, str) else body,
                                        described.get("Parameters", []), dict(self._groups(stack)))
        return snapshots

    def after(self, stacks: Sequence[str], snapshots: dict[str, Snapshot], *,
              show: Callable[[str], None] | None = None) -> None:
        """Wait for every group of `stacks` (their progress to `show`); WimpyError(ROLLED_BACK)
        after restoring the stack whose instances failed."""
        if show is not None:
            self.show = show
        for stack in stacks:
            snapshot = snapshots.get(stack)
            for group, version in self._groups(stack):
                # An instance refresh: the group existed and its launch template changed.
                refreshed = snapshot is not None and snapshot.versions.get(group) not in (None, version)
                guard = self._guard(stack, group) if refreshed else None
                status = self._wait(group, version, guard)
                if status["state"] == "complete" and guard is not None and guard.bake_seconds:
                    status = self._bake(group, guard)
                if status["state"] == "failed":
                    self._roll_back(stack, snapshot)
                    raise WimpyError(
                        f"CloudFormation rolled {stack} back (UPDATE_ROLLBACK_COMPLETE); the "
                        f"previous version keeps serving. What failed:\n  - {group}: "
                        f"{status['reason']}", code=ExitCode.ROLLED_BACK,
                        hint=status.get("hint", "The instance's unit log named above shows what "
                                                "the container did."))

    def _groups(self, stack: str) -> list[tuple[str, str]]:
        resources = self._client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
        names = [r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == GROUP]
        if not names:
            return []
        described = self._client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=names)["AutoScalingGroups"]
        result = []
        for group in described:
            template = group.get("LaunchTemplate")
            if template:
                version = launch_template_version(self._client("ec2"), template)
                result.append((group["AutoScalingGroupName"], str(version["VersionNumber"])))
        return result

    def _guard(self, stack: str, group: str) -> Guard | None:
        """The alarms and bake time of `group`'s AutoScalingInstanceRefresh policy."""
        policy, physical = group_update_policy(self._client("cloudformation"), group, stack)
        refresh = policy.get("AutoScalingInstanceRefresh")
        if not refresh:
            return None
        preferences = refresh.get("Preferences", {})
        alarms = tuple(physical.get(a["Ref"], "") if isinstance(a, dict) else str(a)
                       for a in preferences.get("AlarmSpecification", {}).get("Alarms", []))
        return Guard(alarms=alarms, bake_seconds=float(preferences.get("BakeTime", 0)))

    def _firing(self, guard: Guard | None) -> str | None:
        """The first of the guard's alarms in ALARM, or None."""
        if guard is None or not guard.alarms:
            return None
        described = self._client("cloudwatch").describe_alarms(AlarmNames=list(guard.alarms))
        return next((a["AlarmName"] for a in described["MetricAlarms"] if a["StateValue"] == "ALARM"), None)

    def _bake(self, group: str, guard: Guard) -> dict:
        """Keep watching the alarms for the bake time once every instance is replaced."""
        self.show(f"{group}: replaced; its alarms are watched for {guard.bake_seconds:g}s (bake time)")
        deadline = time.monotonic() + guard.bake_seconds
        while time.monotonic() < deadline:
            alarm = self._firing(guard)
            if alarm is not None:
                return _alarm_failure(alarm, f"{guard.bake_seconds:g}s bake time after the instance refresh")
            time.sleep(self._poll)
        return {"state": "complete"}

    def _wait(self, group: str, version: str, guard: Guard | None = None) -> dict:
        ssm = self._client("ssm")
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        shown = ""
        while time.monotonic() < deadline:
            alarm = self._firing(guard)
            status = publish.group_status(ssm, group)
            if alarm is not None:
                failure = _alarm_failure(alarm, "instance refresh")
                # The unhealthy-hosts alarm can fire before an instance's own health wait
                # ends: what the data plane already knows of the failure goes with it.
                if status and status.get("version") == version and status.get("reason"):
                    failure["reason"] += f"; {status['reason']}"
                return failure
            if status and status["version"] == version:
                line = f"{group}: {status['in_service']}/{status['desired']} instances in service"
                if line != shown:
                    self.show(line)
                    shown = line
                if status["state"] in ("complete", "failed"):
                    return status
            time.sleep(self._poll)
        raise WimpyError(f"the local data plane did not report on {group} within "
                         f"{WAIT_LIMIT_SECONDS}s; is `wimpy local start`'s process still running?")

    def _roll_back(self, stack: str, snapshot: Snapshot | None) -> None:
        if snapshot is None or snapshot.template is None:
            return  # a failed creation: the release's own clean-up removes the stack
        cloudformation = self._client("cloudformation")
        declared = snapshot.template.get("Parameters", {})
        # A parameter resolved from SSM is read again, as the update had it; the others
        # get the values the stack had.
        parameters = [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            if str(declared.get(p["ParameterKey"], {}).get("Type", "")).startswith("AWS::SSM::")
            else {"ParameterKey": p["ParameterKey"], "ParameterValue": p["ParameterValue"]}
            for p in snapshot.parameters]
        cloudformation.update_stack(
            StackName=stack, TemplateBody=json.dumps(snapshot.template), Parameters=parameters,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
        cloudformation.get_waiter("stack_update_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 600})
        for group, version in self._groups(stack):
            self._wait(group, version)


def _alarm_failure(alarm: str, during: str) -> dict:
    return {"state": "failed",
            "reason": f"the alarm {alarm} went into ALARM during the {during}",
            "hint": "`wimpy status` shows the alarms' states and `wimpy logs` what the "
                    "version's containers wrote."}
