"""SIGTERM and SIGHUP end a command the way Ctrl-C does: an exception that unwinds every
`finally`, so the release record is left consistent, the lock released and the state of
traffic printed with the command to resume or undo, instead of dying mid-write."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Iterator


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop; `code` is the shell's 128 + signal number."""

    def __init__(self, signal_number: int):
        self.signal_number = signal_number
        self.code = 128 + signal_number
        super().__init__(signal.Signals(signal_number).name)


def _raise(signal_number: int, frame: Any) -> None:
    raise Interrupted(signal_number)


@contextmanager
def graceful_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise Interrupted (Ctrl-C already raises
    KeyboardInterrupt). Only in the main thread: elsewhere signals cannot be handled."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _raise) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
