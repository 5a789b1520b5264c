"""The validated, frozen shape of wimpy.yml.

These objects are what the loader hands to the CLI and to app.py; nothing downstream sees
raw YAML. They import nothing heavy, so `wimpy validate` stays fast.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

# Environments every new wimpy.yml starts with, and their address ranges. Staging and
# production never overlap so that they can be peered later without renumbering.
DEFAULT_ENVIRONMENTS: Mapping[str, str] = MappingProxyType(
    {"staging": "10.0.0.0/16", "production": "10.1.0.0/16"}
)

# Variables Wimpy itself gives every container (see the ContainerService construct); a
# user variable or secret with one of these names would silently shadow them.
RESERVED_VARIABLES = frozenset(
    {"ENVIRONMENT", "PORT", "S3_BUCKET", "S3_PREFIX", "KMS_MASTER_KEY", "AWS_REGION", "APP_NAME"}
)


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, kw_only=True)
class HealthCheckConfig:
    """How the load balancer and the instance decide the container is healthy."""

    path: str = "/health"
    interval_seconds: int = 10
    timeout_seconds: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2


@dataclass(frozen=True, kw_only=True)
class CapacityConfig:
    """Instances in the Auto Scaling group. No desired count: scaling policies own it."""

    min: int = 2
    max: int = 4


@dataclass(frozen=True, kw_only=True)
class ScalingConfig:
    """Target tracking: the group grows and shrinks to hold these per-instance levels."""

    cpu_target_percent: int = 60
    requests_per_target: int = 1000


@dataclass(frozen=True, kw_only=True)
class AlarmsConfig:
    """Thresholds of the alarms every release gets (and canary steps are judged by)."""

    error_rate_percent: int = 5
    p99_latency_ms: int = 2000
    # A datapoint's length. A load balancer sends its metrics to CloudWatch once a minute,
    # so on AWS shorter periods have no data; the local target's data plane sends them
    # every second, and a short period there lets a canary's bad step be seen in seconds.
    period_seconds: int = 60


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    name: str
    port: int = 8080
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    instance_type: str = "t3.small"
    capacity: CapacityConfig = field(default_factory=CapacityConfig)
    environment: Mapping[str, str] = field(default_factory=_frozen)
    secrets: Mapping[str, str] = field(default_factory=_frozen)
    database_ports: tuple[int, ...] = (5432,)
    deregistration_delay_seconds: int = 30
    machine_image: str = ""  # "" = ECS-optimized Amazon Linux 2023, resolved once and recorded
    scaling: ScalingConfig = field(default_factory=ScalingConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)

    def overridden(self, settings: Mapping[str, object]) -> "AppConfig":
        """These settings with `settings` (field -> value, as an environment sets them) in
        their place; variables and secrets are added to these by name."""
        changed = dict(settings)
        for name in ("environment", "secrets"):
            if name in changed:
                changed[name] = _frozen({**getattr(self, name), **changed[name]})  # type: ignore[dict-item]
        return replace(self, **changed)


@dataclass(frozen=True, kw_only=True)
class BuildConfig:
    """How the image is built; paths are relative to the wimpy.yml's folder."""

    context: Path = Path(".")
    dockerfile: str = "Dockerfile"
    target: str = ""
    args: Mapping[str, str] = field(default_factory=_frozen)
    push_latest: bool = False


@dataclass(frozen=True, kw_only=True)
class RegistryConfig:
    """Where images go: the app's ECR repository unless `url` names another registry."""

    url: str = ""
    username_env: str = ""
    password_env: str = ""
    keep_images: int = 30
    # Where instances read `url`'s credentials: an SSM SecureString parameter name, or a
    # Secrets Manager secret ARN, holding {"username": ..., "password": ...}. "" = none
    # (ECR logs in with the instance role; another registry is pulled anonymously).
    credentials: str = ""

    @property
    def is_ecr(self) -> bool:
        return not self.url

    @property
    def host(self) -> str:
        """The registry's host[:port], as Docker reads it from an image reference: the
        first part when it has a dot or a port or is localhost, else Docker Hub."""
        first = self.url.split("/", 1)[0] if "/" in self.url else ""
        if first and ("." in first or ":" in first or first == "localhost"):
            return first
        return "docker.io"

    @property
    def port(self) -> int:
        """The port instances reach `url`'s registry on (HTTPS's unless the URL names one)."""
        host = self.host
        return int(host.rsplit(":", 1)[1]) if ":" in host and not self.is_ecr else 443


@dataclass(frozen=True, kw_only=True)
class JudgeConfig:
    """Blue/green: how a canary step's errors and latency are compared with the live
    release's over the same window (wimpy_cli/release/judge.py)."""

    confidence_percent: float = 99.0          # one-sided, per metric and step
    max_error_increase_points: float = 0.5    # 5xx percentage points worse than live
    max_latency_increase_percent: float = 20.0
    min_requests: int = 500                   # on each release, for the 5xx comparison


@dataclass(frozen=True, kw_only=True)
class CanaryConfig:
    """Blue/green: traffic shares (percent) to move through, each watched for bake_seconds
    after clients can see it, judged by the release's alarms plus `alarms`, and against the
    live release by `judge`."""

    steps: tuple[float, ...] = (10.0, 50.0, 100.0)
    bake_seconds: int = 300
    alarms: tuple[str, ...] = ()
    judge: JudgeConfig = field(default_factory=JudgeConfig)


@dataclass(frozen=True, kw_only=True)
class DeployConfig:
    strategy: str = "rolling"  # or "blue-green"
    # How blue/green moves traffic: "load-balancer" (one long-lived load balancer whose
    # listener weights the releases' target groups) or "dns" (a load balancer per release,
    # weighted Route53 records).
    traffic: str = "load-balancer"
    # Rolling: instances started beside the old ones at once. None ("all", the default):
    # the whole group in one batch where capacity.max leaves room for it, as ECS's 200%
    # maximum does; else as many as it leaves room for.
    max_batch_size: int | None = None
    signal_timeout_seconds: int = 600
    # Rolling: how long the alarms keep watching once every instance is replaced.
    rolling_bake_seconds: int = 300
    canary: CanaryConfig = field(default_factory=CanaryConfig)
    keep_releases: int = 1
    # A kept release while idle: "zero" instances (costs nothing; a rollback waits for
    # instances to boot) or "warm" at the minimum capacity (costs as much as the live one;
    # a rollback waits only for its health checks).
    kept_release_capacity: str = "zero"

    def batch_for(self, capacity: CapacityConfig) -> int:
        """Instances a rolling deploy of a group of `capacity` starts at once."""
        if self.max_batch_size is not None:
            return self.max_batch_size
        return max(1, min(capacity.min, capacity.max - capacity.min))

    @property
    def through_front(self) -> bool:
        """Blue/green releases behind the application's long-lived load balancer (the front
        stack), rather than each with its own load balancer and DNS record."""
        return self.strategy == "blue-green" and self.traffic == "load-balancer"
    dns_ttl_seconds: int = 60


@dataclass(frozen=True, kw_only=True)
class HooksConfig:
    """Shell commands run around a deploy, from the wimpy.yml's folder, through /bin/sh -c.
    A failing before-deploy command stops the deploy; an after-deploy one is reported."""

    before_deploy: tuple[str, ...] = ()
    after_deploy: tuple[str, ...] = ()
    timeout_seconds: int = 600  # for each command


@dataclass(frozen=True, kw_only=True)
class NotificationsConfig:
    """Who hears about deploys. Secrets stay out of wimpy.yml: it names the environment
    variables holding them. Empty means that channel is off."""

    slack_webhook_url_env: str = ""
    sns_topic_arn: str = ""
    github_repository: str = ""  # "owner/repo": GitHub deployments and their statuses
    github_token_env: str = "GITHUB_TOKEN"
    github_api_url: str = "https://api.github.com"

    @property
    def any(self) -> bool:
        return bool(self.slack_webhook_url_env or self.sns_topic_arn or self.github_repository)


@dataclass(frozen=True, kw_only=True)
class AccountConfig:
    id: str
    region: str = "eu-west-1"
    availability_zones: tuple[str, ...] = ()
    log_retention_days: int = 365


@dataclass(frozen=True, kw_only=True)
class HostedZoneConfig:
    name: str
    id: str


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    name: str
    cidr: ipaddress.IPv4Network
    nat_gateways: int  # how many NATs, each in its own zone
    domain: str = ""  # "" without a hosted zone
    # "instance" (NAT instances: about $8 a month each) or "gateway" (AWS's managed NAT
    # gateways: about $39 a month each, and more throughput and availability).
    nat: str = "instance"
    # "own": each application has its own load balancer here. "shared": one load balancer
    # for the environment's applications (its own stack), each reached by a host-name rule.
    load_balancer: str = "own"
    # The application's settings this environment sets for itself (environments.<name>.app),
    # by AppConfig field; WimpyConfig.app_in puts them in place of app's.
    app_settings: Mapping[str, object] = field(default_factory=_frozen)

    @property
    def shares_a_load_balancer(self) -> bool:
        """Its applications share one load balancer. The loader allows it only with a
        hosted zone: the rules route by host name."""
        return self.load_balancer == "shared"


@dataclass(frozen=True, kw_only=True)
class WimpyConfig:
    source: Path
    app: AppConfig
    account: AccountConfig
    hosted_zone: HostedZoneConfig | None
    environments: tuple[EnvironmentConfig, ...]
    # "standard", or "lean": the defaults that cost least (one NAT instance and one shared
    # load balancer per environment); each stays settable per environment.
    profile: str = "standard"
    build: BuildConfig = field(default_factory=BuildConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    hooks: HooksConfig = field(default_factory=HooksConfig)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)

    @property
    def project_dir(self) -> Path:
        """The folder wimpy.yml is in: relative paths in it start here."""
        return self.source.resolve().parent

    @property
    def environment_names(self) -> tuple[str, ...]:
        return tuple(env.name for env in self.environments)

    def baseline_settings(self) -> dict[str, object]:
        """What of wimpy.yml the account baseline is built from, by key: the baseline is
        shared by every application in the account, so a deploy compares these with the
        deployed stack's (it records them) before it may touch it."""
        return {"account.log_retention_days": self.account.log_retention_days}

    def environment_settings(self, name: str) -> dict[str, object]:
        """What of wimpy.yml an environment's network is built from, by key (shared by the
        applications deployed to that environment, like the baseline)."""
        env = self.environment(name)
        return {f"environments.{name}.cidr": str(env.cidr),
                f"environments.{name}.nat_gateways": env.nat_gateways,
                f"environments.{name}.nat": env.nat,
                "account.availability_zones": list(self.account.availability_zones),
                "account.log_retention_days": self.account.log_retention_days}

    def edge_settings(self, name: str) -> dict[str, object]:
        """What of wimpy.yml an environment's shared load balancer is built from (shared by
        its applications, like the network)."""
        return {"hosted_zone.name": self.hosted_zone.name if self.hosted_zone else "",
                "account.availability_zones": list(self.account.availability_zones)}

    def shares_a_load_balancer(self, environment: str) -> bool:
        return self.environment(environment).shares_a_load_balancer

    def app_in(self, environment: str) -> AppConfig:
        """The application's settings in `environment` (its capacity, instance type,
        variables, ...): app's, with what environments.<name>.app sets in their place."""
        return self.app.overridden(self.environment(environment).app_settings)

    def environment(self, name: str) -> EnvironmentConfig:
        """The environment called `name`, or UnknownEnvironment naming the ones there are."""
        for env in self.environments:
            if env.name == name:
                return env
        raise UnknownEnvironment(name, self.environment_names, self.source)


class UnknownEnvironment(ValueError):
    def __init__(self, name: str, known: tuple[str, ...], source: Path):
        import difflib

        from .yaml_source import show

        close = [k for k in known if k.startswith(name) or name.startswith(k)]
        close = close or (difflib.get_close_matches(name, known, n=1) if len(name) <= 64 else [])
        hint = f" Did you mean '{close[0]}'?" if close else ""
        super().__init__(  # show(): the name comes from the command line, of any length
            f"--env: {show(name)} is not an environment of {source}; "
            f"it defines {', '.join(known)}.{hint}"
        )
