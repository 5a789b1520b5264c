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
from typing import Any, Callable, Iterator

from cli import naming, output
from cli.errors import ExitCode, WimpyError


def holder_description(version: str, now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return json.dumps({"version": version, "by": f"{getpass.getuser()}@{socket.gethostname()}",
                       "pid": os.getpid(), "since": now.isoformat(timespec="seconds")})


@contextmanager
def deploy_lock(ssm: Any, *, env: str, app: str, version: str,
                say: Callable[[str], None] = output.info) -> Iterator[None]:
    name = naming.deploy_lock_parameter(env, app)
    if not _take(ssm, name, version):
        if _left_by_a_dead_deploy_here(ssm, name):
            # A deploy killed on this machine left its lock: re-running it must converge.
            say(f"  taking over the lock left by a deploy that died ({_holder(ssm, name)})")
            release(ssm, env=env, app=app)
            if _take(ssm, name, version):
                yield from _held(ssm, env, app)
                return
        holder = _holder(ssm, name)
        raise WimpyError(
            f"another deploy of {app} to {env} is running ({holder}); nothing was changed.",
            code=ExitCode.LOCKED,
            hint=f"Wait for it to finish. If it died on another machine, remove the lock "
                 f"with:\n  {_unlock_command(env)}") from None
    yield from _held(ssm, env, app)


def _unlock_command(env: str) -> str:
    """`wimpy unlock` with the running command's -c and --local, runnable as printed."""
    from cli.commands.common import next_command

    return next_command("unlock", env=env)


def _held(ssm: Any, env: str, app: str) -> Iterator[None]:
    try:
        yield
    finally:
        release(ssm, env=env, app=app)


def _take(ssm: Any, name: str, version: str) -> bool:
    try:
        ssm.put_parameter(Name=name, Value=holder_description(version), Type="String",
                          Overwrite=False, Description="Wimpy deploy lock")
        return True
    except ssm.exceptions.ParameterAlreadyExists:
        return False


def _left_by_a_dead_deploy_here(ssm: Any, name: str) -> bool:
    """True when the lock's holder ran on this machine and its process is gone."""
    try:
        holder = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
        by, pid = holder["by"], int(holder["pid"])
    except Exception:  # a lock of unknown shape is never taken over
        return False
    if by.rpartition("@")[2] != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


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
