"""A deploy lock as a command that is gone (or still running elsewhere) leaves it in the
release record's table, for tests of what the next command does about it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from wimpy_domain import naming


def a_dead_pid() -> int:
    """The pid of a process of this machine that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def plant_lock(dynamodb, env: str, app: str, *, pid: int = 1, host: str = "ci-runner-7",
               by: str = "ci@ci-runner-7", what: str = "deploy v9", heartbeat: float | None = None) -> None:
    """A lock held by `by` on `host` (this machine if host is None), renewed at `heartbeat`
    (now by default: its holder looks alive unless it ran here and its pid is gone)."""
    beat = time.time() if heartbeat is None else heartbeat
    dynamodb.put_item(TableName=naming.release_record_table(), Item={
        "id": {"S": f"lock:{env}/{app}"}, "holder": {"S": "planted-holder"},
        "by": {"S": by}, "host": {"S": host or socket.gethostname()}, "pid": {"N": str(pid)},
        "since": {"N": repr(beat)}, "what": {"S": what}, "heartbeat": {"N": repr(beat)}})


def lock_holder(dynamodb, env: str, app: str):
    from wimpy_cli.release.store import RecordStore

    return RecordStore(dynamodb, env, app).holder()
