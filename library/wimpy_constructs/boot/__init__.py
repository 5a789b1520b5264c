"""What an instance runs: the boot script (user data), the application's systemd unit and
the two helper scripts it calls. They are real files beside this module, so tests can
shellcheck them, `systemd-analyze verify` the unit, and run the container script against
a local Docker engine; this module only fills in the values.

Values are shell-quoted where they land in shell, and may be CDK tokens (resolved by
CloudFormation inside the quotes). Secrets are never written here: only the names of
their SSM parameters, read by the instance when the unit starts.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..arguments import check_port

BOOT_DIR = Path(__file__).parent
CONTAINER_SCRIPT = BOOT_DIR / "wimpy-container"
HEALTH_WAIT_SCRIPT = BOOT_DIR / "wimpy-health-wait"
UNIT_TEMPLATE = BOOT_DIR / "app.service"
BOOT_TEMPLATE = BOOT_DIR / "boot.sh"

# The launch lifecycle hook (ContainerService declares it) that holds a new instance out of
# the load balancer until the boot script completes it.
READY_HOOK = "wimpy-instance-ready"

INSTALL_DIR = "/usr/local/lib/wimpy"
CONF_FILE = "/etc/wimpy/container.conf"
ENV_FILE = "/etc/wimpy/app.env"
SECRETS_FILE = "/run/wimpy/secrets.env"


@dataclass(frozen=True, kw_only=True)
class ContainerSettings:
    """Everything the instance needs to run one application's container. ContainerService
    fills in what it can derive: ``region`` from its stack, ``log_group`` from its
    ``access`` (ApplicationAccess)."""

    app: str
    image: str
    # The port the container listens on, published on the instance's same port; None for a
    # worker that serves nothing (no load balancer, nothing published).
    port: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)  # variable -> SSM parameter name
    region: str = ""
    registry_login: str = "none"  # "ecr", "credentials" (registry_credentials) or "none"
    log_group: str = ""
    stop_timeout_seconds: int = 30
    # registry_login "credentials": the SSM parameter name or Secrets Manager secret ARN
    # holding {"username": ..., "password": ...}, read when the container starts.
    registry_credentials: str = ""

    def __post_init__(self) -> None:
        if not _APP_NAME.fullmatch(self.app):
            raise ValueError(f"settings.app must be 1-64 letters, digits, '.', '_' or '-' "
                             f"(it names the container and its systemd unit), got {self.app!r}")
        if self.port is not None:
            check_port("settings.port", self.port, otherwise="(or None for a worker)")
        if isinstance(self.secrets, str) or isinstance(self.environment, str):
            raise ValueError("settings.environment and settings.secrets must be mappings of "
                             "variable names to values (secrets: to SSM parameter names)")
        if self.registry_login not in ("ecr", "credentials", "none"):
            raise ValueError(f"settings.registry_login must be ecr, credentials or none, got "
                             f"{self.registry_login!r}")
        if (self.registry_login == "credentials") != bool(self.registry_credentials):
            raise ValueError("registry_credentials names where the registry's credentials are "
                             "read, with registry_login 'credentials' only; got "
                             f"registry_login={self.registry_login!r}, "
                             f"registry_credentials={self.registry_credentials!r}")


_APP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)


def container_conf(settings: ContainerSettings, *, log_options: str | None = None,
                   env_path: str = ENV_FILE, secrets_path: str = SECRETS_FILE) -> str:
    """The file wimpy-container sources (shell syntax, every value quoted). Tests move the
    log driver and file paths to run the same script on a development machine."""
    if log_options is None:
        # One stream per container (the default stream name is the container id).
        log_options = (f"--log-driver=awslogs --log-opt awslogs-region={settings.region} "
                       f"--log-opt awslogs-group={settings.log_group}")
    values = {
        "NAME": settings.app,
        "IMAGE": settings.image,
        "PORT": "" if settings.port is None else str(settings.port),
        "ENV_FILE": env_path,
        "SECRETS_FILE": secrets_path,
        "STOP_TIMEOUT": str(settings.stop_timeout_seconds),
        "REGISTRY_LOGIN": settings.registry_login,
        "REGISTRY_CREDENTIALS": settings.registry_credentials,
        "SECRETS": " ".join(f"{name}={parameter}" for name, parameter in sorted(settings.secrets.items())),
        "LOG_OPTIONS": log_options,
        "REGION": settings.region,
    }
    return "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items())


def env_file(environment: Mapping[str, str]) -> str:
    """Docker's --env-file format: KEY=value per line, taken literally (no quoting)."""
    for name, value in environment.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"environment variable {name} must be a single line")
    return "".join(f"{name}={value}\n" for name, value in sorted(environment.items()))


def unit_file(*, app: str, start_timeout_seconds: int, stop_timeout_seconds: int,
              install_dir: str = INSTALL_DIR, conf_file: str = CONF_FILE) -> str:
    """The systemd unit. `install_dir`/`conf_file` move only for tests that verify the unit
    against scripts installed elsewhere."""
    text = UNIT_TEMPLATE.read_text()
    return (text.replace(INSTALL_DIR, install_dir).replace(CONF_FILE, conf_file)
            .replace("@APP@", app)
            .replace("@START_TIMEOUT@", str(start_timeout_seconds))
            # docker stop's own timeout, plus a margin for the script around it
            .replace("@STOP_TIMEOUT@", str(stop_timeout_seconds + 30)))


def boot_script(settings: ContainerSettings, *, stack_name: str, signal_resource: str,
                health_path: str | None, health_timeout_seconds: int, start_timeout_seconds: int) -> str:
    """The user data: write the files above, start the unit (Docker comes with the machine
    image; one without it gets it from dnf), then let the instance join the load balancer
    (its group's launch hook) and tell CloudFormation success only once the container
    answers on its health path (a worker without one: once its container runs)."""
    if not settings.region or not settings.log_group:
        raise ValueError("settings.region and settings.log_group must be filled in (ContainerService "
                         "derives them from its stack and its access)")
    health_url = (f"http://127.0.0.1:{settings.port}{health_path}" if health_path is not None
                  else f"container:{settings.app}")
    files = {
        f"{INSTALL_DIR}/wimpy-container": CONTAINER_SCRIPT.read_text(),
        f"{INSTALL_DIR}/wimpy-health-wait": HEALTH_WAIT_SCRIPT.read_text(),
        CONF_FILE: container_conf(settings),
        ENV_FILE: env_file(settings.environment),
        f"/etc/systemd/system/{settings.app}.service": unit_file(
            app=settings.app, start_timeout_seconds=start_timeout_seconds,
            stop_timeout_seconds=settings.stop_timeout_seconds),
    }
    writes = "\n".join(
        f"cat > {shlex.quote(path)} <<'WIMPY_FILE'\n{content.rstrip()}\nWIMPY_FILE"
        for path, content in files.items())
    replacements = {
        "@STACK@": shlex.quote(stack_name),
        "@RESOURCE@": shlex.quote(signal_resource),
        "@REGION@": shlex.quote(settings.region),
        "@HEALTH_URL@": shlex.quote(health_url),
        "@HEALTH_TIMEOUT@": str(health_timeout_seconds),
        "@APP@": settings.app,
        "@READY_HOOK@": READY_HOOK,
        "@WRITE_FILES@": writes,
    }
    text = BOOT_TEMPLATE.read_text()
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


@dataclass(frozen=True, kw_only=True)
class BootContents:
    """What a boot script (as `boot_script` writes it) installs and checks: the files it
    writes by path, and the health check it waits for before signalling."""

    files: Mapping[str, str]
    health_url: str
    health_timeout_seconds: int

    @property
    def container_conf(self) -> str:
        return self.files[CONF_FILE]

    @property
    def env_file(self) -> str:
        return self.files[ENV_FILE]


_WRITTEN_FILE = re.compile(r"^cat > (\S+) <<'WIMPY_FILE'\n(.*?)\nWIMPY_FILE$", re.M | re.S | re.ASCII)


def read_boot_script(text: str) -> BootContents:
    """The inverse of `boot_script`, for a data plane that starts instances the way the
    boot script would (Wimpy's local target). ValueError when `text` is not one."""
    files = {shlex.split(path)[0]: content + "\n" for path, content in _WRITTEN_FILE.findall(text)}
    values = dict(re.findall(r"^(health_url|health_timeout)=(.*)$", text, re.M))
    missing = {CONF_FILE, ENV_FILE} - files.keys()
    if missing or len(values) != 2:
        raise ValueError("not a Wimpy boot script: it writes no "
                         f"{', '.join(sorted(missing)) or 'health check'}")
    return BootContents(files=files, health_url=shlex.split(values["health_url"])[0],
                        health_timeout_seconds=int(values["health_timeout"]))
