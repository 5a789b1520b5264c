"""What instances run, checked beyond templates: the scripts pass shellcheck, the unit
passes `systemd-analyze verify`, and the rendered boot script is itself valid shell."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import require
from wimpy_constructs import boot

SETTINGS = boot.ContainerSettings(
    app="hello",
    image="111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello:v1.0.0",
    port=8080,
    environment={"ENVIRONMENT": "production", "GREETING": "it's a $HOME `date` test"},
    secrets={"API_TOKEN": "/hello/api-token"},
    region="eu-west-1",
    registry_login="ecr",
    log_group="/wimpy/production/hello",
    stop_timeout_seconds=60,
    target_group_arn="arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/x/0123",
)


def shellcheck(path) -> subprocess.CompletedProcess:
    return subprocess.run([require("shellcheck"), "--severity=style", "--shell=bash", str(path)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("script", [boot.CONTAINER_SCRIPT, boot.HEALTH_WAIT_SCRIPT])
def test_helper_scripts_pass_shellcheck(script):
    result = shellcheck(script)
    assert result.returncode == 0, result.stdout


def test_rendered_boot_script_passes_shellcheck(tmp_path):
    script = tmp_path / "boot.sh"
    script.write_text(boot.boot_script(SETTINGS, stack_name="wimpy-production-hello",
                                       signal_resource="ServiceGroupASG15272EA1", health_path="/health",
                                       health_timeout_seconds=480, start_timeout_seconds=600))
    result = shellcheck(script)
    assert result.returncode == 0, result.stdout
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


def test_shellcheck_is_live(tmp_path):
    """Guards the tests above: an unquoted expansion must be reported."""
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/tmp\n")
    assert shellcheck(bad).returncode != 0


def test_container_conf_quotes_every_value(tmp_path):
    conf = tmp_path / "container.conf"
    conf.write_text(boot.container_conf(SETTINGS))
    probe = subprocess.run(["bash", "-c", f'source {conf}; printf "%s|%s|%s" "$IMAGE" "$SECRETS" "$LOG_OPTIONS"'],
                           capture_output=True, text=True, check=True)
    image, secrets, log_options = probe.stdout.split("|")
    assert image == SETTINGS.image and secrets == "API_TOKEN=/hello/api-token"
    assert log_options.startswith("--log-driver=awslogs --log-opt awslogs-region=eu-west-1")


def test_env_file_is_literal_and_refuses_multiline_values():
    text = boot.env_file(SETTINGS.environment)
    assert "GREETING=it's a $HOME `date` test\n" in text  # docker --env-file takes it literally
    with pytest.raises(ValueError, match="GREETING must be a single line"):
        boot.env_file({"GREETING": "two\nlines"})


def test_unit_passes_systemd_analyze_verify(tmp_path):
    require("systemd-analyze")
    install_dir = tmp_path / "lib"
    install_dir.mkdir()
    for script in (boot.CONTAINER_SCRIPT, boot.HEALTH_WAIT_SCRIPT):
        shutil.copy(script, install_dir / script.name)
    unit = tmp_path / "hello.service"
    unit.write_text(boot.unit_file(app="hello", start_timeout_seconds=600, stop_timeout_seconds=60,
                                   install_dir=str(install_dir), conf_file=str(tmp_path / "c.conf")))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    text = unit.read_text()
    assert "Restart=always" in text and "TimeoutStopSec=120" in text
    assert f"ExecStop={install_dir}/wimpy-container stop" in text


def test_systemd_analyze_is_live(tmp_path):
    """Guards the test above: a unit with a bad directive must fail verification."""
    unit = tmp_path / "broken.service"
    unit.write_text("[Service]\nExecStart=relative/path\nRestart=sometimes\n")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                            capture_output=True, text=True)
    assert result.returncode != 0 or result.stderr.strip()
