"""One instance of the local data plane: the application's container on this machine,
started the way an EC2 instance starts it. The container settings file and environment
file come from the launch template's user data (read back with
`wimpy_constructs.boot.read_boot_script`); the same `wimpy-container prepare`, `run` and
`stop` scripts run under a supervisor that does what the unit's systemd does
(ExecStartPre, ExecStart, Restart=always after RestartSec, ExecStop); the same
`wimpy-health-wait` decides the instance's signal to CloudFormation.

Only what cannot be the same on one machine is changed, by lines appended to the settings
file (the last assignment wins in shell): the container's name, its loopback port, where
the environment and secrets files are, the log driver, and the image's registry (an ECR
repository's images are in the local registry that backs the emulator's ECR).
"""

from __future__ import annotations

import enum
import os
import shlex
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from wimpy_constructs.boot import CONTAINER_SCRIPT, HEALTH_WAIT_SCRIPT, BootContents

from wimpy_cli.local.dataplane.logs import LogShipper, log_group_of

# The unit's RestartSec (library/wimpy_constructs/boot/app.service).
RESTART_SECONDS = 5.0


class State(enum.Enum):
    BOOTING = "booting"        # started, not yet answering on its health path
    IN_SERVICE = "in-service"  # signalled success: the load balancer may send it requests
    FAILED = "failed"          # not healthy within the signal timeout: signalled failure
    DRAINING = "draining"      # left the load balancer, waiting out the deregistration delay
    TERMINATED = "terminated"


@dataclass(frozen=True)
class LaunchSpec:
    """What the launch template gives every instance of a group."""

    version: str  # the launch template version
    boot: BootContents
    port: int     # the container's port, from the settings file
    image: str
    log_options: str = ""  # docker run's log flags on the instance (the awslogs driver's)

    @classmethod
    def from_boot(cls, version: str, boot: BootContents) -> LaunchSpec:
        settings = {key: shlex.split(value)[0] if value else "" for key, value in
                    (line.split("=", 1) for line in boot.container_conf.splitlines() if "=" in line)}
        return cls(version=version, boot=boot, port=int(settings["PORT"]), image=settings["IMAGE"],
                   log_options=settings.get("LOG_OPTIONS", ""))

    def pulled_from(self, registry: str) -> str:
        """The image as this machine pulls it: an ECR repository's image from the local
        registry that backs the emulator's ECR (the local target never reaches AWS)."""
        host, _, path = self.image.partition("/")
        if ".dkr.ecr." in host and host.endswith(".amazonaws.com"):
            return f"{registry}/{path}"
        return self.image


class Instance:
    """Started with start(); the supervisor thread runs the unit until terminate()."""

    def __init__(self, *, instance_id: str, group: str, spec: LaunchSpec, host_port: int,
                 directory: Path, environment: Mapping[str, str], container_prefix: str,
                 registry: str, logs_client: Callable[[], Any] | None = None) -> None:
        self.id = instance_id
        self.group = group
        self.spec = spec
        self.host_port = host_port
        self.directory = directory
        self.container = f"{container_prefix}{instance_id}"
        self.state = State.BOOTING
        self.reason = ""
        self.drain_until = 0.0
        self.image = spec.pulled_from(registry)
        # The instance's own docker login (REGISTRY_LOGIN=ecr) goes to its own folder, as
        # it goes to the instance's root account on EC2, not to this machine's user.
        self._environment = {**os.environ, **environment,
                             "WIMPY_CONF": str(directory / "container.conf"),
                             "DOCKER_CONFIG": str(directory / "docker")}
        self._logs_client = logs_client  # the emulator's CloudWatch Logs, for the container's output
        self._stopping = threading.Event()
        self._running: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def version(self) -> str:
        return self.spec.version

    def start(self) -> None:
        self._write_files()
        for target, name in ((self._supervise, "unit"), (self._wait_healthy, "signal")):
            thread = threading.Thread(target=target, name=f"{self.id}-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _write_files(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        env_path = self.directory / "app.env"
        env_path.write_text(self.spec.boot.env_file)
        overrides = {
            "NAME": self.container,
            "IMAGE": self.image,
            "PUBLISH": f"127.0.0.1:{self.host_port}:{self.spec.port}",
            "ENV_FILE": str(env_path),
            "SECRETS_FILE": str(self.directory / "secrets.env"),
            "LOG_OPTIONS": "--log-driver=json-file",
        }
        conf = self.directory / "container.conf"
        conf.write_text(self.spec.boot.container_conf
                        + "# The local data plane: this instance is a container on this machine.\n"
                        + "".join(f"{key}={shlex.quote(value)}\n" for key, value in overrides.items()))
        conf.chmod(0o600)

    def _script(self, *arguments: str, timeout: float | None = None) -> subprocess.CompletedProcess:
        with open(self.directory / "unit.log", "a") as log:
            return subprocess.run(["bash", *arguments], env=self._environment, stdout=log,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)

    def _supervise(self) -> None:
        """The unit: prepare, then run in the foreground; whenever either ends while the
        instance is not being stopped, start again after RestartSec (Restart=always)."""
        while not self._stopping.is_set():
            if self._script(str(CONTAINER_SCRIPT), "prepare").returncode == 0:
                with self._lock:
                    if self._stopping.is_set():
                        break
                    self._running = subprocess.Popen(
                        ["bash", str(CONTAINER_SCRIPT), "run"], env=self._environment,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
                self._pass_output(self._running)
                self._running.wait()
                # systemd runs ExecStop also when the main process ended on its own.
                self._script(str(CONTAINER_SCRIPT), "stop", timeout=60)
            self._stopping.wait(RESTART_SECONDS)

    def _pass_output(self, running: subprocess.Popen) -> None:
        """The container's output (docker run, attached) into the unit's log, and into the
        log group its log options name, as the awslogs driver sends it (logs.py)."""
        group = log_group_of(self.spec.log_options)
        shipper = LogShipper(self._logs_client(), group, self.id) \
            if group and self._logs_client is not None else None
        try:
            with open(self.directory / "unit.log", "a") as log:
                assert running.stdout is not None
                for line in running.stdout:
                    log.write(line)
                    log.flush()
                    if shipper is not None:
                        shipper.line(line)
        finally:
            if shipper is not None:
                shipper.close()

    def _wait_healthy(self) -> None:
        boot = self.spec.boot
        url = boot.health_url.replace(f"127.0.0.1:{self.spec.port}", f"127.0.0.1:{self.host_port}")
        result = self._script(str(HEALTH_WAIT_SCRIPT), url, str(boot.health_timeout_seconds), "1")
        if self.state is State.BOOTING:
            if result.returncode == 0:
                self.state = State.IN_SERVICE
            else:
                self.state = State.FAILED
                self.reason = (f"instance {self.id} did not answer on {boot.health_url} within "
                               f"{boot.health_timeout_seconds}s (its unit's log: "
                               f"{self.directory / 'unit.log'})")

    def drain(self, until: float) -> None:
        self.state = State.DRAINING
        self.drain_until = until

    def terminate(self) -> None:
        """ExecStop, then wait for the unit to end (blocking)."""
        self._stopping.set()
        self.state = State.TERMINATED
        self._script(str(CONTAINER_SCRIPT), "stop", timeout=120)
        self._end_unit(wait_seconds=30)
        subprocess.run(["docker", "rm", "--force", self.container], capture_output=True, check=False)

    def discard(self) -> None:
        """The machine goes away with the data plane: the container is removed at once, with
        no stop timeout (nothing routes to it any more)."""
        self._stopping.set()
        self.state = State.TERMINATED
        subprocess.run(["docker", "rm", "--force", self.container], capture_output=True, check=False)
        self._end_unit(wait_seconds=10)

    def _end_unit(self, *, wait_seconds: float) -> None:
        """Wait for the unit's main process (`wimpy-container run`) to end, killed if it
        outlives `wait_seconds`."""
        with self._lock:
            running = self._running
        if running is not None:
            try:
                running.wait(timeout=wait_seconds)
            except subprocess.TimeoutExpired:
                running.kill()
