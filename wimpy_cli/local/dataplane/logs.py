"""What Docker's awslogs log driver does on an instance, done for the local data plane's
instances: every line the container writes goes to the log group its settings file names
(LOG_OPTIONS' awslogs-group), so `wimpy logs --local` shows the application's output as
`wimpy logs` does on AWS. The driver itself cannot do it here: it runs inside dockerd,
which has no credentials for the emulator. The stream is the instance's id (on an
instance, the driver names it after the container's id).
"""

from __future__ import annotations

import shlex
import threading
import time
from typing import Any

FLUSH_SECONDS = 1.0
# CloudWatch Logs' limits per PutLogEvents: 10,000 events, 1 MiB (26 bytes of overhead each).
MAX_EVENTS = 10_000
MAX_BYTES = 1_048_576
MAX_EVENT_BYTES = 256 * 1024 - 26


def log_group_of(log_options: str) -> str | None:
    """The awslogs-group of a container's log options, or None when it does not log there."""
    words = shlex.split(log_options)
    if "--log-driver=awslogs" not in words:
        return None
    options = [value for flag, value in zip(words, words[1:]) if flag == "--log-opt"]
    return next((o.removeprefix("awslogs-group=") for o in options if o.startswith("awslogs-group=")), None)


class LogShipper:
    """Lines in, batches of events out to one stream, about once a second, until close()."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self._logs, self.group, self.stream = logs, group, stream
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._created = False
        self.last_error = ""
        self._thread = threading.Thread(target=self._run, name=f"logs-{stream}", daemon=True)
        self._thread.start()

    def line(self, text: str) -> None:
        message = text.rstrip("\n")
        encoded = message.encode()
        if len(encoded) > MAX_EVENT_BYTES:  # as the driver does: cut, not dropped
            message = encoded[:MAX_EVENT_BYTES].decode(errors="ignore")
        with self._lock:
            self._pending.append({"timestamp": int(time.time() * 1000), "message": message})

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._closed.wait(FLUSH_SECONDS):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        while events:
            batch, size = [], 0
            while events and len(batch) < MAX_EVENTS and \
                    size + len(events[0]["message"].encode()) + 26 <= MAX_BYTES:
                event = events.pop(0)
                batch.append(event)
                size += len(event["message"].encode()) + 26
            try:
                self._put(batch)
                self.last_error = ""
            except Exception as error:  # the emulator stopping, a deleted group: lose the batch, say why
                self.last_error = f"{type(error).__name__}: {error}"
                return

    def _put(self, batch: list[dict[str, Any]]) -> None:
        if not self._created:
            try:
                self._logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
            except self._logs.exceptions.ResourceAlreadyExistsException:
                pass
            self._created = True
        self._logs.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=batch)
