"""Phases of a long command (validate, build, synth, CloudFormation, ...), each shown as it
starts (live, with its elapsed time, in a terminal: wimpy_cli/live.py) and ends with the time it
took, on stderr; their timings also go in --json output."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class Phases:
    def __init__(self, *, stream=None) -> None:
        # Imported here: `wimpy --help` and the commands that show no phase never need it.
        from wimpy_cli.live import Display

        self.display = Display(stream=stream)
        self.timings: list[dict[str, object]] = []

    @contextmanager
    def phase(self, name: str, detail: str = "", *, live: bool = True) -> Iterator[None]:
        """`live=False` for a phase whose work shows its own progress on the terminal (a
        Docker build and push): it gets a line, not the live area, which would fight it
        for the cursor."""
        title = f"{name}{': ' + detail if detail else ''}"
        shown_live = live and self.display.terminal
        if shown_live:
            self.display.start_phase(title)
        else:
            self.display.line(f"▸ {title}")
        started = time.monotonic()
        try:
            yield
        except BaseException:
            self._finish(name, started, ok=False, shown_live=shown_live)
            raise
        self._finish(name, started, ok=True, shown_live=shown_live)

    def note(self, message: str) -> None:
        self.display.line(f"  {message}")

    def countdown(self, label: str, seconds_left: float) -> None:
        self.display.countdown(label, seconds_left)

    def _finish(self, name: str, started: float, *, ok: bool, shown_live: bool) -> None:
        if shown_live:
            self.display.end_phase()
        seconds = round(time.monotonic() - started, 1)
        self.timings.append({"phase": name, "seconds": seconds, "ok": ok})
        self.display.line(f"{'✓' if ok else '✗'} {name} ({seconds:.1f}s)")
