"""Where a blue/green deploy is, kept in the account (SSM) rather than on one laptop: a
canary paused between steps, and the versions deployed (for rollback)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from cli import naming

HISTORY_LENGTH = 20


@dataclass(frozen=True)
class PausedCanary:
    version: str
    new_stack: str
    old_stack: str
    next_step: int  # index into deploy.canary.steps

    def save(self, ssm: Any, env: str, app: str) -> None:
        ssm.put_parameter(Name=naming.canary_state_parameter(env, app), Type="String",
                          Value=json.dumps(asdict(self)), Overwrite=True,
                          Description="Wimpy: a canary paused between steps")


def paused_canary(ssm: Any, env: str, app: str) -> PausedCanary | None:
    try:
        value = ssm.get_parameter(Name=naming.canary_state_parameter(env, app))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return PausedCanary(**json.loads(value))


def clear_canary(ssm: Any, env: str, app: str) -> None:
    try:
        ssm.delete_parameter(Name=naming.canary_state_parameter(env, app))
    except ssm.exceptions.ParameterNotFound:
        pass


def history(ssm: Any, env: str, app: str) -> list[str]:
    try:
        return json.loads(ssm.get_parameter(
            Name=naming.release_history_parameter(env, app))["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return []


def record_version(ssm: Any, env: str, app: str, version: str) -> None:
    """Append `version` (moved to the end if it was deployed before)."""
    versions = [v for v in history(ssm, env, app) if v != version] + [version]
    ssm.put_parameter(Name=naming.release_history_parameter(env, app), Type="String",
                      Value=json.dumps(versions[-HISTORY_LENGTH:]), Overwrite=True,
                      Description="Wimpy: versions deployed, newest last")
