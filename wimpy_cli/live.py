"""What a long command shows while it runs, on stderr.

In a terminal: one live area (rich) under the finished phases, with the current phase, a
spinner and its elapsed time, a countdown while a canary step is watched, and one line per
CloudFormation stack (resources done / total, its last event), redrawn in place. Elsewhere
(a pipe, CI, a log file): plain lines, a stack's only once it ends or when something fails.
The CDK CLI's own event lines are shown as they come only with `--verbose`."""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

_verbose = False


def set_verbose(value: bool) -> None:
    global _verbose
    _verbose = value


def verbose() -> bool:
    return _verbose


# The CDK CLI's `--progress events` line:
# "wimpy-staging-hello |  3/12 | 10:00:01 AM | CREATE_COMPLETE | AWS::EC2::Subnet | Subnet1 reason"
_EVENT = re.compile(r"\s*(?P<stack>[A-Za-z][\w-]*)\s*\|\s*(?P<done>\d+)/(?P<total>\d+)\s*\|[^|]*\|"
                    r"\s*(?P<status>[A-Z_]+)\s*\|\s*(?P<type>[\w:]+)\s*\|\s*(?P<rest>.*)", re.ASCII)


@dataclass
class StackLine:
    name: str
    done: int = 0
    total: int = 0
    last: str = ""
    status: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status.endswith(("_COMPLETE", "_FAILED")) and "CLEANUP" not in self.status

    @property
    def succeeded(self) -> bool:
        return self.status.endswith("_COMPLETE") and "ROLLBACK" not in self.status

    def counted(self) -> str:
        """Resources done / total. A stack that succeeded has them all done (the emulator's
        events may come out of order, so the CDK CLI's count can lag)."""
        if not self.total:
            return "…"
        return f"{self.total}/{self.total}" if self.succeeded else f"{self.done}/{self.total}"

    def render(self) -> str:
        return f"{self.name}  {self.counted()}  {self.last}"


class Display:
    """The live area of one command, or its plain-line stand-in off a terminal."""

    def __init__(self, *, stream: Any = None, terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.terminal = (getattr(self.stream, "isatty", lambda: False)() if terminal is None
                         else terminal)
        self.stacks: dict[str, StackLine] = {}
        # Phases under way, outermost first (a phase may run inside another).
        self._phases: list[tuple[str, float]] = []
        self._countdown: tuple[str, float] | None = None
        self._live = None
        self._console = None
        if self.terminal:
            from rich.console import Console

            self._console = Console(file=self.stream, force_terminal=True, highlight=False)

    # Lines that stay: finished phases, notes.
    def line(self, text: str) -> None:
        if self._console is not None:
            self._console.print(text, markup=False, highlight=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    # The live area.
    def start_phase(self, text: str) -> None:
        self._phases.append((text, time.monotonic()))
        self.stacks.clear()
        self._countdown = None
        if self._console is not None and self._live is None:
            from rich.live import Live

            # Anything else written to stderr meanwhile (a warning) goes above the area
            # instead of under its redraws. Not stdout: it may be a pipe (--json | jq).
            self._live = Live(_Area(self), console=self._console, refresh_per_second=4,
                              transient=True, redirect_stdout=False, redirect_stderr=True)
            self._live.start()

    def end_phase(self) -> None:
        if self._phases:
            self._phases.pop()
        self._countdown = None
        self.stacks.clear()  # the phase's, told in its lines when they ended
        if self._live is not None and not self._phases:
            self._live.stop()
            self._live = None

    def countdown(self, label: str, seconds_left: float) -> None:
        """A watched wait: shown as `label: 40s left`, redrawn by the live area; nothing
        off a terminal (the caller notes the step's start and its outcome)."""
        self._countdown = (label, time.monotonic() + max(0.0, seconds_left))

    def cloudformation(self, raw: str) -> None:
        """One line of the CDK CLI's output during a deploy."""
        if _verbose:
            self.line(f"  │ {raw}")
        event = _EVENT.fullmatch(raw)
        if event is None:
            # The CDK CLI's own words on a failure (not an event): shown, terminal or not.
            if not _verbose and ("❌" in raw or "failed" in raw.lower()):
                self.line(f"  │ {raw}")
            return
        stack = self.stacks.setdefault(event["stack"], StackLine(event["stack"]))
        stack.done, stack.total = int(event["done"]), int(event["total"])
        logical = event["rest"].split(" ", 1)[0]
        stack.last = f"{event['status']} {event['type']} {logical}"
        if event["type"] == "AWS::CloudFormation::Stack" and logical == stack.name:
            was_finished = stack.finished
            stack.status = event["status"]
            if stack.finished and not was_finished and not _verbose:
                counted = f"{stack.total}" if stack.succeeded else stack.counted()
                self.line(f"  {stack.name}: {stack.status.lower().replace('_', ' ')} "
                          f"({counted} resources)")
        if "FAILED" in event["status"] and not _verbose:
            reason = event["rest"].split(" ", 1)[1] if " " in event["rest"] else ""
            failure = f"{event['status']} {event['type']} {logical}: {reason}".rstrip(": ")
            if failure not in stack.failures:
                stack.failures.append(failure)
                self.line(f"  ✗ {stack.name}: {failure}")

    def rows(self) -> list[str]:
        """What the live area shows now (also what tests read)."""
        rows = []
        if self._phases:
            text, started = self._phases[-1]
            rows.append(f"{text} ({time.monotonic() - started:.0f}s)")
        if self._countdown is not None:
            label, until = self._countdown
            rows.append(f"  {label}: {max(0, until - time.monotonic()):.0f}s left")
        rows += [f"  {stack.render()}" for stack in self.stacks.values()]
        return rows


class _Area:
    """The live area's renderable: drawn anew at each refresh, so times move on their own."""

    def __init__(self, display: Display) -> None:
        self.display = display
        from rich.spinner import Spinner

        self.spinner = Spinner("dots")

    def __rich__(self):
        from rich.table import Table
        from rich.text import Text

        rows = self.display.rows()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column()
        for index, row in enumerate(rows):
            grid.add_row(self.spinner if index == 0 else Text(""), Text(row, overflow="ellipsis", no_wrap=True))
        return grid
