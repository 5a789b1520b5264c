"""The local target with its data plane: `wimpy deploy --local` builds the image with the
real Docker engine, pushes it to a real registry, and the application then runs as
containers (started by the instance's own scripts) behind a real HAProxy, with wrk
sending requests through every deploy."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from wimpy_cli.errors import ExitCode
from wimpy_cli.main import app
from wimpy_domain import naming
from tests.data_plane_support import LoadGenerator, set_version, write_app
from tests.docker_fixtures import http_get

runner = CliRunner()


@pytest.fixture(scope="module")
def data_plane(emulator, tmp_path_factory, docker_client):
    from wimpy_cli.local.dataplane import missing
    from wimpy_cli.local.dataplane.controller import DataPlane

    assert missing() == [], missing()
    plane = DataPlane(emulator.client, emulator.environment(), tmp_path_factory.mktemp("dataplane"))
    plane.start()
    yield plane
    plane.stop()


def deploy(config, version, *extra):
    return runner.invoke(app, ["deploy", "-c", str(config), "--env", "staging", "--local",
                               "--json", "--version", version, *extra])


def live_version(url: str) -> str:
    status, body = http_get(url)
    assert status == 200, (status, body)
    return body.decode().strip()


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


def first_release(folder, app: str, **settings):
    """`app` (written by write_app with `settings`) deployed at v1 and answering; (folder,
    config path, its local URL)."""
    config = write_app(folder, app=app, **settings)
    set_version(folder, "v1")
    result = deploy(config, "v1")
    assert result.exit_code == 0, result.output
    url = json.loads(result.stdout)["url"]
    assert url.startswith("http://localhost:"), url
    wait_for_answer(url, "v1")
    return folder, config, url


@pytest.fixture(scope="module")
def rolling_app(data_plane, tmp_path_factory):
    """In the app's ECR repository (the default), which the data plane's registry backs."""
    return first_release(tmp_path_factory.mktemp("rolling-app"), "roller")


def test_two_rolling_deploys_under_load_fail_no_request(rolling_app, emulator, data_plane, tmp_path):
    folder, config, url = rolling_app
    wait_until_quiet(emulator, data_plane, naming.stack_alarms(naming.rolling_stack("staging", "roller")),
                     timeout=90)
    load = LoadGenerator(url, tmp_path, pace_ms=8)
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
        rolling_app, emulator, data_plane, tmp_path):
    _, _, url = rolling_app
    live = live_version(url)
    result, seen = deploy_under_load(rolling_app, emulator, data_plane, tmp_path, "v9-broken", settings={"app": "roller"},
                                     healthy=False)
    assert result.exit_code == ExitCode.ROLLED_BACK == 4, result.output
    # Whichever comes first stops it: the instance's own health wait, or the unhealthy-hosts
    # alarm (as on AWS, it fires while the new instance fails the balancer's checks).
    assert ("did not answer on" in result.stderr
            or "wimpy-staging-roller-unhealthy-hosts went into ALARM" in result.stderr), result.stderr
    assert seen.failed == 0, seen
    assert {body for _, body in seen.seen} == {live}


@pytest.fixture(scope="module")
def canary_app(data_plane, registry, tmp_path_factory):
    """Behind the application's load balancer (deploy.traffic's default)."""
    return first_release(tmp_path_factory.mktemp("canary-app"), "canary", registry=registry.host,
                         strategy="blue-green")


@pytest.fixture(scope="module")
def dns_canary_app(data_plane, registry, tmp_path_factory):
    """A load balancer per release and weighted Route53 records (deploy.traffic: dns)."""
    return first_release(tmp_path_factory.mktemp("dns-canary-app"), "dnscanary", registry=registry.host,
                         strategy="blue-green", traffic="dns")


def canary_steps(emulator, version, app: str = "canary"):
    from wimpy_cli.release.session import read_record

    return read_record(emulator.client("dynamodb"), env="staging", app=app).get(version).judged


def test_a_canary_killed_mid_step_and_run_again_ends_on_a_checked_release_and_rolls_back_cleanly(
        canary_app, emulator, registry, tmp_path):
    """A canary SIGKILLed while its first step is watched, then run again: no request
    fails throughout, each step of the re-run sends the new release its share (measured in
    real responses), the step watched when the kill came is watched again from its start,
    and the new release is promoted. Then a rollback to the release it replaced (kept,
    scaled to zero) starts its instances, waits for them to be healthy, and only then moves
    the traffic: no request fails while it comes back."""
    import os
    import subprocess
    import sys

    folder, config, url = canary_app
    # Steps watched for two whole 10 s metric periods (one may not be sent yet when the
    # step ends): the judge compares the two releases.
    write_app(folder, app="canary", registry=registry.host, strategy="blue-green", bake_seconds=25)
    command = [sys.executable, "-m", "wimpy_cli", "deploy", "-c", str(config), "--env", "staging",
               "--local", "--version", "v2"]
    load = LoadGenerator(url, tmp_path)
    try:
        set_version(folder, "v2")
        killed = subprocess.run(command, env={**os.environ, "WIMPY_KILL_AT": "after watching-1:SIGKILL"},
                                capture_output=True, text=True, timeout=600)
        assert killed.returncode == -9, killed.stdout + killed.stderr
        status, _ = http_get(url)
        assert status == 200  # both releases serve while nobody watches
        again = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        seen = load.stop()
        write_app(folder, app="canary", registry=registry.host, strategy="blue-green")
    assert seen.failed == 0, seen
    assert {body for _, body in seen.seen} == {"v1", "v2"}
    # Only the re-run's watches were judged: the killed one's time was never counted.
    steps = canary_steps(emulator, "v2")
    assert [(j.percent, j.outcome) for j in steps] == [(25, "passed"), (100, "passed")]
    for judgement in steps:
        # The whole seconds of the step's watch, less its first three: the DNS TTL (1 s)
        # on AWS; here the data plane's loop (1 s) and HAProxy's reload.
        share, out_of = seen.share_between("v2", judgement.started + 3,
                                           judgement.started + judgement.watched_seconds)
        assert out_of > 200, (judgement, out_of)
        # The listener's weights (333/999 for 25%) are kept request by request: over the
        # step's thousands of requests, the share is the configured one within a point.
        assert out_of > 1000 and abs(100 * share - judgement.percent) <= 1, (judgement, share, out_of)
        # Identical releases (A/A): the judge compared their 5xx and found no difference; at
        # 100% the live release has no requests left to compare with.
        errors = next(c for c in judgement.comparison["comparisons"] if c["metric"] == "5xx")
        expected = "inconclusive" if judgement.percent == 100 else "passed"
        assert errors["outcome"] == expected and errors["canary"] == errors["live"] == 0, errors
    wait_for_answer(url, "v2", timeout=10)

    load = LoadGenerator(url, tmp_path, pace_ms=8)
    try:
        rolled = runner.invoke(app, ["rollback", "-c", str(config), "--env", "staging", "--local", "--json"])
    finally:
        seen = load.stop()
    assert rolled.exit_code == 0, rolled.output
    assert json.loads(rolled.stdout)["version"] == "v1"
    assert seen.failed == 0 and seen.requests > 500, seen
    wait_for_answer(url, "v1", timeout=10)


def test_a_rolling_deploy_answering_5xx_once_healthy_is_rolled_back_by_its_alarm(
        rolling_app, emulator, data_plane, tmp_path):
    """Healthy on /health, 503 on /: every instance passes its checks and the instance
    refresh completes; the errors alarm, on the requests HAProxy logged, fires during the
    refresh or its bake, and CloudFormation's rollback (acted out) brings the last version
    back. Only the bad version's own answers failed."""
    _, config, url = rolling_app
    live = live_version(url)
    # The bake outlasts two bad 10 s periods and their evaluation.
    result, seen = deploy_under_load(rolling_app, emulator, data_plane, tmp_path, "v6-5xx", settings={"app": "roller"},
                                     during={"rolling_bake_seconds": 40}, failing=True)
    assert result.exit_code == ExitCode.ROLLED_BACK == 4, result.output
    assert "the alarm wimpy-staging-roller-errors went into ALARM during the" in result.stderr, result.stderr
    assert "rolled wimpy-staging-roller back" in result.stderr
    failed = {key: count for key, count in seen.seen.items() if key[0] >= 500}
    assert set(failed) == {(503, "v6-5xx")}, failed
    # Every answer came from a release. A few connections (1 to 5 in 7,500 requests, in 4
    # runs of 9 on a loaded machine) end with no answer at all, and HAProxy logs no failed
    # request for them: a race of the load generator's connections with the balancer's
    # reloads while CGI instances are replaced, not yet explained (the static versions of
    # test_two_rolling_deploys_under_load_fail_no_request never show it).
    assert seen.errors["read"] <= 5 and sum(seen.errors.values()) == seen.errors["read"], seen.errors
    wait_for_answer(url, live, timeout=30)
    assert {body for status, body in seen.seen if status == 200} <= {live, "v6-5xx"}
    releases = runner.invoke(app, ["releases", "-c", str(config), "--env", "staging", "--local", "--json"])
    assert releases.exit_code == 0, releases.output
    states = {r["version"]: r["state"] for r in json.loads(releases.stdout)["releases"]}
    assert states[live] == "live" and states["v6-5xx"] == "failed", states
    # The alarm clears on the restored version's answers. Until it has, any rolling deploy
    # of this app would be rolled back at once (README): the module's next test waits too.
    wait_for_alarm(emulator, "wimpy-staging-roller-errors", "OK", timeout=90)


def wait_until_quiet(emulator, plane, names: list[str], timeout: float) -> None:
    """Until none of the alarms `names` that exist (a blue/green app has no rolling stack's)
    is in ALARM, nor will be at the end of the period in progress on what has already
    happened: a period's datapoint is evaluated only once it is complete, so an unhealthy
    second just before this (a killed container back in service) may fire its alarm up to a
    period later, under the next deploy. `plane`'s own evaluation, at that period's end,
    says so now."""
    from wimpy_cli.local.dataplane import alarms

    cloudwatch = emulator.client("cloudwatch")
    deadline = time.monotonic() + timeout
    while True:
        now = int(time.time())
        firing = []
        for alarm in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]:
            period = alarms.period_of(alarm)
            coming = alarms.evaluate(alarm, plane.metrics, plane.served, now - now % period + period)
            if alarm["StateValue"] == "ALARM" or (coming is not None and coming.state == "ALARM"):
                firing.append(alarm["AlarmName"])
        if not firing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{', '.join(firing)} in ALARM, or about to be, after {timeout}s")
        time.sleep(1)


def wait_for_alarm(emulator, name: str, state: str, timeout: float) -> None:
    cloudwatch = emulator.client("cloudwatch")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        if alarm["StateValue"] == state:
            return
        time.sleep(1)
    raise AssertionError(f"{name} is {alarm['StateValue']}, not {state}, after {timeout}s")


def deploy_under_load(deployed, emulator, plane, tmp_path, version: str, *, settings: dict,
                      during: dict | None = None, **answers):
    """Deploy `version` of the `deployed` app (answering as `set_version`'s `answers` say)
    under steady load, its wimpy.yml written by write_app with `settings` and, for this
    deploy only, `during`; then a healthy next version again. (the deploy's result, what
    the load saw)."""
    folder, config, url = deployed
    # An alarm a test before this one left in ALARM (a version that never became healthy, a
    # killed container) would fail a rolling deploy's instance refresh at once, as on AWS:
    # start, as an operator would, once the rolling stack's alarms are quiet again.
    wait_until_quiet(emulator, plane, naming.stack_alarms(naming.rolling_stack("staging", settings["app"])),
                     timeout=90)
    if during:
        write_app(folder, **settings, **during)
    load = LoadGenerator(url, tmp_path, pace_ms=8)
    try:
        set_version(folder, version, **answers)
        result = deploy(config, version)
    finally:
        seen = load.stop()
        if during:
            write_app(folder, **settings)
        set_version(folder, f"after-{version}")
    return result, seen


def test_a_canary_answering_5xx_is_rolled_back_by_its_alarm_on_real_metrics(
        dns_canary_app, emulator, data_plane, registry, tmp_path):
    """Through DNS (a load balancer per release, weighted records; the other canary tests
    go through the application's load balancer): only the bad release's share of requests
    fails, and only while it is watched: its errors alarm, evaluated on the requests its
    HAProxy logged, fires after two bad 10 s periods, and the deploy rolls back and exits 4."""
    _, _, url = dns_canary_app
    live = live_version(url)
    # Its first step watched long enough for two whole bad periods and their evaluation.
    result, seen = deploy_under_load(
        dns_canary_app, emulator, data_plane, tmp_path, "v5-5xx", failing=True, during={"bake_seconds": 45},
        settings=dict(app="dnscanary", registry=registry.host, strategy="blue-green", traffic="dns"))
    assert result.exit_code == ExitCode.ROLLED_BACK == 4, result.output
    assert "wimpy-staging-dnscanary-" in result.stderr and "errors is in ALARM" in result.stderr, result.stderr
    (judged,) = canary_steps(emulator, "v5-5xx", app="dnscanary")
    assert (judged.percent, judged.outcome) == (25, "failed")
    assert "errors is in ALARM" in judged.problems[0]
    failed = {key: count for key, count in seen.seen.items() if key[0] >= 500}
    assert set(failed) == {(503, "v5-5xx")}, failed   # the bad release's own answers, no other
    assert sum(seen.errors.values()) == 0, seen.errors
    # Its share of the requests during its watch, and none once it was rolled back.
    share, out_of = seen.share_between("v5-5xx", judged.started + 3, judged.started + judged.watched_seconds)
    assert out_of > 1000 and abs(100 * share - 25) <= 5, (share, out_of)
    after, out_of = seen.share_between("v5-5xx", judged.started + judged.watched_seconds + 5, 2e9)
    assert after == 0, (after, out_of)
    assert live_version(url) == live


def test_a_canary_with_a_few_percent_more_5xx_is_rolled_back_by_the_judge_below_the_alarm(
        canary_app, emulator, data_plane, registry, tmp_path):
    """3% of the new release's answers are 503, under its errors alarm's 5% threshold: the
    alarm stays OK, and the judge, comparing the step's requests with the live release's
    over the same window, rolls it back with the numbers."""
    _, config, url = canary_app
    live = live_version(url)
    result, seen = deploy_under_load(
        canary_app, emulator, data_plane, tmp_path, "v7-3pct", failing_percent=3, during={"bake_seconds": 25},
        settings=dict(app="canary", registry=registry.host, strategy="blue-green"))
    assert result.exit_code == ExitCode.ROLLED_BACK == 4, result.output
    assert "worse than the live release: 5xx" in result.stderr, result.stderr
    (judged,) = canary_steps(emulator, "v7-3pct")
    assert (judged.percent, judged.outcome) == (25, "failed")
    assert "vs live 0.00% of" in judged.problems[0] and "worse by" in judged.problems[0], judged.problems
    assert "in ALARM" not in result.stderr  # the fixed threshold alone would have passed it
    shown = runner.invoke(app, ["status", "-c", str(config), "--env", "staging", "--local"])
    assert "Judged against the live release: v7-3pct at 25% (step 1) failed" in shown.stdout, shown.stdout
    assert "worse than the live release: 5xx" in shown.stdout, shown.stdout
    # Only the new release's few, only while it served a quarter of the requests.
    assert 0 < seen.failed < 0.03 * seen.requests, seen
    assert live_version(url) == live


def status_of(config):
    result = runner.invoke(app, ["status", "-c", str(config), "--env", "staging", "--local", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["releases"]


def stable_health(config, health: str, *, seconds: float, timeout: float) -> bool:
    """Whether the app's live release shows `health` throughout `seconds` in a row, within
    `timeout`."""
    deadline = time.monotonic() + timeout
    since = None
    while time.monotonic() < deadline:
        if status_of(config)[0]["health"] != health:
            since = None
        elif since is None:
            since = time.monotonic()
        elif time.monotonic() - since >= seconds:
            return True
        time.sleep(0.5)
    return False


def test_a_killed_container_comes_back_into_service_and_status_shows_real_health(
        rolling_app, data_plane, docker_client):
    folder, config, url = rolling_app
    # A deploy just before this test (any order) leaves the last version's instances
    # draining for the deregistration delay: counted as targets, not healthy ("2/4").
    deadline = time.monotonic() + 90
    while (release := status_of(config)[0])["health"] != "2/2 healthy" and time.monotonic() < deadline:
        time.sleep(1)
    assert (release["instances"], release["health"], release["url"]) == (2, "2/2 healthy", url)
    name = next(i.container for g in data_plane._groups.values() if "-roller-" in g.name
                for i in g.in_service())
    victim = docker_client.containers.get(name)
    victim.kill()
    # The unit starts it again (Restart=always, after RestartSec): the same instance, a new
    # container, which HAProxy's checks keep in (or bring back into) service.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            again = docker_client.containers.get(victim.name)
        except Exception:
            again = None
        health = status_of(config)[0]["health"]
        if again is not None and again.id != victim.id and again.status == "running" \
                and health == "2/2 healthy":
            break
        time.sleep(0.5)
    assert again is not None and again.id != victim.id, "the container was not started again"
    assert health == "2/2 healthy", health
    # Back in service for good: a check that failed just before the new container listened
    # can still take it out (HAProxy counts two, 5 s apart) and bring it back 10 s later.
    # Ending at the first "2/2 healthy" let that happen under the next test's deploy, whose
    # unhealthy-hosts alarm then fired. Healthy throughout two check intervals and a margin:
    settled = stable_health(config, "2/2 healthy", seconds=2 * 5 + 3, timeout=60)
    assert settled, "the restarted container did not stay in service"
    # What the containers wrote reached the app's log group, as the awslogs driver sends it.
    logs = runner.invoke(app, ["logs", "-c", str(config), "--env", "staging", "--local", "--since", "30m"])
    assert logs.exit_code == 0, logs.output
    assert logs.stdout.count("listening on 8080") >= 3, logs.stdout[-2000:]  # 2 instances, 1 restart


def test_exec_runs_a_command_in_an_instance_container_and_returns_its_status(rolling_app):
    """`wimpy exec` in its own process, as a user runs it: its output and exit status are
    the command's, run inside the container serving the application."""
    import subprocess
    import sys

    _, config, url = rolling_app

    def wimpy_exec(*words):
        return subprocess.run([sys.executable, "-m", "wimpy_cli", "exec", "-c", str(config), "--env", "staging",
                               "--local", "--", *words], capture_output=True, text=True, timeout=60)

    shown = wimpy_exec("/bin/busybox", "cat", "/www/index.html")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == live_version(url)
    failed = wimpy_exec("/bin/busybox", "false")
    assert failed.returncode == 1, failed.stderr
    wrong = subprocess.run([sys.executable, "-m", "wimpy_cli", "exec", "-c", str(config), "--env", "staging",
                            "--local", "--instance", "i-nothere", "--", "true"],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "--instance i-nothere: not an instance of roller" in wrong.stderr
    assert "Traceback" not in wrong.stderr

