"""The releases of an application in an environment, as CloudFormation knows them: each
release stack with its version, weight, capacity and age."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from wimpy_domain import naming

ACTIVE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}


@dataclass(frozen=True)
class ReleaseStack:
    stack: str
    release: str
    version: str
    weight: int
    capacity_on: bool
    status: str
    created: datetime.datetime
    outputs: dict[str, str]

    @property
    def usable(self) -> bool:
        return self.status in ACTIVE


def releases(cloudformation: Any, env: str, app: str) -> list[ReleaseStack]:
    """Every release stack of the app in `env`, oldest first (deleted ones excluded)."""
    prefix = naming.releases_prefix(env, app)
    found: list[ReleaseStack] = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
            # A release stack of this app: by its outputs, not just its name (app `web`'s
            # prefix is also the start of app `web-api`'s stacks).
            if not stack["StackName"].startswith(prefix) or outputs.get("Application") != app \
                    or "Capacity" not in parameters:
                continue
            if stack["StackStatus"] in ("DELETE_COMPLETE", "DELETE_IN_PROGRESS"):
                continue
            found.append(ReleaseStack(
                stack=stack["StackName"], release=stack["StackName"].removeprefix(prefix).lstrip("-"),
                version=outputs.get("Version", ""), weight=int(parameters.get("TrafficWeight") or 0),
                capacity_on=parameters.get("Capacity", "on") != "off",
                status=stack["StackStatus"], created=stack["CreationTime"], outputs=outputs))
    return sorted(found, key=lambda r: r.created)


def live(found: list[ReleaseStack]) -> ReleaseStack | None:
    """The release taking the most traffic (the newest among equals), if any takes some."""
    serving = [r for r in found if r.weight > 0 and r.usable]
    return max(serving, key=lambda r: (r.weight, r.created)) if serving else None

