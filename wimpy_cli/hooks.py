"""wimpy.yml's hooks: shell commands run before and after a deploy (as the original's
before/after deploy task files were), from the wimpy.yml's folder through `/bin/sh -c`.

Each command gets the caller's environment plus what Wimpy knows of the deploy
(WIMPY_APP, WIMPY_ENVIRONMENT, WIMPY_VERSION, WIMPY_IMAGE; after a deploy also WIMPY_URL
and WIMPY_OUTCOME). Its output is streamed to stderr line by line, prefixed with the hook,
so `wimpy deploy --json` keeps stdout clean. A command that runs past its timeout is
stopped with its whole process group (`sleep` started by the shell included)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Mapping, Sequence

from wimpy_cli.errors import ExitCode, WimpyError

SHELL = "/bin/sh"
TAIL_LINES = 20  # of a failed hook's output, in the error
KILL_GRACE_SECONDS = 2  # between SIGTERM and SIGKILL for a hook past its timeout

clock = time.monotonic  # what hooks' timeouts are measured by; tests replace it


class HookFailed(WimpyError):
    """A hook exited non-zero, could not start, or ran past its timeout."""

    def __init__(self, message: str, *, command: str, returncode: int | None,
                 tail: Sequence[str], summary: str, hint: str | None = None):
        super().__init__(message, code=ExitCode.FAILED, hint=hint)
        self.summary = summary  # one line: the hook and what went wrong, without its output
        self.command = command
        self.returncode = returncode  # None when it timed out or never started
        self.tail = tuple(tail)


def run_hooks(commands: Sequence[str], *, phase: str, environment: Mapping[str, str],
              cwd: Path, timeout_seconds: int) -> None:
    """Run `commands` one after the other; raise HookFailed at the first that fails.

    `phase` names them in output and errors (e.g. "before_deploy"); `environment` is added
    to this process's environment for them."""
    env = {**os.environ, **environment}
    for index, command in enumerate(commands, start=1):
        label = f"{phase} {index}/{len(commands)}" if len(commands) > 1 else phase
        where = f"hooks.{phase}" + (f", command {index} of {len(commands)}" if len(commands) > 1 else "")
        _run_one(command, label=label, name=f"hook `{command}` ({where})", env=env, cwd=cwd,
                 timeout_seconds=timeout_seconds)


def _run_one(command: str, *, label: str, name: str, env: Mapping[str, str], cwd: Path,
             timeout_seconds: int) -> None:
    _write(f"  ▸ hook {label}: {command}")
    started = clock()
    try:
        process = subprocess.Popen([SHELL, "-c", command], cwd=cwd, env=dict(env),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as error:
        summary = f"{name} could not start in {cwd}: {error.strerror or error}"
        raise HookFailed(summary, command=command, returncode=None, tail=(),
                         summary=summary) from None

    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        timed_out = _stream(process, lines, tail, label=label,
                            deadline=started + timeout_seconds)
    except BaseException:  # Ctrl-C: the hook runs in its own session, so end it here
        _stop(process, grace=0.5)
        raise
    returncode = process.returncode
    seconds = clock() - started

    if timed_out:
        _write(f"  ✗ hook {label}: stopped after {timeout_seconds}s")
        summary = (f"{name} did not finish within hooks.timeout_seconds ({timeout_seconds}s) "
                   "and was stopped")
        raise HookFailed(f"{summary}.{_shown(tail)}", command=command, returncode=None,
                         tail=tail, summary=summary,
                         hint="Make the command faster, or raise hooks.timeout_seconds (up to 3600).")
    if returncode != 0:
        _write(f"  ✗ hook {label}: exit code {_describe(returncode)} ({seconds:.1f}s)")
        summary = f"{name} failed with exit code {_describe(returncode)}"
        raise HookFailed(f"{summary}.{_shown(tail)}", command=command, returncode=returncode,
                         tail=tail, summary=summary)
    _write(f"  ✓ hook {label} ({seconds:.1f}s)")


def _stream(process: subprocess.Popen, lines: queue.Queue[str | None], tail: deque[str], *,
            label: str, deadline: float) -> bool:
    """Write the hook's lines as they come (on this thread) until it ends or the deadline
    passes (then stop it); True when it was stopped for its timeout."""
    timed_out = False
    while True:
        remaining = deadline - clock()
        if remaining <= 0 and not timed_out:
            timed_out = True
            _stop(process)
        if timed_out and remaining < -(KILL_GRACE_SECONDS + 3):
            break  # something outside the group still holds the output open: stop reading
        try:
            line = lines.get(timeout=max(0.01, min(remaining, 0.2)))
        except queue.Empty:
            continue
        if line is None:
            break
        tail.append(line)
        _write(f"  [{label}] {line}")
    # Output closed; the shell itself may still run (e.g. `exec >/dev/null; sleep 60`).
    while process.poll() is None:
        remaining = deadline - clock()
        if remaining <= 0:
            timed_out = True
            _stop(process)
            process.wait()
            break
        try:
            process.wait(timeout=min(remaining, 0.2))
        except subprocess.TimeoutExpired:
            pass
    return timed_out


def _read_lines(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    try:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
    finally:
        stream.close()
        lines.put(None)


def _stop(process: subprocess.Popen, *, grace: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM the hook's process group, SIGKILL it if it is still there after the grace."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        if wait is None:
            return
        try:
            process.wait(timeout=wait)
            # The shell is gone; its children may not be: end the group for good.
            os.killpg(process.pid, signal.SIGKILL)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"{returncode} (killed by {signal.Signals(-returncode).name})"
        except ValueError:
            return str(returncode)
    return str(returncode)


def _shown(tail: Sequence[str]) -> str:
    if not tail:
        return " It printed nothing."
    return f" Its last {len(tail)} line{'s' if len(tail) != 1 else ''} of output:\n" + \
        "\n".join(f"  | {line}" for line in tail)


def _write(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
