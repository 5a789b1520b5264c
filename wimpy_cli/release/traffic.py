"""Moving traffic and capacity between releases by stack parameters alone: no synthesis,
no template upload, one small CloudFormation update per change."""

from __future__ import annotations

from typing import Any


NO_CHANGE = "No updates are to be performed"


def update_parameters(cloudformation: Any, stack: str, changes: dict[str, str]) -> None:
    """Set `changes` on `stack`, every other parameter kept as it is, and wait for the update
    to finish; an update that changes nothing is fine."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    parameters = [
        {"ParameterKey": p["ParameterKey"], "ParameterValue": changes[p["ParameterKey"]]}
        if p["ParameterKey"] in changes else {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
        for p in described.get("Parameters", [])]
    missing = set(changes) - {p["ParameterKey"] for p in parameters}
    if missing:
        raise ValueError(f"{stack} has no parameter {', '.join(sorted(missing))}")
    current = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}
    if all(current[key] == value for key, value in changes.items()):
        return  # already so: every traffic step is set again on a resume, so this is common
    try:
        cloudformation.update_stack(StackName=stack, UsePreviousTemplate=True, Parameters=parameters,
                                    Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    except cloudformation.exceptions.ClientError as error:
        if NO_CHANGE in str(error):
            return
        raise
    cloudformation.get_waiter("stack_update_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 5, "MaxAttempts": 360})


def set_capacity(cloudformation: Any, stack: str, on: bool) -> None:
    update_parameters(cloudformation, stack, {"Capacity": "on" if on else "off"})


def wait_until_healthy(elbv2: Any, target_group_arn: str, *, count: int, timeout_seconds: float,
                       clock: Any, poll_seconds: float = 2.0) -> None:
    """Wait until `count` targets of the target group pass its health checks: a stack update
    that scales a group up returns once the instances are launched, not once they serve.
    TimeoutError, saying what the targets are, when they do not within the timeout."""
    deadline = clock.now() + timeout_seconds
    while True:
        described = elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
        states = [d["TargetHealth"]["State"] for d in described]
        if states.count("healthy") >= count:
            return
        if clock.now() >= deadline:
            seen = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states))) or "no target"
            raise TimeoutError(f"{count} healthy targets wanted within {timeout_seconds:g}s; {seen}")
        clock.sleep(poll_seconds)
