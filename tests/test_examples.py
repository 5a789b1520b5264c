"""examples/hello stays a working example: its wimpy.yml validates (the commented hooks and
notifications too, once uncommented), its CI workflow deploys staging before production
with the commit SHA and checks each, `prepare` is shellcheck-clean, and the image builds
here (no network, nothing pulled) and answers /health for real with Docker."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_domain.config import load_config
from wimpy_cli.main import app
from wimpy_cli.toolchain import PROJECT_ROOT
from tests.conftest import require
from tests.docker_fixtures import (
    BUSYBOX,
    http_get,
)

HELLO = PROJECT_ROOT / "examples" / "hello"
WORKFLOW = HELLO / ".github" / "workflows" / "deploy.yml"


# --- wimpy.yml ------------------------------------------------------------------------------

def test_the_example_wimpy_yml_validates():
    result = CliRunner().invoke(app, ["validate", "-c", str(HELLO / "wimpy.yml")])
    assert result.exit_code == 0, result.output
    config = load_config(HELLO / "wimpy.yml")
    assert config.app.name == "hello" and config.app.port == 8080
    assert config.app.health_check.path == "/health"


def test_its_commented_hooks_and_notifications_are_valid_when_uncommented(tmp_path):
    text = (HELLO / "wimpy.yml").read_text()
    uncommented, inside = [], False
    for line in text.splitlines():
        if re.match(r"^# (hooks|notifications):$", line):
            inside = True
        elif inside and not line.startswith("#   "):
            inside = False
        uncommented.append(line[2:] if inside else line)
    path = tmp_path / "wimpy.yml"
    path.write_text("\n".join(uncommented) + "\n")
    config = load_config(path)
    assert config.hooks.before_deploy and config.hooks.after_deploy
    assert config.hooks.timeout_seconds == 300
    notifications = config.notifications
    assert notifications.slack_webhook_url_env == "SLACK_WEBHOOK_URL"
    assert notifications.sns_topic_arn and notifications.github_repository == "acme/hello"


def test_the_dockerfile_serves_wimpy_ymls_port_and_health_path():
    config = load_config(HELLO / "wimpy.yml")
    dockerfile = (HELLO / "Dockerfile").read_text()
    assert [line for line in dockerfile.splitlines() if line.startswith("FROM")] == \
        ["FROM scratch"]  # nothing to pull
    assert f"EXPOSE {config.app.port}" in dockerfile and f'"-p", "{config.app.port}"' in dockerfile
    assert (HELLO / "www" / config.app.health_check.path.lstrip("/")).read_text() == "ok\n"
    assert not (HELLO / "busybox").exists() or "busybox" in (HELLO / ".gitignore").read_text()


def test_prepare_is_shellcheck_clean():
    result = subprocess.run([require("shellcheck"), "--severity=style", str(HELLO / "prepare")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("candidate, reason", [
    ("/bin/ls", "is dynamically linked and cannot run in an empty image"),
    (str(HELLO / "prepare"), "is not a program (an ELF binary)"),
    ("/nonexistent/busybox", "is missing; install a static busybox"),
])
def test_prepare_refuses_what_cannot_run_in_an_empty_image(tmp_path, candidate, reason):
    copy = tmp_path / "hello"
    shutil.copytree(HELLO, copy, ignore=shutil.ignore_patterns("busybox"))
    result = subprocess.run(["sh", str(copy / "prepare")], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "BUSYBOX": candidate})
    assert result.returncode == 1, result.stdout
    assert reason in result.stderr and not (copy / "busybox").exists()


# --- the CI workflow --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def run_lines(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines()]


def test_it_runs_on_pushes_to_main(workflow):
    trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert trigger == {"push": {"branches": ["main"]}}


def test_staging_is_deployed_and_checked_before_production(workflow):
    jobs = workflow["jobs"]
    assert set(jobs) == {"staging", "production"}
    assert jobs["production"]["needs"] in ("staging", ["staging"])
    assert "needs" not in jobs["staging"]
    for env in ("staging", "production"):
        lines = run_lines(jobs[env])
        (deploy,) = [i for i, line in enumerate(lines) if line.startswith("wimpy deploy")]
        assert lines[deploy].startswith(f"wimpy deploy --env {env} --version ${{{{ github.sha }}}}")
        smoke = [i for i, line in enumerate(lines) if line.startswith("curl ")]
        assert smoke and smoke[0] > deploy, lines  # the smoke check comes after the deploy
        assert "--fail" in lines[smoke[0]] and "/health" in lines[smoke[0]]
        assert jobs[env]["environment"] == env
    # Production runs the image staging was checked with.
    assert "--skip-build" in [l for l in run_lines(jobs["production"]) if l.startswith("wimpy deploy")][0]


def test_aws_credentials_come_from_oidc_not_stored_keys(workflow):
    assert workflow["permissions"]["id-token"] == "write"
    for job in workflow["jobs"].values():
        steps = [s for s in job["steps"] if s.get("uses", "").startswith(
            "aws-actions/configure-aws-credentials@")]
        assert len(steps) == 1
        settings = steps[0]["with"]
        assert "role-to-assume" in settings
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(settings)
        # credentials before the deploy
        names = [s.get("uses", "") + s.get("run", "") for s in job["steps"]]
        credentials = next(i for i, n in enumerate(names) if n.startswith("aws-actions/"))
        deploy = next(i for i, n in enumerate(names) if "wimpy deploy" in n)
        assert credentials < deploy
    assert "AKIA" not in WORKFLOW.read_text()


# --- the image, for real --------------------------------------------------------------------

def test_the_image_builds_without_network_and_answers_health(tmp_path, docker_client, containers):
    in_repository = (HELLO / "busybox").exists()
    copy = tmp_path / "hello"
    shutil.copytree(HELLO, copy, ignore=shutil.ignore_patterns("busybox", ".github"))
    prepared = subprocess.run(["sh", str(copy / "prepare")], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "BUSYBOX": str(BUSYBOX)})
    assert prepared.returncode == 0, prepared.stderr
    assert (copy / "busybox").read_bytes() == BUSYBOX.read_bytes()
    assert (HELLO / "busybox").exists() == in_repository  # only the copy was prepared

    tag = f"wimpy-example-hello:test-{uuid.uuid4().hex[:8]}"
    image, _ = docker_client.images.build(path=str(copy), tag=tag, rm=True, pull=False,
                                          network_mode="none")
    try:
        assert image.attrs["Config"]["User"] == "65534:65534"
        container = docker_client.containers.run(tag, detach=True,
                                                 ports={"8080/tcp": ("127.0.0.1", None)})
        containers.append(container)
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        status, body = http_get(f"http://127.0.0.1:{port}/health")
        assert (status, body) == (200, b"ok\n")
        status, body = http_get(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"Hello from Wimpy" in body
        status, _ = http_get(f"http://127.0.0.1:{port}/missing")
        assert status == 404
    finally:
        for container in containers:
            container.remove(force=True)
        containers.clear()
        docker_client.images.remove(tag, force=True)
