"""A local emulator that outlives one command, so that `deploy`, `status`, `promote`,
`rollback` and `destroy` can act on the same emulated account one after another:

    wimpy local start -c wimpy.yml     # runs `python -m cli.local.persistent` in the background
    wimpy deploy --local ...           # attaches to it (found through the state file)
    wimpy local stop

The state file (default ~/.wimpy/local.json, or $WIMPY_LOCAL_STATE) holds the endpoint and
the emulator's own throwaway credentials; no real credential is ever written.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import socket
import urllib.parse
from pathlib import Path
from typing import Any

from cli.local.emulator import LocalAws


def state_path() -> Path:
    return Path(os.environ.get("WIMPY_LOCAL_STATE") or Path.home() / ".wimpy" / "local.json")


class AttachedAws(LocalAws):
    """The LocalAws interface for an emulator running in another process."""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(state["account_id"], state["region"])
        self.access_key_id = state["access_key_id"]
        self.secret_access_key = state["secret_access_key"]
        self._endpoint = state["endpoint"]
        self.machine_images: dict[str, str] = state.get("machine_images", {})

    def __enter__(self) -> AttachedAws:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    @property
    def endpoint(self) -> str:
        return self._endpoint


def read_state() -> dict[str, Any] | None:
    """The running emulator's state, or None when none is running (a stale file from a
    process that died is ignored)."""
    path = state_path()
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    # A connection is enough to know it runs (moto's own status pages serialize its whole
    # state, which grows slow as stacks pile up).
    address = urllib.parse.urlsplit(state["endpoint"])
    try:
        with socket.create_connection((address.hostname, address.port), timeout=2):
            return state
    except OSError:
        return None


def write_state(local: LocalAws, machine_images: dict[str, str]) -> Path:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"endpoint": local.endpoint, "account_id": local.account_id, "region": local.region,
             "access_key_id": local.access_key_id, "secret_access_key": local.secret_access_key,
             "machine_images": machine_images, "pid": os.getpid()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2))
    temporary.chmod(0o600)
    temporary.replace(path)
    return path


def serve(account_id: str, region: str) -> None:
    """Run an emulator (bootstrapped) until SIGTERM/SIGINT, publishing its state file."""
    from cli.local.bootstrap import bootstrap

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with LocalAws(account_id, region) as local:
        images = bootstrap(local)
        path = write_state(local, images)
        print(f"local AWS emulator for {account_id} {region} at {local.endpoint} ({path})",
              flush=True)
        stop.wait()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
