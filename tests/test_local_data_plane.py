"""The local target with its data plane: `wimpy deploy --local` builds the image with the
real Docker engine, pushes it to a real registry, and the application then runs as
containers (started by the instance's own scripts) behind a real HAProxy, with wrk
sending requests through every deploy."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from cli.errors import ExitCode
from cli.main import app
from tests.data_plane_support import LoadGenerator, set_version, write_app
from tests.docker_fixtures import http_get

runner = CliRunner()


@pytest.fixture(scope="module")
def data_plane(emulator, tmp_path_factory, docker_client):
    from cli.local.dataplane import missing
    from cli.local.dataplane.controller import DataPlane

    assert missing() == [], missing()
    plane = DataPlane(emulator.client, emulator.environment(), tmp_path_factory.mktemp("dataplane"))
    plane.start()
    yield plane
    plane.stop()


def deploy(config, version, *extra):
    return runner.invoke(app, ["deploy", "-c", str(config), "--env", "staging", "--local",
                               "--json", "--version", version, *extra])


def wait_for_answer(url: str, body: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, answer = http_get(url, timeout_seconds=2)
            if status == 200 and answer.decode().strip() == body:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {body!r} within {timeout}s")


@pytest.fixture(scope="module")
def rolling_app(data_plane, registry, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rolling-app")
    config = write_app(folder, app="roller", registry=registry.host)
    set_version(folder, "v1")
    result = deploy(config, "v1")
    assert result.exit_code == 0, result.output
    url = json.loads(result.stdout)["url"]
    assert url.startswith("http://localhost:"), url
    wait_for_answer(url, "v1")
    return folder, config, url


def test_two_rolling_deploys_under_load_fail_no_request(rolling_app, tmp_path):
    folder, config, url = rolling_app
    load = LoadGenerator(url, tmp_path)
    try:
        for version in ("v2", "v3"):
            set_version(folder, version)
            result = deploy(config, version)
            assert result.exit_code == 0, result.output
    finally:
        seen = load.stop()
    assert seen.requests > 100, seen
    assert seen.failed == 0, seen
    assert {body for _, body in seen.seen} <= {"v1", "v2", "v3"}
    wait_for_answer(url, "v3", timeout=5)


def test_a_version_that_never_becomes_healthy_is_rolled_back_and_the_last_keeps_serving(
        rolling_app, tmp_path):
    folder, config, url = rolling_app
    status, body = http_get(url)
    live = body.decode().strip()
    load = LoadGenerator(url, tmp_path)
    try:
        set_version(folder, "v9-broken", healthy=False)
        result = deploy(config, "v9-broken")
    finally:
        seen = load.stop()
        set_version(folder, "v10")
    assert result.exit_code == ExitCode.ROLLED_BACK == 4, result.output
    assert "did not answer on" in result.stderr
    assert seen.failed == 0, seen
    assert {body for _, body in seen.seen} == {live}
