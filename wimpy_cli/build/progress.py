"""Showing the Docker engine's event streams on stderr as they arrive: build output line by
line (the last lines are kept for the error message), and push progress per layer (bars
on a terminal, one line per layer state otherwise, so CI logs stay readable)."""

from __future__ import annotations

import sys
from collections import deque
from typing import Any, TextIO

TAIL_LINES = 20
# Layer states worth a line of their own in a log (progress updates are not).
_FINAL_STATES = ("Pushed", "Layer already exists", "Mounted from")
# The builder's own housekeeping, shown as it streams but not worth a line of the short
# tail an error message quotes.
_BUILDER_CHATTER = ("Removing intermediate container",)


class BuildLog:
    """Consumes `docker build` events: echoes the output, keeps the last `tail_lines` lines,
    and records the image id or the error."""

    def __init__(self, out: TextIO | None = None, tail_lines: int = TAIL_LINES):
        self._out = out
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self._partial = ""
        self.image_id: str | None = None
        self.error: str | None = None

    def feed(self, event: dict[str, Any]) -> None:
        if "stream" in event:
            self._write(event["stream"])
        if event.get("status"):  # pulling a base image
            progress = f" {event['progress']}" if event.get("progress") else ""
            self._write(f"{event.get('id', '')} {event['status']}{progress}".strip() + "\n")
        if "error" in event or "errorDetail" in event:
            detail = event.get("errorDetail") or {}
            self.error = (detail.get("message") or event.get("error") or "unknown error").strip()
        aux = event.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            self.image_id = aux["ID"]

    def _write(self, text: str) -> None:
        out = self._out or sys.stderr
        out.write(text)
        out.flush()
        # Output arrives in chunks that need not end at a line break.
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        self.tail.extend(line.rstrip("\r") for line in lines
                         if line.strip() and not line.startswith(_BUILDER_CHATTER))

    def close(self) -> None:
        if self._partial.strip():
            self.tail.append(self._partial)
        self._partial = ""


class PushProgress:
    """Consumes `docker push` events for one reference; a context manager so the bars
    close even when the push fails. Records the digest or the error."""

    def __init__(self, reference: str, out: TextIO | None = None):
        self.reference = reference
        self._out = out
        self.digest: str | None = None
        self.error: str | None = None
        self._states: dict[str, str] = {}
        self._bars: Any = None
        self._tasks: dict[str, Any] = {}
        self._totals: dict[str, int] = {}

    def __enter__(self) -> PushProgress:
        out = self._out or sys.stderr
        from rich.console import Console  # here: rich costs import time wimpy --help skips

        console = Console(file=out)
        if console.is_terminal:
            from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                       TransferSpeedColumn)

            self._bars = Progress(TextColumn("  {task.fields[layer]}"),
                                  TextColumn("{task.fields[state]:<20}"), BarColumn(),
                                  DownloadColumn(), TransferSpeedColumn(), console=console,
                                  transient=False)
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.stop()

    def feed(self, event: dict[str, Any]) -> None:
        if "error" in event or "errorDetail" in event:
            detail = event.get("errorDetail") or {}
            self.error = (detail.get("message") or event.get("error") or "unknown error").strip()
            return
        aux = event.get("aux")
        if isinstance(aux, dict) and aux.get("Digest"):
            self.digest = aux["Digest"]
            return
        status = event.get("status") or ""
        layer = event.get("id")
        if not layer:
            if status:
                self._line(status)
            return
        self._layer(layer, status, event.get("progressDetail") or {})

    def _layer(self, layer: str, status: str, detail: dict[str, Any]) -> None:
        state = "Mounted" if status.startswith("Mounted from") else status
        if self._bars is None:
            # A log gets one line per change of state, not one per progress tick.
            if self._states.get(layer) != state:
                self._line(f"  {layer}: {status}")
            self._states[layer] = state
            return
        current, total = detail.get("current"), detail.get("total")
        if layer not in self._tasks:
            self._tasks[layer] = self._bars.add_task("", total=None, layer=layer, state=state)
        task = self._tasks[layer]
        update: dict[str, Any] = {"state": state}
        if isinstance(current, int) and isinstance(total, int) and total > 0:
            # The engine's totals are approximate (compressed vs uncompressed sizes).
            self._totals[layer] = max(total, current)
            update.update(total=self._totals[layer], completed=current)
        if status.startswith(_FINAL_STATES):
            known = self._totals.get(layer, 1)
            update.update(total=known, completed=known)
        self._bars.update(task, **update)

    def _line(self, text: str) -> None:
        if self._bars is not None:
            self._bars.console.print(text, markup=False, highlight=False)
            return
        out = self._out or sys.stderr
        out.write(text.rstrip("\n") + "\n")
        out.flush()
