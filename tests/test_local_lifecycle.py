"""`wimpy local start|stop|status|env` as a user runs them: stop returns only once the
emulator has exited, env points an AWS SDK at it, and a state file that is empty, torn, stale, or names a port or pid that some
other program now holds is never attached to nor signalled."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from wimpy_cli.toolchain import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "hello" / "wimpy.yml"


def wimpy(*args: str, state: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIMPY_"))}
    env["WIMPY_LOCAL_STATE"] = str(state)
    return subprocess.run([sys.executable, "-m", "wimpy_cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_stop_returns_once_the_emulator_has_exited(tmp_path):
    state = tmp_path / "local.json"
    started = wimpy("local", "start", "-c", str(EXAMPLE), state=state)
    assert started.returncode == 0, started.stdout + started.stderr
    pid = json.loads(state.read_text())["pid"]
    try:
        _started_then_stopped(started, pid, state)
    finally:  # a failed check must not leave an emulator (and its data plane) running
        if running(pid):
            wimpy("local", "stop", state=state)


def _started_then_stopped(started: subprocess.CompletedProcess, pid: int, state: Path) -> None:
    # This machine has Docker, HAProxy, docker-registry, curl and the AWS CLI.
    assert "Data plane: on." in started.stdout + started.stderr
    # The next step is runnable as printed: the same wimpy.yml, the emulator.
    assert f"Next: wimpy deploy --env staging -c {EXAMPLE} --version v1 --local" in started.stdout + started.stderr
    assert running(pid)
    status = wimpy("local", "status", "--json", state=state)
    assert json.loads(status.stdout)["running"] is True
    assert json.loads(status.stdout)["data_plane"] is True
    # `wimpy local env` points an AWS SDK at the emulator, e.g. to put a secret there.
    exports = wimpy("local", "env", state=state)
    assert exports.returncode == 0, exports.stderr
    variables = dict(line.removeprefix("export ").split("=", 1) for line in exports.stdout.splitlines())
    assert set(variables) == {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                              "AWS_REGION", "AWS_DEFAULT_REGION"}
    import boto3
    ssm = boto3.client("ssm", endpoint_url=variables["AWS_ENDPOINT_URL"], region_name=variables["AWS_REGION"],
                       aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"])
    ssm.put_parameter(Name="/hello/api-token", Value="t0ken", Type="SecureString")
    assert ssm.get_parameter(Name="/hello/api-token", WithDecryption=True)["Parameter"]["Value"] == "t0ken"
    stopped = wimpy("local", "stop", state=state)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    # No waiting here: when stop has returned, the process is gone.
    assert not running(pid), f"pid {pid} still runs after `wimpy local stop` returned"
    assert not state.exists()
    assert "Traceback" not in stopped.stdout + stopped.stderr
    nothing = wimpy("local", "env", state=state)
    assert nothing.returncode == 1 and "no local emulator is running" in nothing.stderr, nothing.stderr


@pytest.fixture
def bystander():
    """A process that is not Wimpy's emulator, with an HTTP server on a port: what a stale
    state file's pid and port may belong to by now."""
    process = subprocess.Popen(["sleep", "300"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield process, server.server_address[1]
    server.shutdown()
    process.kill()
    process.wait()


def _state(pid: int, port: int) -> dict:
    return {"endpoint": f"http://localhost:{port}", "account_id": "111111111111",
            "region": "eu-west-1", "access_key_id": "AKIA", "secret_access_key": "x",
            "machine_images": {}, "pid": pid, "token": "0" * 32}


@pytest.mark.parametrize("kind", ["empty", "torn", "not-a-mapping", "missing-fields",
                                  "reused-pid-and-port", "dead-pid", "remote-endpoint"])
def test_a_stale_state_file_is_detected_and_nothing_else_is_touched(tmp_path, bystander, kind):
    process, port = bystander
    state = tmp_path / "local.json"
    text = {
        "empty": "",
        "torn": '{"endpoint": "http://localhost:1',
        "not-a-mapping": "[1, 2]",
        "missing-fields": json.dumps({"endpoint": f"http://localhost:{port}", "pid": process.pid}),
        "reused-pid-and-port": json.dumps(_state(process.pid, port)),
        "dead-pid": json.dumps(_state(2 ** 22 + 17, port)),
        "remote-endpoint": json.dumps({**_state(process.pid, port), "endpoint": "http://10.0.0.1:4566"}),
    }[kind]
    state.write_text(text)
    status = wimpy("local", "status", "--json", state=state)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {"running": False}
    stopped = wimpy("local", "stop", state=state)
    output = stopped.stdout + stopped.stderr
    assert stopped.returncode == 0, output
    assert "stale state file" in output and "Traceback" not in output
    assert process.poll() is None, "a process that is not the emulator was signalled"
    assert not state.exists()
