"""What instances run, checked beyond templates: the scripts pass shellcheck, the unit
passes `systemd-analyze verify`, the rendered boot script is itself valid shell, and the
container script makes exactly the calls it should (with `aws`, `docker` and the instance
metadata service faked on this machine)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
    """Guards the tests above: an unquoted expansion must be reported, as that finding on
    that line (not just any failure, such as shellcheck not reading the file)."""
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/tmp\n")
    result = shellcheck(bad)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"In {bad} line 2:" in result.stdout, result.stdout
    assert "SC2086" in result.stdout, result.stdout


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
    assert "Restart=always" in text and "TimeoutStopSec=90" in text  # docker stop 60 s + 30 s
    assert f"ExecStop={install_dir}/wimpy-container stop" in text


def test_systemd_analyze_is_live(tmp_path):
    """Guards both checks of the test above, each with the bad line named: a fatal setting
    fails verification, and a bad value systemd only ignores (exit 0) is still reported on
    stderr, which is why that test wants stderr empty."""
    require("systemd-analyze")
    fatal = tmp_path / "fatal.service"
    fatal.write_text("[Service]\nExecStart=relative/path\n")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(fatal)],
                            capture_output=True, text=True)
    assert result.returncode != 0, result.stderr
    assert f"{fatal}:2: " in result.stderr and "relative/path" in result.stderr, result.stderr
    ignored = tmp_path / "ignored.service"
    ignored.write_text("[Service]\nExecStart=/bin/true\nRestart=sometimes\n")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(ignored)],
                            capture_output=True, text=True)
    assert f"{ignored}:3: " in result.stderr and "sometimes" in result.stderr, result.stderr


# --- the container script's calls, on this machine ------------------------------------------

FAKE_TOOL = """#!{python}
# A fake `aws`/`docker`: records its arguments (and what it is given on stdin for a login),
# answers what the container script reads from the real tools, does nothing else.
import json, os, sys
tool, args = os.path.basename(sys.argv[0]), sys.argv[1:]
record = {{"tool": tool, "args": args}}
if "--password-stdin" in args:
    record["stdin"] = sys.stdin.read()
with open({log!r}, "a") as log:
    log.write(json.dumps(record) + "\\n")
if tool == "aws" and args[:2] == ["ecr", "get-login-password"]:
    print("ecr-password-for-test")
elif tool == "aws" and args[:2] == ["ssm", "get-parameter"]:
    print("value-of-" + args[args.index("--name") + 1].rsplit("/", 1)[-1])
"""

FAKE_CURL = """#!{python}
# `curl`, recorded, with the instance metadata service's address sent to the fake one.
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"tool": "curl", "args": sys.argv[1:]}}) + "\\n")
args = [a.replace("http://169.254.169.254", {imds!r}) for a in sys.argv[1:]]
os.execv({curl!r}, [{curl!r}, *args])
"""

INSTANCE_ID = "i-0123456789abcdef0"
GROUP_NAME = "wimpy-production-hello-ServiceGroupASG15272EA1-0AB1CD2EF3GH"
TARGET_GROUP = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/x/0123"


class FakeMetadataService:
    """IMDSv2 on 127.0.0.1: a token by PUT first, then metadata only with that token (a
    request without it gets 401, as on an instance that requires IMDSv2). Records every
    request as (method, path, the token it carried)."""

    TOKEN = "AQAEAFakeImdsV2Token=="

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
                service.requests.append(("PUT", self.path, None))
                if self.path == "/latest/api/token" and \
                        self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self._send(200, service.TOKEN)
                return self._send(400, "")

            def do_GET(self) -> None:  # noqa: N802
                token = self.headers.get("X-aws-ec2-metadata-token")
                service.requests.append(("GET", self.path, token))
                if token != service.TOKEN:
                    return self._send(401, "")
                if self.path == "/latest/meta-data/instance-id":
                    return self._send(200, INSTANCE_ID)
                if self.path == "/latest/meta-data/tags/instance/aws:autoscaling:groupName":
                    return self._send(200, GROUP_NAME)
                return self._send(404, "")

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


class Instance:
    """The container script's surroundings under a temporary folder."""

    def __init__(self, folder, imds: FakeMetadataService):
        self.folder, self.imds = folder, imds
        self.log = folder / "calls.jsonl"
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        for tool in ("aws", "docker"):
            (bin_dir / tool).write_text(FAKE_TOOL.format(python=sys.executable, log=str(self.log)))
        (bin_dir / "curl").write_text(FAKE_CURL.format(python=sys.executable, log=str(self.log),
                                                       imds=imds.url, curl=require("curl")))
        for tool in bin_dir.iterdir():
            tool.chmod(0o755)
        self.env_file, self.secrets_file = folder / "app.env", folder / "run" / "secrets.env"
        self.secrets_file.parent.mkdir()
        self.env_file.write_text(boot.env_file(SETTINGS.environment))
        self.conf = folder / "container.conf"
        # A target group in the settings too (the unit once had it, to leave the load
        # balancer on stop): whatever the settings hold, a stop must not deregister.
        self.conf.write_text(boot.container_conf(SETTINGS, env_path=str(self.env_file),
                                                 secrets_path=str(self.secrets_file))
                             + f"TARGET_GROUP_ARN={TARGET_GROUP}\n")
        proxies = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}
        self.env = {**{k: v for k, v in os.environ.items() if k not in proxies},
                    "PATH": f"{bin_dir}:{os.environ['PATH']}", "WIMPY_CONF": str(self.conf)}

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(boot.CONTAINER_SCRIPT), *args], env=self.env,
                              capture_output=True, text=True, timeout=60)

    def calls(self, tool: str | None = None) -> list:
        """[tool, args] of every call (of `tool`: just its args), in the order made."""
        records = [json.loads(line) for line in self.log.read_text().splitlines()] \
            if self.log.exists() else []
        if tool is None:
            return [[r["tool"], r["args"]] for r in records]
        return [r["args"] for r in records if r["tool"] == tool]

    def stdin_of(self, tool: str) -> list[str]:
        return [r["stdin"] for r in map(json.loads, self.log.read_text().splitlines())
                if r["tool"] == tool and "stdin" in r]


@pytest.fixture
def instance(tmp_path):
    imds = FakeMetadataService()
    imds.thread.start()
    try:
        yield Instance(tmp_path, imds)
    finally:
        imds.server.shutdown()
        imds.server.server_close()


def test_stop_stops_the_container_gracefully_and_stays_in_the_load_balancer(instance):
    """systemd runs ExecStop also when the container exited on its own (crash, OOM) before
    Restart= brings it back: a stop that deregistered the instance from its target group
    would leave it out of service for good. A stop only stops the container: SIGTERM, then
    SIGKILL after the stop timeout (docker stop --time), and asks no one anything."""
    result = instance.run("stop")
    assert result.returncode == 0, result.stderr
    assert instance.calls() == [["docker", ["stop", "--time", "60", "hello"]]]
    assert instance.imds.requests == []  # not even the instance id


def test_prepare_logs_in_to_ecr_fetches_each_secret_and_pulls(instance):
    result = instance.run("prepare")
    assert result.returncode == 0, result.stderr
    assert instance.calls("aws") == [
        ["ecr", "get-login-password", "--region", "eu-west-1"],
        ["ssm", "get-parameter", "--region", "eu-west-1", "--with-decryption",
         "--name", "/hello/api-token", "--query", "Parameter.Value", "--output", "text"],
    ]
    assert instance.calls("docker") == [
        # The registry host: the image reference up to its first slash.
        ["login", "--username", "AWS", "--password-stdin", "111111111111.dkr.ecr.eu-west-1.amazonaws.com"],
        ["pull", "--quiet", SETTINGS.image],
        ["rm", "--force", "hello"],
    ]
    assert instance.stdin_of("docker") == ["ecr-password-for-test\n"]  # never on the command line
    assert instance.secrets_file.read_text() == "API_TOKEN=value-of-api-token\n"
    assert stat.S_IMODE(instance.secrets_file.stat().st_mode) == 0o600
    assert instance.calls("curl") == [] and instance.imds.requests == []


def test_run_runs_the_image_with_its_settings(instance):
    result = instance.run("run")
    assert result.returncode == 0, result.stderr
    assert instance.calls() == [["docker", [
        "run", "--rm", "--name", "hello", "--publish", "8080:8080",
        "--env-file", str(instance.env_file), "--env-file", str(instance.secrets_file),
        "--stop-timeout", "60",
        "--log-driver=awslogs", "--log-opt", "awslogs-region=eu-west-1",
        "--log-opt", "awslogs-group=/wimpy/production/hello",
        SETTINGS.image]]]


def test_the_fake_metadata_service_is_live(instance):
    """Guards the tests above: the metadata calls a stop used to make (IMDSv2: a token by
    PUT, then the instance id with it) reach the fake through `curl` on PATH and are
    recorded, and a request without the token is refused, as IMDSv2 refuses it."""
    def curl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["curl", "-fsS", *args], env=instance.env, capture_output=True,
                              text=True, timeout=30)

    metadata = "http://169.254.169.254/latest/meta-data/instance-id"
    assert curl(metadata).returncode == 22  # HTTP 401
    token = curl("-X", "PUT", "http://169.254.169.254/latest/api/token",
                 "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60")
    assert token.returncode == 0, token.stderr
    answer = curl("-H", f"X-aws-ec2-metadata-token: {token.stdout}", metadata)
    assert (answer.returncode, answer.stdout) == (0, INSTANCE_ID), answer.stderr
    assert instance.imds.requests == [
        ("GET", "/latest/meta-data/instance-id", None),
        ("PUT", "/latest/api/token", None),
        ("GET", "/latest/meta-data/instance-id", FakeMetadataService.TOKEN),
    ]
    assert [args[-1] for args in instance.calls("curl")] == [metadata, "X-aws-ec2-metadata-token-ttl-seconds: 60", metadata]


# --- the boot script itself, run on this machine ---------------------------------------------

# What the boot script runs beside the tools faked below; nothing else of this machine is on
# its PATH, so a Docker or AWS CLI installed here cannot stand in for the image's.
REAL_TOOLS = ("install", "chmod", "cat", "tee", "sleep")


class Boot:
    """The rendered boot script with its absolute paths moved under a temporary folder, run
    with `aws`, `docker`, `dnf`, `systemctl` and `curl` faked (curl reaching the fake
    metadata service and a local health endpoint)."""

    def __init__(self, folder, imds: FakeMetadataService, *, image_has: tuple[str, ...]):
        self.folder, self.log = folder, folder / "calls.jsonl"
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        for tool in ("dnf", "systemctl", *image_has):
            (bin_dir / tool).write_text(FAKE_TOOL.format(python=sys.executable, log=str(self.log)))
        (bin_dir / "curl").write_text(FAKE_CURL.format(python=sys.executable, log=str(self.log),
                                                       imds=imds.url, curl=require("curl")))
        for tool in bin_dir.iterdir():
            tool.chmod(0o755)
        for tool in REAL_TOOLS:
            (bin_dir / tool).symlink_to(shutil.which(tool))
        self.env = {"PATH": str(bin_dir), "HOME": str(folder)}
        self.root = folder / "root"

    def run(self, health_url: str) -> subprocess.CompletedProcess:
        script = boot.boot_script(SETTINGS, stack_name="wimpy-production-hello",
                                  signal_resource="ServiceGroupASG15272EA1", health_path="/health",
                                  health_timeout_seconds=3, start_timeout_seconds=600)
        for path in ("/usr/local/lib/wimpy", "/etc/wimpy", "/etc/systemd/system", "/var/log"):
            (self.root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
            script = script.replace(path, f"{self.root}{path}")
        script = script.replace("health_url=http://127.0.0.1:8080/health", f"health_url={health_url}")
        (self.folder / "boot.sh").write_text(script)
        return subprocess.run([shutil.which("bash"), str(self.folder / "boot.sh")], env=self.env,
                              capture_output=True, text=True, timeout=60)

    def calls(self) -> list:
        return [[r["tool"], r["args"]] for r in map(json.loads, self.log.read_text().splitlines())
                if r["tool"] != "curl"]


@pytest.fixture
def health_endpoint():
    """127.0.0.1's /health, answering what `status` holds (200 until told otherwise)."""
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(status["code"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health", status
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def metadata_service():
    imds = FakeMetadataService()
    imds.thread.start()
    try:
        yield imds
    finally:
        imds.server.shutdown()
        imds.server.server_close()


SIGNAL = ["cloudformation", "signal-resource", "--region", "eu-west-1", "--stack-name",
          "wimpy-production-hello", "--logical-resource-id", "ServiceGroupASG15272EA1",
          "--unique-id", INSTANCE_ID, "--status"]
JOIN = ["autoscaling", "complete-lifecycle-action", "--region", "eu-west-1",
        "--auto-scaling-group-name", GROUP_NAME, "--lifecycle-hook-name", "wimpy-instance-ready",
        "--instance-id", INSTANCE_ID, "--lifecycle-action-result", "CONTINUE"]
ECS_OFF = ["disable", "--now", "--no-block", "ecs.service", "amazon-ecs-volume-plugin.service",
           "amazon-ecs-volume-plugin.socket"]


def test_a_boot_from_the_image_installs_nothing_and_joins_once_healthy(
        tmp_path, metadata_service, health_endpoint):
    """From the ECS-optimized image (Docker and the AWS CLI on it): the ECS agent is turned
    off, nothing comes from dnf, the unit starts, and once the container answers the
    instance completes its launch hook and signals CloudFormation through the AWS CLI."""
    url, _ = health_endpoint
    instance = Boot(tmp_path, metadata_service, image_has=("docker", "aws"))
    result = instance.run(url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert instance.calls() == [
        ["systemctl", ECS_OFF],
        ["systemctl", ["enable", "--now", "docker"]],
        ["systemctl", ["daemon-reload"]],
        ["systemctl", ["enable", "--now", "--no-block", "hello.service"]],
        ["aws", JOIN],
        ["aws", [*SIGNAL, "SUCCESS"]],
    ]
    written = instance.root / "etc/wimpy/container.conf"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert (instance.root / "etc/systemd/system/hello.service").exists()


def test_an_image_without_docker_or_the_cli_gets_them_from_dnf(tmp_path, metadata_service, health_endpoint):
    """A machine image pinned in wimpy.yml may be plain Amazon Linux: the boot pays the
    install then, and only for what is missing."""
    url, _ = health_endpoint
    instance = Boot(tmp_path, metadata_service, image_has=())
    result = instance.run(url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ["dnf", ["install", "-y", "docker", "awscli-2"]] in instance.calls()
    (tmp_path / "with-docker").mkdir()
    instance = Boot(tmp_path / "with-docker", metadata_service, image_has=("docker",))
    result = instance.run(url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ["dnf", ["install", "-y", "awscli-2"]] in instance.calls()


def test_a_container_that_never_answers_joins_and_signals_failure(tmp_path, metadata_service, health_endpoint):
    """It joins anyway (the load balancer then finds it unhealthy and the alarm fails the
    refresh), and tells a creation it failed."""
    url, status = health_endpoint
    status["code"] = 503
    instance = Boot(tmp_path, metadata_service, image_has=("docker", "aws"))
    result = instance.run(url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert instance.calls()[-3:] == [["systemctl", ["status", "--no-pager", "hello.service"]],
                                     ["aws", JOIN], ["aws", [*SIGNAL, "FAILURE"]]]
