"""Phases of a long command (validate, build, synth, CloudFormation, ...), each shown as it
starts and ends with the time it took, on stderr; their timings also go in --json output."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator


class Phases:
    def __init__(self, *, stream=None) -> None:
        self._stream = stream or sys.stderr
        self.timings: list[dict[str, object]] = []

    @contextmanager
    def phase(self, name: str, detail: str = "") -> Iterator[None]:
        self._write(f"▸ {name}{': ' + detail if detail else ''}")
        started = time.monotonic()
        try:
            yield
        except BaseException:
            self._finish(name, started, ok=False)
            raise
        self._finish(name, started, ok=True)

    def note(self, message: str) -> None:
        self._write(f"  {message}")

    def _finish(self, name: str, started: float, *, ok: bool) -> None:
        seconds = round(time.monotonic() - started, 1)
        self.timings.append({"phase": name, "seconds": seconds, "ok": ok})
        self._write(f"{'✓' if ok else '✗'} {name} ({seconds:.1f}s)")

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()
