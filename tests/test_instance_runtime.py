"""The instance side, run for real: the container script the systemd unit runs pulls a
real image from a real registry, runs it with its environment and secrets, the health wait
the boot script uses succeeds against it, stop is graceful (the application gets SIGTERM and
ends on its own) and asks AWS nothing; and an image that never becomes healthy is reported
as failed once its timeout has passed. (tests/test_boot.py checks the script's exact calls.)"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time


from tests.docker_fixtures import (
    BUSYBOX,
    free_port,
)
from wimpy_constructs import boot

HEALTH_TIMEOUT = 6


# The application: busybox httpd under a shell that, like a well-behaved server, ends
# cleanly (exit 0) on SIGTERM; killed instead (SIGKILL after the stop timeout) it would
# end with 137.
SERVE = ("trap 'kill $server; exit 0' TERM; "
         "/busybox httpd -f -p {port} -h /www & server=$!; wait $server")


def build_and_push(docker_client, registry, folder, *, name: str, port: int, healthy: bool) -> str:
    """A FROM-scratch image serving /www on `port` (with /health only if `healthy`), pushed
    to the local registry; returns its reference."""
    folder.mkdir(parents=True)
    shutil.copy2(BUSYBOX, folder / "busybox")
    (folder / "www").mkdir()
    (folder / "www" / ("health" if healthy else "index.html")).write_text("ok\n")
    (folder / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /busybox\nCOPY www /www\n"
        f'CMD ["/busybox", "sh", "-c", "{SERVE.format(port=port)}"]\n')
    reference = f"{registry.host}/{name}:v1"
    docker_client.images.build(path=str(folder), tag=reference, rm=True)
    docker_client.images.push(reference, auth_config=registry.auth_config)  # None: no auth
    docker_client.images.remove(reference, force=True)  # so `prepare` must really pull it
    return reference


def fake_aws_cli(folder) -> str:
    """An `aws` on PATH that answers `ssm get-parameter` like the real CLI, so the secret
    path runs without AWS; it records the parameter names it was asked for, and every
    call's arguments in `calls`."""
    folder.mkdir()
    script = folder / "aws"
    script.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >> {folder}/calls\n'
        'while [ $# -gt 0 ]; do [ "$1" = --name ] && name=$2; shift; done\n'
        f'echo "$name" >> {folder}/asked\n'
        'echo "value-of-${name##*/}"\n')
    script.chmod(0o755)
    return str(folder)


def run_script(script, command: str, conf, path_prefix: str = "", **kwargs):
    env = {**os.environ, "WIMPY_CONF": str(conf)}
    if path_prefix:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(["bash", str(script), command], env=env, capture_output=True, text=True, **kwargs)


def run_in_foreground(conf) -> subprocess.Popen:
    """`wimpy-container run`, as the unit's main process runs it."""
    return subprocess.Popen(["bash", str(boot.CONTAINER_SCRIPT), "run"], env={**os.environ, "WIMPY_CONF": str(conf)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def health_wait(url: str, timeout: int) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run(["bash", str(boot.HEALTH_WAIT_SCRIPT), url, str(timeout), "1"],
                            capture_output=True, text=True, timeout=timeout + 30)
    return result, time.monotonic() - started


def settings_for(image: str, port: int, name: str) -> boot.ContainerSettings:
    return boot.ContainerSettings(
        app=name, image=image, port=port,
        environment={"ENVIRONMENT": "test", "GREETING": "hello from wimpy"},
        secrets={"API_TOKEN": "/hello/api-token"},
        region="eu-west-1", registry_login="none", log_group="/wimpy/test/hello",
        stop_timeout_seconds=5)


def write_conf(tmp_path, settings) -> tuple:
    env_path, secrets_path = tmp_path / "app.env", tmp_path / "run" / "secrets.env"
    secrets_path.parent.mkdir()
    env_path.write_text(boot.env_file(settings.environment))
    conf = tmp_path / "container.conf"
    conf.write_text(boot.container_conf(settings, log_options="--log-driver=json-file",
                                        env_path=str(env_path), secrets_path=str(secrets_path)))
    return conf, secrets_path


def test_the_unit_runs_a_healthy_container_and_stops_it_gracefully(tmp_path, docker_client, registry):
    port = free_port()
    name = f"wimpy-runtime-{port}"
    image = build_and_push(docker_client, registry, tmp_path / "app", name="runtime", port=port, healthy=True)
    settings = settings_for(image, port, name)
    conf, secrets_path = write_conf(tmp_path, settings)
    fake_bin = fake_aws_cli(tmp_path / "bin")

    prepared = run_script(boot.CONTAINER_SCRIPT, "prepare", conf, fake_bin, timeout=120)
    assert prepared.returncode == 0, prepared.stderr
    assert (tmp_path / "bin" / "asked").read_text() == "/hello/api-token\n"
    (tmp_path / "bin" / "calls").unlink()
    assert secrets_path.read_text() == "API_TOKEN=value-of-api-token\n"
    assert stat.S_IMODE(secrets_path.stat().st_mode) == 0o600

    running = run_in_foreground(conf)
    try:
        result, _ = health_wait(f"http://127.0.0.1:{port}/health", 60)
        assert result.returncode == 0, result.stderr
        container = docker_client.containers.get(name)
        environment = container.exec_run(["/busybox", "env"]).output.decode()
        for line in ("ENVIRONMENT=test", "GREETING=hello from wimpy", "API_TOKEN=value-of-api-token"):
            assert line in environment.splitlines()
        # A target group in the settings too: a stop still must not leave it (systemd
        # runs ExecStop also after a crash, before Restart= brings the container back).
        with conf.open("a") as settings_file:
            settings_file.write("TARGET_GROUP_ARN=arn:aws:elasticloadbalancing:eu-west-1:"
                                "111111111111:targetgroup/x/0123\n")
        stopped = run_script(boot.CONTAINER_SCRIPT, "stop", conf, fake_bin, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        # The unit's main process ended with the application's own exit: it got SIGTERM
        # and shut down, rather than being killed at the stop timeout (137).
        assert running.wait(timeout=60) == 0, running.stdout.read()
        assert name not in [c.name for c in docker_client.containers.list(all=True)]
        assert not (tmp_path / "bin" / "calls").exists()  # no aws call: no deregistration
    finally:
        if running.poll() is None:
            running.kill()
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_a_container_that_never_becomes_healthy_fails_within_the_timeout(tmp_path, docker_client, registry):
    port = free_port()
    name = f"wimpy-unhealthy-{port}"
    image = build_and_push(docker_client, registry, tmp_path / "app", name="unhealthy", port=port, healthy=False)
    settings = settings_for(image, port, name)
    settings = boot.ContainerSettings(**{**settings.__dict__, "secrets": {}})
    conf, _ = write_conf(tmp_path, settings)
    assert run_script(boot.CONTAINER_SCRIPT, "prepare", conf, timeout=120).returncode == 0
    running = run_in_foreground(conf)
    try:
        result, elapsed = health_wait(f"http://127.0.0.1:{port}/health", HEALTH_TIMEOUT)
        assert result.returncode == 1
        assert "not healthy after 6s" in result.stderr
        # It kept trying until its timeout (bash's SECONDS counts whole seconds, so up to
        # one less by a stopwatch); no upper bound: a busy machine only makes it later, and
        # one that never gave up would end in health_wait's own subprocess timeout.
        assert elapsed >= HEALTH_TIMEOUT - 1
        # The server was up all along (it answers /), just never healthy.
        assert docker_client.containers.get(name).status == "running"
    finally:
        run_script(boot.CONTAINER_SCRIPT, "stop", conf, timeout=60)
        if running.poll() is None:
            running.kill()
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_prepare_fails_clearly_when_the_image_does_not_exist(tmp_path, registry):
    settings = settings_for(f"{registry.host}/does-not-exist:v9", free_port(), "wimpy-missing")
    settings = boot.ContainerSettings(**{**settings.__dict__, "secrets": {}})
    conf, _ = write_conf(tmp_path, settings)
    result = run_script(boot.CONTAINER_SCRIPT, "prepare", conf, timeout=120)
    assert result.returncode != 0
    assert "does-not-exist" in result.stderr


def test_usage_error(tmp_path):
    conf, _ = write_conf(tmp_path, settings_for("x/y:z", 1234, "n"))
    result = run_script(boot.CONTAINER_SCRIPT, "dance", conf)
    assert result.returncode == 2 and "usage: wimpy-container prepare|run|stop" in result.stderr


def test_a_worker_runs_with_no_port_published_and_is_healthy_once_its_container_runs(
        tmp_path, docker_client, registry):
    """A worker (ContainerSettings without a port) serves no request: nothing is
    published, and the boot script's health wait (`container:<app>`) passes once its
    container runs, and fails while it does not."""
    port = free_port()  # what the image would listen on; a worker's is never published
    name = f"wimpy-worker-{port}"
    image = build_and_push(docker_client, registry, tmp_path / "app", name="worker", port=port, healthy=True)
    settings = boot.ContainerSettings(**{**settings_for(image, port, name).__dict__, "port": None,
                                         "secrets": {}})
    conf, _ = write_conf(tmp_path, settings)
    assert "PORT=''" in conf.read_text()

    not_yet, _ = health_wait(f"container:{name}", 2)
    assert not_yet.returncode == 1 and f"not healthy after 2s: container:{name}" in not_yet.stderr
    prepared = run_script(boot.CONTAINER_SCRIPT, "prepare", conf, timeout=120)
    assert prepared.returncode == 0, prepared.stderr
    running = run_in_foreground(conf)
    try:
        result, _ = health_wait(f"container:{name}", 60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"running: {name}"
        container = docker_client.containers.get(name)
        assert container.attrs["HostConfig"]["PortBindings"] in ({}, None)
        stopped = run_script(boot.CONTAINER_SCRIPT, "stop", conf, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        assert running.wait(timeout=60) == 0, running.stdout.read()
    finally:
        if running.poll() is None:
            running.kill()
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
