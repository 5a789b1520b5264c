"""Injectable kill points, for the fault-injection tests (tests/test_fault_injection.py):
`WIMPY_KILL_AT=<point>:<SIGNAL>` makes the process send itself that signal when it reaches
the named point, e.g. `after canary-watching-2:SIGKILL`. Points are named after the release
record's transitions ("before X" and "after X" around each write) and the phases between
them. Unset, `checkpoint` is one dictionary lookup."""

from __future__ import annotations

import os
import signal

VARIABLE = "WIMPY_KILL_AT"


def checkpoint(point: str) -> None:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, signal_name = wanted.rpartition(":")
    if name != point:
        return
    os.environ.pop(VARIABLE)  # once: the handlers below may still pass other points
    os.kill(os.getpid(), getattr(signal, signal_name))
    if signal_name == "SIGKILL":  # pragma: no cover - the process is gone
        os._exit(137)
