"""What CloudFormation did to a stack, read back after the CDK CLI returns: the status,
the outputs, and when it rolled back, the first failures that caused it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLLED_BACK = {"ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
               "UPDATE_ROLLBACK_FAILED"}
SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class StackOutcome:
    name: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCEEDED

    @property
    def rolled_back(self) -> bool:
        return self.status in ROLLED_BACK


def read(cloudformation: Any, stack_name: str) -> StackOutcome | None:
    """The stack's outcome, or None when it does not exist (never created, or deleted
    after a failed first creation)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    stack = stacks[0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    reasons: tuple[str, ...] = ()
    if stack["StackStatus"] in ROLLED_BACK:
        reasons = failure_reasons(cloudformation, stack_name)
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return StackOutcome(stack_name, stack["StackStatus"], outputs, reasons, parameters)


def failure_reasons(cloudformation: Any, stack_name: str, limit: int = 5) -> tuple[str, ...]:
    """The failed resources of the most recent operation, oldest first: the first one is
    usually the cause, the rest are cancellations it set off."""
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    failures = []
    for event in events:  # newest first
        if event["LogicalResourceId"] == stack_name and \
                event["ResourceStatus"] in {"UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS"}:
            break  # the start of the operation that rolled back
        if event["ResourceStatus"].endswith("_FAILED"):
            reason = event.get("ResourceStatusReason", "no reason given")
            failures.append(f"{event['LogicalResourceId']}: {reason}")
    return tuple(reversed(failures))[:limit]
