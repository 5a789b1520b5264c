"""Validation and synthesis make no network call, whatever credentials are set (README:
"synthesis needs no AWS call"). Every way out is pointed at a recording HTTP server on
127.0.0.1 (the AWS endpoint, the instance metadata service, the HTTP(S) proxy) with
credentials that look usable, and the server must receive nothing. One real synthesis,
through the installed command; `plan` and `cost` are proven to take the same path."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

from wimpy_cli.toolchain import PROJECT_ROOT
from tests.conftest import EXAMPLE


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[tuple[str, str, str]] = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        type(self).requests.append((self.command, self.path, body[:200]))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_CONNECT = _record

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.requests
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def online(recorder, tmp_path_factory):
    """An environment in which any AWS call (or any proxied request) reaches the recorder."""
    url, _ = recorder
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIMPY_", "CDK_"))}
    env.update({
        "AWS_ENDPOINT_URL": url, "AWS_EC2_METADATA_SERVICE_ENDPOINT": url,
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_MAX_ATTEMPTS": "1",
        "HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
        "WIMPY_LOCAL_STATE": str(tmp_path_factory.mktemp("state") / "none.json"),
    })
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def wimpy(env, *args):
    return subprocess.run([sys.executable, "-m", "wimpy_cli", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=600)


def test_the_recorder_records(recorder, online):
    """The trap works: with these settings, an AWS call does reach it."""
    url, requests = recorder
    probe = subprocess.run(
        [sys.executable, "-c", "import boto3\ntry:\n boto3.client('sts').get_caller_identity()\n"
                               "except Exception as e:\n print(type(e).__name__)"],
        capture_output=True, text=True, env=online, timeout=60)
    assert any("GetCallerIdentity" in body for _, _, body in requests), (probe.stdout, probe.stderr)
    requests.clear()


def test_validate_makes_no_network_call(recorder, online):
    _, requests = recorder
    requests.clear()
    result = wimpy(online, "validate", "-c", str(EXAMPLE), "--env", "staging")
    assert result.returncode == 0, result.stderr
    assert requests == []


def test_synth_makes_no_network_call(recorder, online, tmp_path):
    _, requests = recorder
    requests.clear()
    result = wimpy(online, "synth", "-c", str(EXAMPLE), "--env", "staging", "-o", str(tmp_path), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert requests == [], "synthesis called out: " + json.dumps(requests)
    assert json.loads(result.stdout)["stacks"]


@pytest.mark.parametrize("args", [["plan", "--env", "staging"], ["cost", "--env", "staging"]])
def test_plan_and_cost_synthesize_the_same_offline_way(args, monkeypatch, tmp_path):
    """`plan` and `cost` synthesize too: the CDK CLI runs with no credential source, no
    endpoint, no metadata service and no lookups (the run itself is stopped here)."""
    from typer.testing import CliRunner

    from wimpy_cli.errors import WimpyError
    from wimpy_cli.main import app

    calls = []

    def run(arguments, **kwargs):
        calls.append((arguments, kwargs))
        raise WimpyError("stopped by the test")

    monkeypatch.setattr("wimpy_cli.cdk.run", run)
    monkeypatch.setenv("AWS_PROFILE", "someone")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, [args[0], "-c", str(EXAMPLE), *args[1:]])
    assert "stopped by the test" in result.stderr, result.stdout + result.stderr
    ((arguments, kwargs),) = calls
    assert arguments[0] == "synth" and "--no-lookups" in arguments
    env = kwargs["extra_env"]
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_EC2_METADATA_SERVICE_ENDPOINT"):
        assert env[name] is None, name
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
