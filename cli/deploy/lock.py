"""One deploy of an application in an environment at a time, across every laptop and CI
runner: the lock is an SSM parameter in the account, created only if absent (an atomic
put without overwrite) and deleted when the deploy ends."""

from __future__ import annotations

import datetime
import getpass
import json
import os
import socket
from contextlib import contextmanager
from typing import Any, Iterator

from cli import naming
from cli.errors import ExitCode, WimpyError


def holder_description(version: str, now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return json.dumps({"version": version, "by": f"{getpass.getuser()}@{socket.gethostname()}",
                       "pid": os.getpid(), "since": now.isoformat(timespec="seconds")})


@contextmanager
def deploy_lock(ssm: Any, *, env: str, app: str, version: str) -> Iterator[None]:
    name = naming.deploy_lock_parameter(env, app)
    try:
        ssm.put_parameter(Name=name, Value=holder_description(version), Type="String",
                          Overwrite=False, Description="Wimpy deploy lock")
    except ssm.exceptions.ParameterAlreadyExists:
        holder = _holder(ssm, name)
        raise WimpyError(
            f"another deploy of {app} to {env} is running ({holder}); nothing was changed.",
            code=ExitCode.LOCKED,
            hint=f"Wait for it to finish. If it died, remove the lock with "
                 f"`wimpy unlock --env {env}` (or delete the SSM parameter {name}).") from None
    try:
        yield
    finally:
        release(ssm, env=env, app=app)


def release(ssm: Any, *, env: str, app: str) -> bool:
    try:
        ssm.delete_parameter(Name=naming.deploy_lock_parameter(env, app))
        return True
    except ssm.exceptions.ParameterNotFound:
        return False


def _holder(ssm: Any, name: str) -> str:
    try:
        data = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
        return f"version {data['version']} by {data['by']} since {data['since']}"
    except Exception:  # a lock written by hand or half-read: say what we can
        return "held by an unknown deploy"
