"""One instance of the local data plane: the application's container on this machine,
started the way an EC2 instance starts it. The container settings file and environment
file come from the launch template's user data (read back with
`wimpy_constructs.boot.read_boot_script`); the same `wimpy-container prepare`, `run` and
`stop` scripts run under a supervisor that does what the unit's systemd does
(ExecStartPre, ExecStart, Restart=always after RestartSec, ExecStop); the same
`wimpy-health-wait` decides the instance's signal to CloudFormation.

Only what cannot be the same on one machine is changed, by lines appended to the settings
file (the last assignment wins in shell): the container's name, its loopback port, where
the environment and secrets files are, and the log driver.
"""

from __future__ import annotations

import enum
import os
import shlex
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from wimpy_constructs.boot import CONTAINER_SCRIPT, HEALTH_WAIT_SCRIPT, BootContents

# The unit's RestartSec (wimpy_constructs/boot/app.service).
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

    @classmethod
    def from_boot(cls, version: str, boot: BootContents) -> LaunchSpec:
        settings = {key: shlex.split(value)[0] if value else "" for key, value in
                    (line.split("=", 1) for line in boot.container_conf.splitlines() if "=" in line)}
        return cls(version=version, boot=boot, port=int(settings["PORT"]), image=settings["IMAGE"])

    @property
    def unreachable_image(self) -> str:
        """Why this machine cannot pull the image ("" when it can): the local target never
        reaches AWS, and the emulator's ECR keeps no image layers."""
        host = self.image.split("/", 1)[0]
        if ".dkr.ecr." in host and host.endswith(".amazonaws.com"):
            return (f"its image {self.image} is in Amazon ECR, which the local target does not "
                    "reach (the emulator's ECR holds no layers); set registry.url to a local "
                    "registry to run it here")
        return ""


class Instance:
    """Started with start(); the supervisor thread runs the unit until terminate()."""

    def __init__(self, *, instance_id: str, group: str, spec: LaunchSpec, host_port: int,
                 directory: Path, environment: Mapping[str, str], container_prefix: str) -> None:
        self.id = instance_id
        self.group = group
        self.spec = spec
        self.host_port = host_port
        self.directory = directory
        self.container = f"{container_prefix}{instance_id}"
        self.state = State.BOOTING
        self.reason = ""
        self.drain_until = 0.0
        self._environment = {**os.environ, **environment,
                             "WIMPY_CONF": str(directory / "container.conf")}
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
                    log = open(self.directory / "unit.log", "a")
                    self._running = subprocess.Popen(
                        ["bash", str(CONTAINER_SCRIPT), "run"], env=self._environment,
                        stdout=log, stderr=subprocess.STDOUT)
                    log.close()
                self._running.wait()
                # systemd runs ExecStop also when the main process ended on its own.
                self._script(str(CONTAINER_SCRIPT), "stop", timeout=60)
            self._stopping.wait(RESTART_SECONDS)

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
        with self._lock:
            running = self._running
        if running is not None:
            try:
                running.wait(timeout=30)
            except subprocess.TimeoutExpired:
                running.kill()
        subprocess.run(["docker", "rm", "--force", self.container], capture_output=True, check=False)
