"""A local emulator that outlives one command, so that `deploy`, `status`, `promote`,
`rollback` and `destroy` can act on the same emulated account one after another:

    wimpy local start -c wimpy.yml     # runs `python -m wimpy_cli.local.persistent` in the background
    wimpy deploy --local ...           # attaches to it (found through the state file)
    wimpy local stop

The state file (default ~/.wimpy/local.json, or $WIMPY_LOCAL_STATE) holds the endpoint and
the emulator's own throwaway credentials; no real credential is ever written. It is
trusted only once the emulator it names proves to be that emulator: a file that is empty,
torn, left by a process that died, or whose port or pid another program has since taken,
is stale. Nothing attaches to, or signals, a process that is not Wimpy's emulator.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from wimpy_domain.config.yaml_source import show
from wimpy_cli.local.emulator import LocalAws
from wimpy_cli.processes import is_running


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


# Where the emulator keeps the token that proves it is the one a state file names.
TOKEN_PARAMETER = "/wimpy/local/emulator-token"
_FIELDS = {"endpoint": str, "account_id": str, "region": str, "access_key_id": str,
           "secret_access_key": str, "pid": int, "token": str}


class StaleState(Exception):
    """The state file names no running Wimpy emulator; the message says why."""


def explained_path() -> Path:
    """Beside the state file: what commands told once per run of this emulator
    (wimpy_cli/targets.py), so it goes with the run."""
    return state_path().with_name(state_path().name + ".explained")


def read_state() -> dict[str, Any] | None:
    """The running emulator's state, or None when none is running (a stale file is
    ignored, never acted on)."""
    try:
        return verified_state()
    except StaleState:
        return None


def verified_state() -> dict[str, Any] | None:
    """The state of the emulator the file names, once that emulator proved it is the one:
    None when there is no file; StaleState (with the reason) when the file is unusable or
    names something else."""
    path = state_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StaleState(f"{path} cannot be read ({error.strerror})") from None
    try:
        state = json.loads(text)
    except ValueError:
        raise StaleState(f"{path} is empty or not JSON") from None
    if not isinstance(state, dict) or any(
            not isinstance(state.get(key), kind) or isinstance(state.get(key), bool)
            for key, kind in _FIELDS.items()):
        raise StaleState(f"{path} lacks the fields a Wimpy emulator writes")
    address = urllib.parse.urlsplit(state["endpoint"])
    if address.scheme != "http" or address.hostname not in ("localhost", "127.0.0.1") or not address.port:
        raise StaleState(f"{path} names {show(state['endpoint'])}, not a local emulator")
    if not is_running(state["pid"]):
        raise StaleState(f"process {state['pid']} from {path} has exited")
    # The token proves the endpoint is the emulator that wrote the file, and so that the
    # pid is still its process: a reused port answers with something else, or not at all.
    if not _answers_with_token(state):
        raise StaleState(f"{state['endpoint']} does not answer as the emulator {path} names")
    return state


def _answers_with_token(state: dict[str, Any]) -> bool:
    """Ask the endpoint for the token only this emulator holds (a reused port answers
    with something else, or not at all)."""
    import botocore.config
    import botocore.exceptions

    client = AttachedAws(state).client("ssm", config=botocore.config.Config(
        connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}))
    try:
        value = client.get_parameter(Name=TOKEN_PARAMETER)["Parameter"]["Value"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, KeyError, ValueError):
        return False
    return secrets.compare_digest(value, state["token"])


def write_state(local: LocalAws, machine_images: dict[str, str],
                data_plane: dict[str, Any] | None = None) -> Path:
    token = secrets.token_hex(16)
    local.client("ssm").put_parameter(Name=TOKEN_PARAMETER, Value=token, Type="String",
                                      Overwrite=True)
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"endpoint": local.endpoint, "account_id": local.account_id, "region": local.region,
             "access_key_id": local.access_key_id, "secret_access_key": local.secret_access_key,
             "machine_images": machine_images, "pid": os.getpid(), "token": token,
             "data_plane": data_plane or {"running": False, "missing": []}}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, indent=2))
    temporary.chmod(0o600)
    temporary.replace(path)
    return path


def stop(state: dict[str, Any], *, timeout_seconds: float = 30) -> None:
    """Stop the verified emulator `state` names and return once it has exited: SIGTERM,
    then SIGKILL if it is still there after `timeout_seconds`."""
    pid = state["pid"]
    for sig, wait in ((signal.SIGTERM, timeout_seconds), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and is_running(pid):
            time.sleep(0.1)
        if not is_running(pid):
            break
    else:
        raise OSError(f"the emulator (pid {pid}) did not exit after SIGKILL")
    if _path_names(state):
        state_path().unlink(missing_ok=True)
        explained_path().unlink(missing_ok=True)


def _path_names(state: dict[str, Any]) -> bool:
    try:
        return json.loads(state_path().read_text()).get("token") == state["token"]
    except (OSError, ValueError, AttributeError):
        return False


def serve(account_id: str, region: str) -> None:
    """Run an emulator (bootstrapped) until SIGTERM/SIGINT, publishing its state file."""
    from wimpy_cli.local.bootstrap import bootstrap

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    with LocalAws(account_id, region) as local:
        images = bootstrap(local)
        plane, data_plane = _start_data_plane(local)
        path = write_state(local, images, data_plane)
        state = json.loads(path.read_text())
        print(f"local AWS emulator for {account_id} {region} at {local.endpoint} ({path})",
              flush=True)
        try:
            stopping.wait()
        finally:
            if plane is not None:
                plane.stop()  # its containers and load balancers go with the emulator
            if _path_names(state):  # another emulator may have written the file since
                path.unlink(missing_ok=True)


def _start_data_plane(local: LocalAws) -> tuple[Any, dict[str, Any]]:
    """The data plane beside the emulator, when this machine has what it needs, and what
    to say of it: {"running", "missing": what it lacks, "error": why it did not start}."""
    from wimpy_cli.local import dataplane

    absent = dataplane.missing()
    if absent:
        return None, {"running": False, "missing": absent}
    from wimpy_cli.local.dataplane.controller import DataPlane
    from wimpy_cli.local.dataplane.sweep import sweep

    root = state_path().parent / "dataplane"
    for what in sweep(root, keep=os.getpid()):
        print(f"removed what a killed emulator's data plane left: {what}", flush=True)
    plane = DataPlane(local.client, local.environment(), root / str(os.getpid()))
    try:
        plane.start()
    except (OSError, RuntimeError) as error:
        print(f"the data plane did not start: {error}", flush=True)
        plane.stop()
        return None, {"running": False, "missing": [], "error": str(error)}
    return plane, {"running": True, "missing": []}


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
