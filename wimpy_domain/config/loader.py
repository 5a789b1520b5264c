"""wimpy.yml -> WimpyConfig, with every problem in the file reported at once.

Each problem names the file, the line, the key, the bad value and what would be accepted.
Nothing here calls AWS: the point is to stop bad input before anything is deployed.
"""

from __future__ import annotations

import difflib
import ipaddress
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, TypeVar

from .. import naming
from . import aws_limits as aws
from .model import (
    DEFAULT_ENVIRONMENTS,
    RESERVED_VARIABLES,
    AccountConfig,
    AlarmsConfig,
    AppConfig,
    BuildConfig,
    CanaryConfig,
    CapacityConfig,
    JudgeConfig,
    DeployConfig,
    EnvironmentConfig,
    HealthCheckConfig,
    HooksConfig,
    HostedZoneConfig,
    NotificationsConfig,
    RegistryConfig,
    ScalingConfig,
    WimpyConfig,
)
from .reference import keys_under
from .yaml_source import SourceMap, YamlSyntaxError, load_yaml, shown_key
from .yaml_source import show as _show

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {shown_key(self.key)}: {self.message}"


# Problems a ConfigError's message lists; all of them stay in `problems`. A file of
# thousands of unknown keys must not print thousands of lines.
SHOWN_PROBLEMS = 50


class ConfigError(ValueError):
    """Everything wrong with one wimpy.yml."""

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(problems)
        count = len(problems)
        header = f"{count} problem{'s' if count != 1 else ''} in {problems[0].file}:"
        lines = [header, *(f"  {p}" for p in problems[:SHOWN_PROBLEMS])]
        if count > SHOWN_PROBLEMS:
            lines.append(f"  ... and {count - SHOWN_PROBLEMS} more; fix these first")
        super().__init__("\n".join(lines))


class Invalid(ValueError):
    """Raised by a value parser with the reason, worded to follow the value."""


def _close_match(value: str, options: list[str] | tuple[str, ...]) -> str:
    """'did you mean ...? ' for a near miss, else ''. Only short values are compared: a
    hint for a kilobyte of text helps no one and costs time."""
    if len(value) > 64:
        return ""
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


# --- value parsers: each takes the raw YAML value and returns the typed value or raises ---

def integer(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"is not a whole number; use one from {low} to {high}")
        if not low <= value <= high:
            raise Invalid(f"is out of range; use a whole number from {low} to {high}")
        return value
    return parse


def number(low: float, high: float, *, above_low: bool = False) -> Callable[[Any], float]:
    """A number (whole or not) in [low, high], or (low, high] with `above_low`."""
    def parse(value: Any) -> float:
        interval = f"{'above ' if above_low else 'from '}{low:g} {'up ' if above_low else ''}to {high:g}"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise Invalid(f"is not a number; use one {interval}")
        if not (low < value if above_low else low <= value) or value > high:
            raise Invalid(f"is out of range; use a number {interval}")
        return float(value)
    return parse


def alarm_period(value: Any) -> int:
    """CloudWatch's rule for an alarm's period: 10, 30 or a multiple of 60 seconds."""
    seconds = integer(10, 3600)(value)
    if seconds not in (10, 30) and seconds % 60:
        raise Invalid("is not a period CloudWatch accepts; use 10, 30 or a multiple of 60 up to 3600")
    return seconds


def text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid("must be a non-empty string")
    return value


def secret_variable(value: Any) -> str:
    """The name of an environment variable holding a secret (registry credentials, webhook
    URL, token): wimpy.yml names it and never holds the secret itself."""
    if not aws.VARIABLE_NAME.accepts(value):
        raise Invalid("is not an environment variable name (letters, digits and "
                      f"underscores, not starting with a digit, at most "
                      f"{aws.VARIABLE_NAME_MAX} characters): name the variable that "
                      "holds the secret, never the secret itself")
    return value


def one_of(allowed: tuple[int, ...]) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if value not in allowed or isinstance(value, bool):
            raise Invalid(f"is not accepted; use one of {', '.join(map(str, allowed))}")
        return value
    return parse


# --- names Wimpy gives its own stacks and parameters ---
#
# Stacks and SSM parameters are named by joining environment and application names
# (wimpy_domain.naming). Environment names have no hyphen, so `wimpy-<env>-...` can only be read one
# way - except where Wimpy's own names sit in the same place: an environment called like
# the word after `wimpy-` in a fixed stack name, or an application called like the word
# after `/wimpy/<env>/` in the environment's parameters, or ending like the resources stack
# does. Those words are read off wimpy_domain.naming below, with placeholders, so they cannot drift
# from it; tests/test_config_hostile.py proves that no two accepted (environment,
# application) pairs then make the same stack name or share a parameter folder.

_ENV, _APP, _NAME = "ENV", "APP", "NAME"  # uppercase: no accepted name equals one


def _word_after(name: str, prefix: str, separator: str) -> str:
    """The word of `name` right after `prefix`, up to `separator`."""
    if not name.startswith(prefix) or not name[len(prefix):]:
        raise AssertionError(f"wimpy_domain.naming changed shape: {name!r} no longer starts with "
                             f"{prefix!r}; update the reserved names in {__name__}")
    return name[len(prefix):].split(separator)[0]


def _reserved_names() -> tuple[dict[str, Callable[[str, str], str]], ...]:
    stack_head = naming.environment_stack(_ENV).removesuffix(_ENV)  # wimpy-
    parameter_head = naming.environment_parameter(_ENV, _NAME).split(_ENV)[0]  # /wimpy/
    app_parameter_head = naming.application_parameter(_ENV, _APP, _NAME).split(_APP)[0]
    environments: dict[str, Callable[[str, str], str]] = {}
    word = _word_after(naming.baseline_stack(), stack_head, "-")
    environments[word] = lambda env, app: (
        f"would name its network stack {naming.environment_stack(env)}, which is the account "
        "baseline's stack")
    word = _word_after(naming.registry_stack(_APP), stack_head, "-")
    environments[word] = lambda env, app: (
        f"would name the application's stack there {naming.rolling_stack(env, app)}, which is "
        f"the stack of its image repository ({naming.registry_stack(app)})")
    word = _word_after(naming.baseline_parameter(_NAME), parameter_head, "/")
    environments.setdefault(word, lambda env, app: (
        f"would put its parameters under {naming.environment_parameter(env, '')}, inside the "
        f"account baseline's ({naming.baseline_parameter('')})"))
    apps: dict[str, Callable[[str, str], str]] = {}
    word = _word_after(naming.environment_parameter(_ENV, _NAME), app_parameter_head, "/")
    apps[word] = lambda env, app: (
        f"would put its parameters under {naming.application_parameter(env, app, '')}, which "
        "holds each environment's network parameters")
    suffixes: dict[str, Callable[[str, str], str]] = {}
    rolling = naming.rolling_stack(_ENV, _APP)
    for kind, stack_of in (("resources", naming.application_resources_stack),
                           ("data", naming.application_data_stack),
                           ("load balancer", naming.front_stack)):
        suffix = stack_of(_ENV, _APP).removeprefix(rolling)
        if not suffix.startswith("-") or suffix == stack_of(_ENV, _APP):
            raise AssertionError(f"wimpy_domain.naming changed shape: the {kind} stack no longer extends "
                                 f"{rolling!r}; update the reserved names in {__name__}")
        suffixes[suffix] = lambda env, app, kind=kind, suffix=suffix: (
            f"would name its stack {naming.rolling_stack(env, app)}, which is the {kind} stack "
            f"of an application called '{app.removesuffix(suffix)}' in the same account")
    return environments, apps, suffixes


RESERVED_ENVIRONMENTS, RESERVED_APPS, RESERVED_APP_SUFFIXES = _reserved_names()


def environment_name_problem(name: str, app: str = "<app>") -> str | None:
    """Why `name` cannot be an environment's name (worded to follow it), or None."""
    if not aws.ENVIRONMENT_NAME.accepts(name):
        return ("is not a valid environment name; use 1-12 lowercase letters and digits "
                "starting with a letter (no hyphens: they join environment and application "
                "names)")
    if name in RESERVED_ENVIRONMENTS:
        return (f"is reserved: it {RESERVED_ENVIRONMENTS[name](name, app)}; choose another "
                f"environment name (reserved: {', '.join(RESERVED_ENVIRONMENTS)})")
    return None


def app_name_problem(name: str, environment: str = "<env>") -> str | None:
    """Why `name` cannot be the application's name (worded to follow it), or None."""
    if not aws.APP_NAME.accepts(name):
        return ("must be lowercase letters, digits and single hyphens, starting with a letter "
                "and not ending with a hyphen (it names stacks, load balancers, DNS records and "
                "the S3 prefix), e.g. 'web' or 'billing-api'")
    if name in RESERVED_APPS:
        return (f"is reserved: it {RESERVED_APPS[name](environment, name)}; choose another "
                f"application name (reserved: {', '.join(RESERVED_APPS)})")
    for suffix, why in RESERVED_APP_SUFFIXES.items():
        if name.endswith(suffix):
            return (f"is reserved: it {why(environment, name)}; choose a name that does not "
                    f"end in {suffix}")
    return None


class _Reader:
    """Walks the parsed YAML, collecting problems instead of stopping at the first."""

    def __init__(self, file: Path):
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, key: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, key, message))

    def section(self, parent: SourceMap, name: str, path: str, allowed: tuple[str, ...] | None,
                *, required: bool = False) -> SourceMap:
        """The mapping under `name` (empty if absent), its unknown keys reported."""
        if name not in parent:
            if required:
                self.fail(path, parent.line or None, "is missing; see `wimpy init` for a starter file")
            return _empty(parent.line)
        value = parent[name]
        if value is None:
            return _empty(parent.line_of(name))
        if not isinstance(value, SourceMap):
            self.fail(path, parent.line_of(name), f"{_show(value)} is not a mapping of keys to values")
            return _empty(parent.line_of(name))
        if allowed is not None:
            self.unknown_keys(value, path, allowed)
        return value

    def unknown_keys(self, mapping: SourceMap, path: str, allowed: tuple[str, ...]) -> None:
        for key in mapping:
            if key not in allowed:
                # Past the problems a message shows, a hint would only cost time.
                hint = _close_match(key, allowed) if len(self.problems) < SHOWN_PROBLEMS else ""
                self.fail(f"{path}.{key}" if path else key, mapping.line_of(key),
                          f"is not a known key; {hint}known keys here: {', '.join(allowed)}")

    def value(self, mapping: SourceMap, key: str, path: str, parse: Callable[[Any], T],
              default: T, *, required: bool = False) -> T:
        if key not in mapping or mapping[key] is None or mapping[key] == "":
            if required:
                self.fail(path, mapping.line or None, "is required")
            return default
        try:
            return parse(mapping[key])
        except Invalid as reason:
            self.fail(path, mapping.line_of(key), f"{_show(mapping[key])} {reason}")
            return default


def _empty(line: int) -> SourceMap:
    empty = SourceMap()
    empty.line, empty.key_lines = line, {}
    return empty


def load_config(file: str | Path) -> WimpyConfig:
    """Read and validate `file`; raise ConfigError listing every problem in it."""
    file = Path(file)
    try:
        document = load_yaml(file)
    except YamlSyntaxError as exc:
        raise ConfigError([Problem(file, exc.line, exc.key or "(file)", exc.message)]) from None
    if document is None:
        document = _empty(1)
    if not isinstance(document, SourceMap):
        raise ConfigError([Problem(file, 1, "(file)", "must be a mapping with app, account and environments")])

    reader = _Reader(file)
    reader.unknown_keys(document, "", TOP_LEVEL_KEYS)
    account = _read_account(reader, document)
    app = _read_app(reader, document, account)
    hosted_zone = _read_hosted_zone(reader, document)
    profile = reader.value(document, "profile", "profile", _profile, WimpyConfig.profile)
    environments = _read_environments(reader, document, account, app, hosted_zone, profile)
    build = _read_build(reader, document)
    registry = _read_registry(reader, document, account)
    deploy = _read_deploy(reader, document)
    hooks = _read_hooks(reader, document)
    notifications = _read_notifications(reader, document, account)
    _check_room_for_a_batch(reader, document, environments, app, deploy)
    _check_blue_green_has_a_zone(reader, document, hosted_zone, deploy)
    _check_shared_load_balancers(reader, document, environments, deploy)
    if reader.problems:
        raise ConfigError(reader.problems)
    return WimpyConfig(source=file, app=app, account=account, hosted_zone=hosted_zone,
                       environments=environments, profile=profile, build=build, registry=registry, deploy=deploy,
                       hooks=hooks, notifications=notifications)


TOP_LEVEL_KEYS = ("app", "account", "hosted_zone", "profile", "environments", "build", "registry",
                  "deploy", "hooks", "notifications")

PROFILES = ("standard", "lean")


def _profile(value: Any) -> str:
    if value not in PROFILES:
        raise Invalid("is not a profile; use standard (a NAT per zone in production, a load "
                      "balancer per application) or lean (one NAT instance and one shared load "
                      "balancer per environment)")
    return value


def _read_account(reader: _Reader, document: SourceMap) -> AccountConfig:
    section = reader.section(document, "account", "account", keys_under("account"), required=True)

    def account_id(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            raise Invalid('must be quoted so YAML keeps it as text (leading zeros matter); '
                          'write account.id: "123456789012"')
        if not aws.ACCOUNT_ID.accepts(value):
            raise Invalid("is not a 12-digit AWS account id")
        return value

    def region(value: Any) -> str:
        value = text(value)
        if value not in aws.known_regions():
            hint = _close_match(value, sorted(aws.known_regions()))
            raise Invalid(f"is not an AWS region; {hint}regions look like eu-west-1, us-east-1")
        return value

    id_ = reader.value(section, "id", "account.id", account_id, "", required=True)
    region_ = reader.value(section, "region", "account.region", region, AccountConfig.region)

    def zones(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(z, str) for z in value):
            raise Invalid(f"must be a list of zone names like [{region_}a, {region_}b]")
        if not 2 <= len(value) <= 6:
            raise Invalid("must list 2 to 6 zones (a load balancer needs two)")
        if len(set(value)) != len(value):
            raise Invalid("lists a zone more than once")
        for zone in value:
            if reason := aws.zone_problem(zone, region_):
                raise Invalid(f"has {_show(zone)}, which {reason}")
        return tuple(value)

    default_zones = (f"{region_}a", f"{region_}b")
    zones_ = reader.value(section, "availability_zones", "account.availability_zones", zones, default_zones)
    retention = reader.value(section, "log_retention_days", "account.log_retention_days",
                             one_of(aws.LOG_RETENTION_DAYS), AccountConfig.log_retention_days)
    return AccountConfig(id=id_, region=region_, availability_zones=zones_, log_retention_days=retention)


def _read_app(reader: _Reader, document: SourceMap, account: AccountConfig) -> AppConfig:
    section = reader.section(document, "app", "app", keys_under("app"), required=True)

    def name(value: Any) -> str:
        if reason := app_name_problem(text(value)):
            raise Invalid(reason)
        return value

    name_ = reader.value(section, "name", "app.name", name, "", required=True)
    port = reader.value(section, "port", "app.port", integer(1, 65535), AppConfig.port)
    health_check = _read_health_check(reader, section)

    def ports(value: Any) -> tuple[int, ...]:
        if not isinstance(value, list):
            raise Invalid("must be a list of ports, e.g. [5432]")
        return tuple(integer(1, 65535)(port) for port in value)

    database_ports = reader.value(section, "database_ports", "app.database_ports", ports,
                                  AppConfig.database_ports)
    deregistration = reader.value(section, "deregistration_delay_seconds",
                                  "app.deregistration_delay_seconds", integer(0, 3600),
                                  AppConfig.deregistration_delay_seconds)
    alarms_section = reader.section(section, "alarms", "app.alarms", keys_under("app.alarms"))
    alarms = AlarmsConfig(
        error_rate_percent=reader.value(alarms_section, "error_rate_percent",
                                        "app.alarms.error_rate_percent", integer(1, 100),
                                        AlarmsConfig.error_rate_percent),
        p99_latency_ms=reader.value(alarms_section, "p99_latency_ms", "app.alarms.p99_latency_ms",
                                    integer(10, 60000), AlarmsConfig.p99_latency_ms),
        period_seconds=reader.value(alarms_section, "period_seconds", "app.alarms.period_seconds",
                                    alarm_period, AlarmsConfig.period_seconds))
    app = AppConfig(name=name_, port=port, health_check=health_check,
                    database_ports=database_ports, deregistration_delay_seconds=deregistration,
                    alarms=alarms)
    return app.overridden(_read_environment_settings(reader, section, "app", app))


# The application's settings an environment may set for itself under
# environments.<name>.app; the rest (name, port, health check, ...) are the application's
# own and the same everywhere, so that a version behaves alike in staging and production.
ENVIRONMENT_SETTINGS = keys_under("environments.<name>.app")


def _read_environment_settings(reader: _Reader, section: SourceMap, path: str,
                               base: AppConfig) -> dict[str, Any]:
    """The settings that may differ by environment that `section` (at `path`: `app`, or
    `environments.<name>.app`) sets, by AppConfig field, for `base.overridden`. A capacity
    or scaling that names one of its values takes the other from `base`."""

    def instance_type(value: Any) -> str:
        value = text(value)
        known = aws.known_instance_types()
        if value not in known:
            hint = _close_match(value, sorted(known))
            raise Invalid(f"is not an EC2 instance type; {hint}e.g. t3.small, m7g.large")
        return value

    def machine_image(value: Any) -> str:
        if value == "":
            return ""
        if not aws.AMI_ID.accepts(value):
            raise Invalid("is not an AMI id; write it like ami-0123456789abcdef0, or leave it "
                          "empty to use the ECS-optimized Amazon Linux 2023")
        return value

    instance = reader.value(section, "instance_type", f"{path}.instance_type", instance_type,
                            base.instance_type)
    capacity = _read_capacity(reader, section, path, base.capacity)
    environment = _read_variables(reader, section, path, "environment", _environment_value)
    secrets = _read_variables(reader, section, path, "secrets", _parameter_name)
    image = reader.value(section, "machine_image", f"{path}.machine_image", machine_image,
                         base.machine_image)
    scaling_section = reader.section(section, "scaling", f"{path}.scaling",
                                     keys_under("app.scaling"))
    scaling = ScalingConfig(
        cpu_target_percent=reader.value(scaling_section, "cpu_target_percent",
                                        f"{path}.scaling.cpu_target_percent", integer(10, 90),
                                        base.scaling.cpu_target_percent),
        requests_per_target=reader.value(scaling_section, "requests_per_target",
                                         f"{path}.scaling.requests_per_target",
                                         integer(1, 100000), base.scaling.requests_per_target))
    # A variable has one source in each environment: a plain value here and a secret in
    # the application (or the other way round) would leave which one wins to the order
    # the instance happens to write them in.
    for key in sorted(set(environment) & set(secrets)):
        reader.fail(f"{path}.secrets.{key}", section.line_of("secrets"),
                    f"{_show(key)} is also in {path}.environment; give each variable one source")
    for key in sorted(set(environment) & set(base.secrets)):
        reader.fail(f"{path}.environment.{key}", section.line_of("environment"),
                    f"{_show(key)} is a secret in app.secrets; give each variable one source")
    for key in sorted(set(secrets) & set(base.environment)):
        reader.fail(f"{path}.secrets.{key}", section.line_of("secrets"),
                    f"{_show(key)} is a plain variable in app.environment; give each variable "
                    "one source")
    given = {"instance_type": instance, "capacity": capacity, "environment": environment,
             "secrets": secrets, "machine_image": image, "scaling": scaling}
    return {name: value for name, value in given.items() if name in section}


def _read_health_check(reader: _Reader, app: SourceMap) -> HealthCheckConfig:
    section = reader.section(app, "health_check", "app.health_check", keys_under("app.health_check"))
    defaults = HealthCheckConfig()

    def path(value: Any) -> str:
        value = text(value)
        if len(value) > 1024 or not aws.HEALTH_CHECK_PATH.accepts(value):
            raise Invalid("is not a URL path; it must start with '/' and contain no spaces, "
                          "e.g. /health")
        return value

    def field(key: str, parse: Callable[[Any], T], default: T) -> T:
        return reader.value(section, key, f"app.health_check.{key}", parse, default)

    check = HealthCheckConfig(
        path=field("path", path, defaults.path),
        interval_seconds=field("interval_seconds", integer(5, 300), defaults.interval_seconds),
        timeout_seconds=field("timeout_seconds", integer(2, 120), defaults.timeout_seconds),
        healthy_threshold=field("healthy_threshold", integer(2, 10), defaults.healthy_threshold),
        unhealthy_threshold=field("unhealthy_threshold", integer(2, 10), defaults.unhealthy_threshold),
    )
    if check.timeout_seconds >= check.interval_seconds:
        reader.fail("app.health_check.timeout_seconds", section.line_of("timeout_seconds"),
                    f"{check.timeout_seconds} must be less than interval_seconds "
                    f"({check.interval_seconds}), as the load balancer requires")
    return check


def _read_capacity(reader: _Reader, parent: SourceMap, path: str,
                   base: CapacityConfig) -> CapacityConfig:
    section = reader.section(parent, "capacity", f"{path}.capacity", keys_under("app.capacity"))
    low = reader.value(section, "min", f"{path}.capacity.min", integer(1, 100), base.min)
    high = reader.value(section, "max", f"{path}.capacity.max", integer(1, 100), base.max)
    if low > high and "min" in section:
        reader.fail(f"{path}.capacity.min", section.line_of("min"),
                    f"{low} is above {path}.capacity.max ({high}); min must be <= max")
    elif low > high and "max" in section:  # an environment's max below the application's min
        reader.fail(f"{path}.capacity.max", section.line_of("max"),
                    f"{high} is below app.capacity.min ({low}); max must be >= min (set "
                    f"{path}.capacity.min too)")
    return CapacityConfig(min=low, max=high)


def _plain_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise Invalid("must be a single value (text or a number), not a list or mapping")


def _environment_value(value: Any) -> str:
    """A container variable: Docker's --env-file, which the instance starts the container
    with, takes one line per variable and no NUL, so a line break would end the value
    there and start another variable (PORT=1 included)."""
    value = _plain_value(value)
    if any(character in value for character in "\n\r\0"):
        raise Invalid("must be a single line without NUL characters (the container's "
                      "variables are passed one per line); put multi-line values in an "
                      "SSM parameter and name it in app.secrets")
    return value


def _parameter_name(value: Any) -> str:
    value = text(value)
    if len(value) > 2048 or not aws.SSM_PARAMETER_NAME.accepts(value):
        raise Invalid("is not an SSM parameter name; write it like /hello/db-password "
                      "(the parameter, not its value)")
    return value


def _read_variables(reader: _Reader, app: SourceMap, app_path: str, key: str,
                    parse: Callable[[Any], str]) -> dict[str, str]:
    section = reader.section(app, key, f"{app_path}.{key}", None)
    result: dict[str, str] = {}
    for name, raw in section.items():
        path, line = f"{app_path}.{key}.{name}", section.line_of(name)
        if not aws.VARIABLE_NAME.accepts(name):
            reader.fail(path, line, f"{_show(name)} is not an environment variable name; use "
                        "letters, digits and underscores, not starting with a digit, at most "
                        f"{aws.VARIABLE_NAME_MAX} characters")
        elif name in RESERVED_VARIABLES:
            reader.fail(path, line, f"{_show(name)} is set by Wimpy itself; choose another name "
                        f"(reserved: {', '.join(sorted(RESERVED_VARIABLES))})")
        else:
            result[name] = reader.value(section, name, path, parse, "")
    return MappingProxyType(result)  # type: ignore[return-value]


def _read_hosted_zone(reader: _Reader, document: SourceMap) -> HostedZoneConfig | None:
    if "hosted_zone" not in document or document["hosted_zone"] is None:
        return None
    section = reader.section(document, "hosted_zone", "hosted_zone", keys_under("hosted_zone"))

    def zone_name(value: Any) -> str:
        value = text(value).lower()
        if reason := aws.hosted_zone_name_problem(value):
            raise Invalid(reason)
        return value.rstrip(".")

    def zone_id(value: Any) -> str:
        value = text(value).removeprefix("/hostedzone/")
        if not aws.HOSTED_ZONE_ID.accepts(value):
            raise Invalid("is not a Route53 hosted zone id; ids look like Z0123456789ABCDEFGHIJ")
        return value

    name = reader.value(section, "name", "hosted_zone.name", zone_name, "", required=True)
    id_ = reader.value(section, "id", "hosted_zone.id", zone_id, "", required=True)
    return HostedZoneConfig(name=name, id=id_)


def _read_environments(reader: _Reader, document: SourceMap, account: AccountConfig,
                       app: AppConfig, zone: HostedZoneConfig | None,
                       profile: str) -> tuple[EnvironmentConfig, ...]:
    zones = len(account.availability_zones)
    lean = profile == "lean"
    if "environments" not in document:
        return tuple(
            EnvironmentConfig(name=name, cidr=ipaddress.IPv4Network(cidr),
                              nat_gateways=_default_nat_gateways(name, zones, lean),
                              domain=_default_domain(name, app, zone),
                              load_balancer=_default_load_balancer(lean, zone))
            for name, cidr in DEFAULT_ENVIRONMENTS.items()
        )
    section = reader.section(document, "environments", "environments", None)
    if not section:
        reader.fail("environments", section.line, "lists no environment; define at least one, "
                    "e.g. staging: {cidr: 10.0.0.0/16}")
    environments: list[EnvironmentConfig] = []
    for name in section:
        path, line = f"environments.{name}", section.line_of(name)
        if reason := environment_name_problem(name, app.name or "<app>"):
            reader.fail(path, line, f"{_show(name)} {reason}")
            continue
        settings = reader.section(section, name, path, keys_under("environments.<name>"))

        def cidr(value: Any) -> ipaddress.IPv4Network:
            if reason := aws.cidr_problem(text(value), zones):
                raise Invalid(reason)
            return ipaddress.IPv4Network(value)

        network = reader.value(settings, "cidr", f"{path}.cidr", cidr, None,
                               required=name not in DEFAULT_ENVIRONMENTS)
        if network is None and name in DEFAULT_ENVIRONMENTS and "cidr" not in settings:
            network = ipaddress.IPv4Network(DEFAULT_ENVIRONMENTS[name])
        nat = reader.value(settings, "nat_gateways", f"{path}.nat_gateways", integer(1, zones),
                           _default_nat_gateways(name, zones, lean))

        def nat_kind(value: Any) -> str:
            if value not in ("instance", "gateway"):
                raise Invalid("is not a NAT; use instance (a NAT instance, about $8 a month) or "
                              "gateway (AWS's NAT gateway, about $39 a month)")
            return value

        nat_kind_ = reader.value(settings, "nat", f"{path}.nat", nat_kind, EnvironmentConfig.nat)

        def domain(value: Any) -> str:
            value = text(value).lower().rstrip(".")
            if zone is None:
                raise Invalid("needs hosted_zone (name and id) to be set")
            if reason := aws.hosted_zone_name_problem(value):
                raise Invalid(reason)
            if value != zone.name and not value.endswith("." + zone.name):
                raise Invalid(f"is outside the hosted zone {_show(zone.name)}; use a name ending "
                              f"in .{zone.name}")
            return value

        domain_name = reader.value(settings, "domain", f"{path}.domain", domain,
                                   _default_domain(name, app, zone))

        def load_balancer(value: Any) -> str:
            if value not in ("own", "shared"):
                raise Invalid("is not a load balancer choice; use own (one per application) "
                              "or shared (one for the environment's applications, each "
                              "reached by its host name)")
            if value == "shared" and zone is None:
                raise Invalid("needs hosted_zone (name and id): a shared load balancer tells "
                              "applications apart by their host names, which are records "
                              "in that zone")
            return value

        balancer = reader.value(settings, "load_balancer", f"{path}.load_balancer", load_balancer,
                                _default_load_balancer(lean, zone))
        _check_name_lengths(reader, name, line, app)
        app_settings = _read_environment_settings(
            reader, reader.section(settings, "app", f"{path}.app", ENVIRONMENT_SETTINGS),
            f"{path}.app", app)
        if network is not None:
            for other in environments:
                if network.overlaps(other.cidr):
                    reader.fail(f"{path}.cidr", settings.line_of("cidr"),
                                f"'{network}' overlaps environments.{other.name}.cidr "
                                f"('{other.cidr}'); give each environment its own range")
            environments.append(EnvironmentConfig(name=name, cidr=network, nat_gateways=nat,
                                                  nat=nat_kind_, domain=domain_name,
                                                  load_balancer=balancer,
                                                  app_settings=MappingProxyType(app_settings)))
    return tuple(environments)


def _default_domain(environment: str, app: AppConfig, zone: HostedZoneConfig | None) -> str:
    if zone is None or not app.name:
        return ""
    if environment == "production":
        return f"{app.name}.{zone.name}"
    return f"{app.name}.{environment}.{zone.name}"


def _default_nat_gateways(environment: str, zones: int, lean: bool = False) -> int:
    """Production survives the loss of a zone; elsewhere (and everywhere in the lean
    profile) one keeps the bill down."""
    return zones if environment == "production" and not lean else 1


def _default_load_balancer(lean: bool, zone: HostedZoneConfig | None) -> str:
    """Shared in the lean profile, where it can be: its rules route by host name, and
    without a hosted zone there is none."""
    return "shared" if lean and zone is not None else "own"


def _check_shared_load_balancers(reader: _Reader, document: SourceMap,
                                 environments: tuple[EnvironmentConfig, ...],
                                 deploy: DeployConfig) -> None:
    """Blue/green through DNS gives every release its own load balancer and record, which
    a shared load balancer (one rule per host name) cannot hold: say so before anything
    is built, at the key that chose it."""
    if deploy.strategy != "blue-green" or deploy.traffic != "dns":
        return
    shared = [env.name for env in environments if env.shares_a_load_balancer]
    if shared:
        section = document.get("deploy")
        line = section.line_of("traffic") if isinstance(section, SourceMap) else None
        reader.fail("deploy.traffic", line,
                    f"{_show(deploy.traffic)} gives each release its own load balancer, but "
                    f"{', '.join(f'environments.{name}.load_balancer' for name in shared)} is "
                    "shared; use traffic: load-balancer (the shared load balancer's rule "
                    "weights the releases), or load_balancer: own")


def _check_name_lengths(reader: _Reader, environment: str, line: int, app: AppConfig) -> None:
    if not app.name:
        return
    load_balancer = f"{environment}-{app.name}"
    if len(load_balancer) > aws.LOAD_BALANCER_NAME_MAX:
        room = aws.LOAD_BALANCER_NAME_MAX - len(environment) - 1
        reader.fail("app.name", line, f"{_show(app.name)} is too long for environment "
                    f"'{environment}': load balancer and target group name '{load_balancer}' "
                    f"has {len(load_balancer)} characters, AWS allows "
                    f"{aws.LOAD_BALANCER_NAME_MAX}; use at most {room} characters")


def _read_build(reader: _Reader, document: SourceMap) -> BuildConfig:
    section = reader.section(document, "build", "build", keys_under("build"))

    def relative_path(value: Any) -> str:
        value = text(value)
        if value.startswith("/") or ".." in Path(value).parts:
            raise Invalid("must be a path inside the application's folder, relative to wimpy.yml")
        if not value.isprintable() or len(value) > 4096:
            # A control character in a path is never meant, and would be echoed into the
            # build's messages; 4096 is Linux's limit on a whole path.
            raise Invalid("must be a path of printable characters (at most 4096), relative "
                          "to wimpy.yml")
        return value

    def boolean(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("must be true or false")
        return value

    def target(value: Any) -> str:
        value = text(value)
        if not aws.BUILD_TARGET.accepts(value):
            raise Invalid("is not a Dockerfile stage name (1-128 letters, digits, '.', '_', "
                          "'-', starting with a letter or digit)")
        return value

    args_section = reader.section(section, "args", "build.args", None)
    args = {}
    for name in args_section:
        if not aws.VARIABLE_NAME.accepts(name):
            reader.fail(f"build.args.{name}", args_section.line_of(name),
                        f"{_show(name)} is not a build argument name; use letters, digits and "
                        f"underscores, at most {aws.VARIABLE_NAME_MAX} characters")
        else:
            args[name] = reader.value(args_section, name, f"build.args.{name}", _plain_value, "")
    return BuildConfig(
        context=Path(reader.value(section, "context", "build.context", relative_path, ".")),
        dockerfile=reader.value(section, "dockerfile", "build.dockerfile", relative_path, "Dockerfile"),
        target=reader.value(section, "target", "build.target", target, ""),
        args=MappingProxyType(args),
        push_latest=reader.value(section, "push_latest", "build.push_latest", boolean, False),
    )


def _read_registry(reader: _Reader, document: SourceMap, account: AccountConfig) -> RegistryConfig:
    section = reader.section(document, "registry", "registry", keys_under("registry"))

    def repository_url(value: Any) -> str:
        value = text(value)
        if (len(value) > aws.IMAGE_REPOSITORY_MAX or "://" in value
                or not aws.IMAGE_REPOSITORY.accepts(value)):
            raise Invalid("is not an image repository; write it like ghcr.io/acme/web or "
                          f"localhost:5000/web (no scheme, no tag, at most "
                          f"{aws.IMAGE_REPOSITORY_MAX} characters)")
        return value

    def credentials(value: Any) -> str:
        value = text(value)
        if value.startswith("arn:"):
            parts = value.split(":")
            if not SECRETS_MANAGER_ARN.accepts(value):
                raise Invalid("is not a Secrets Manager secret's full ARN (with the 6 "
                              "characters AWS adds to its name, so that no other secret can "
                              "match it); write it like arn:aws:secretsmanager:"
                              f"{account.region}:{account.id or '123456789012'}"
                              ":secret:hello/registry-AbCdEf, or give an SSM parameter name")
            if (parts[3], parts[4]) != (account.region, account.id):
                raise Invalid(f"is in {parts[3]} of account {parts[4]}; instances read it in "
                              f"account.region ({account.region}) of account.id "
                              f"({account.id}): use a secret there")
            return value
        return _parameter_name(value)

    registry = RegistryConfig(
        credentials=reader.value(section, "credentials", "registry.credentials", credentials, ""),
        url=reader.value(section, "url", "registry.url", repository_url, ""),
        username_env=reader.value(section, "username_env", "registry.username_env",
                                  secret_variable, ""),
        password_env=reader.value(section, "password_env", "registry.password_env",
                                  secret_variable, ""),
        keep_images=reader.value(section, "keep_images", "registry.keep_images", integer(1, 1000),
                                 RegistryConfig.keep_images),
    )
    if bool(registry.username_env) != bool(registry.password_env):
        reader.fail("registry.password_env" if registry.username_env else "registry.username_env",
                    section.line, "set both username_env and password_env, or neither")
    if registry.username_env and not registry.url:
        reader.fail("registry.username_env", section.line_of("username_env"),
                    "is only for registry.url; ECR logs in with your AWS credentials")
    if registry.credentials and not registry.url:
        reader.fail("registry.credentials", section.line_of("credentials"),
                    "is only for registry.url; instances log in to ECR with their role")
    return registry


SECRETS_MANAGER_ARN = aws.Pattern(
    r"arn:aws[-a-z]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:secret:"
    r"[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}")


# A new instance installs Docker and pulls the image inside its signal timeout; the
# ContainerService construct refuses less than two minutes, so accept no less here, where
# the message can name the key, rather than fail synthesis with a traceback.
MIN_SIGNAL_TIMEOUT_SECONDS = 120


def _read_deploy(reader: _Reader, document: SourceMap) -> DeployConfig:
    section = reader.section(document, "deploy", "deploy", keys_under("deploy"))

    def strategy(value: Any) -> str:
        if value not in ("rolling", "blue-green"):
            raise Invalid("is not a strategy; use rolling or blue-green")
        return value

    def traffic(value: Any) -> str:
        if value not in ("load-balancer", "dns"):
            raise Invalid("is not a traffic mode; use load-balancer (listener weights on one "
                          "long-lived load balancer) or dns (weighted Route53 records)")
        return value

    def kept_release_capacity(value: Any) -> str:
        if value not in ("zero", "warm"):
            raise Invalid("is not a size for an idle kept release; use zero (no instance, a "
                          "rollback boots them) or warm (app.capacity.min instances, a rollback "
                          "in seconds)")
        return value

    def batch_size(value: Any) -> int | None:
        if value == "all":
            return None
        try:
            return integer(1, 100)(value)
        except Invalid:
            raise Invalid("is not a batch size; use all (the whole group at once, where "
                          "app.capacity.max leaves room) or a whole number from 1 to 100") from None

    canary_section = reader.section(section, "canary", "deploy.canary", keys_under("deploy.canary"))

    def steps(value: Any) -> tuple[float, ...]:
        if not isinstance(value, list) or not value or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise Invalid("must be a list of percentages, e.g. [10, 50, 100]")
        if any(not 0 < v <= 100 for v in value) or value != sorted(set(value)) or value[-1] != 100:
            raise Invalid("must rise strictly, each above 0, and end at 100 (all traffic)")
        return tuple(float(v) for v in value)

    def alarm_names(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 255 for v in value):
            raise Invalid("must be a list of CloudWatch alarm names (1-255 characters each)")
        for name in value:
            # CloudWatch refuses control characters in alarm names; a line break would
            # also pass here and fail the canary's first alarm query.
            if any(ord(character) < 32 or ord(character) == 127 for character in name):
                raise Invalid(f"has {_show(name)}, which holds a control character; CloudWatch "
                              "alarm names are 1-255 printable characters")
        return tuple(value)

    judge_section = reader.section(canary_section, "judge", "deploy.canary.judge",
                                   keys_under("deploy.canary.judge"))
    judge = JudgeConfig(
        confidence_percent=reader.value(judge_section, "confidence_percent",
                                        "deploy.canary.judge.confidence_percent",
                                        number(50, 99.99), JudgeConfig.confidence_percent),
        max_error_increase_points=reader.value(judge_section, "max_error_increase_points",
                                               "deploy.canary.judge.max_error_increase_points",
                                               number(0, 100), JudgeConfig.max_error_increase_points),
        max_latency_increase_percent=reader.value(judge_section, "max_latency_increase_percent",
                                                  "deploy.canary.judge.max_latency_increase_percent",
                                                  number(0, 1000), JudgeConfig.max_latency_increase_percent),
        min_requests=reader.value(judge_section, "min_requests", "deploy.canary.judge.min_requests",
                                  integer(1, 10_000_000), JudgeConfig.min_requests),
    )
    canary = CanaryConfig(
        judge=judge,
        steps=reader.value(canary_section, "steps", "deploy.canary.steps", steps, CanaryConfig.steps),
        bake_seconds=reader.value(canary_section, "bake_seconds", "deploy.canary.bake_seconds",
                                  integer(0, 86400), CanaryConfig.bake_seconds),
        alarms=reader.value(canary_section, "alarms", "deploy.canary.alarms", alarm_names, ()),
    )
    return DeployConfig(
        canary=canary,
        keep_releases=reader.value(section, "keep_releases", "deploy.keep_releases",
                                   integer(0, 5), DeployConfig.keep_releases),
        kept_release_capacity=reader.value(section, "kept_release_capacity",
                                           "deploy.kept_release_capacity", kept_release_capacity,
                                           DeployConfig.kept_release_capacity),
        dns_ttl_seconds=reader.value(section, "dns_ttl_seconds", "deploy.dns_ttl_seconds",
                                     integer(0, 3600), DeployConfig.dns_ttl_seconds),
        strategy=reader.value(section, "strategy", "deploy.strategy", strategy, "rolling"),
        traffic=reader.value(section, "traffic", "deploy.traffic", traffic, DeployConfig.traffic),
        max_batch_size=reader.value(section, "max_batch_size", "deploy.max_batch_size",
                                    batch_size, DeployConfig.max_batch_size),
        signal_timeout_seconds=reader.value(section, "signal_timeout_seconds",
                                            "deploy.signal_timeout_seconds",
                                            integer(MIN_SIGNAL_TIMEOUT_SECONDS, 3600),
                                            DeployConfig.signal_timeout_seconds),
        rolling_bake_seconds=reader.value(section, "rolling_bake_seconds", "deploy.rolling_bake_seconds",
                                          integer(0, 172800), DeployConfig.rolling_bake_seconds),
    )


def _check_room_for_a_batch(reader: _Reader, document: SourceMap,
                            environments: tuple[EnvironmentConfig, ...], base: AppConfig,
                            deploy: DeployConfig) -> None:
    """A rolling deploy keeps `min` instances in service and starts a batch beside them, so
    the group must be allowed to grow to min + batch; CloudFormation also insists that
    MinInstancesInService stays below MaxSize. Checked for each environment's capacity,
    and reported once at the key that sets it."""
    reported: set[CapacityConfig] = set()
    for environment in environments:
        capacity = base.overridden(environment.app_settings).capacity
        needed = capacity.min + deploy.batch_for(capacity)
        if capacity.max >= needed or capacity.min > capacity.max or capacity in reported:
            continue
        reported.add(capacity)
        path, line = _capacity_key(document, environment.name, capacity == base.capacity)
        batch = (f"deploy.max_batch_size ({deploy.max_batch_size})"
                 if deploy.max_batch_size is not None else "a batch of one")
        reader.fail(path, line,
                    f"{capacity.max} leaves no room to replace instances while keeping "
                    f"{capacity.min} in service (capacity.min): a rolling deploy of {batch} "
                    f"needs max >= {needed}")


def _capacity_key(document: SourceMap, environment: str, the_apps: bool) -> tuple[str, int | None]:
    """Where a capacity was written: app.capacity.max, or the environment's own."""
    keys = ("app",) if the_apps else ("environments", environment, "app")
    section: Any = document
    for key in (*keys, "capacity"):
        section = section.get(key) if isinstance(section, SourceMap) else None
    line = section.line_of("max") if isinstance(section, SourceMap) else None
    return ".".join((*keys, "capacity", "max")), line


def _check_blue_green_has_a_zone(reader: _Reader, document: SourceMap,
                                 zone: HostedZoneConfig | None, deploy: DeployConfig) -> None:
    """Blue/green through DNS shifts traffic between releases by the weights of Route53
    records in the hosted zone (there is one zone for every environment); without one the
    release stacks have no weight to set and the deploy would fail after building
    everything. Through the load balancer it needs no zone."""
    if deploy.strategy == "blue-green" and deploy.traffic == "dns" and zone is None:
        section = document.get("deploy")
        line = section.line_of("traffic") if isinstance(section, SourceMap) else None
        reader.fail("deploy.traffic", line,
                    f"{_show(deploy.traffic)} needs hosted_zone: blue-green through DNS moves "
                    "traffic with weighted records in hosted_zone; add hosted_zone (name and id) "
                    "or use traffic: load-balancer")


def _read_hooks(reader: _Reader, document: SourceMap) -> HooksConfig:
    section = reader.section(document, "hooks", "hooks", keys_under("hooks"))

    def commands(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise Invalid("must be a list of shell commands, e.g. [./scripts/migrate.sh]")
        for index, command in enumerate(value):
            if not isinstance(command, str) or not command.strip():
                raise Invalid(f"has {_show(command)} at position {index + 1}; each entry must "
                              "be a non-empty shell command (quote it if YAML reads it as "
                              "something else)")
            if "\0" in command:
                # No process can be given a NUL in its arguments: the hook would fail
                # with a Python error at deploy time instead of here.
                raise Invalid(f"has {_show(command)} at position {index + 1}, which holds a NUL "
                              "character; a shell command cannot contain one")
        return tuple(value)

    return HooksConfig(
        before_deploy=reader.value(section, "before_deploy", "hooks.before_deploy", commands, ()),
        after_deploy=reader.value(section, "after_deploy", "hooks.after_deploy", commands, ()),
        timeout_seconds=reader.value(section, "timeout_seconds", "hooks.timeout_seconds",
                                     integer(1, 3600), HooksConfig.timeout_seconds),
    )


SNS_TOPIC_ARN = aws.Pattern(
    r"arn:aws[-a-z]*:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
GITHUB_REPOSITORY = aws.Pattern(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _read_notifications(reader: _Reader, document: SourceMap,
                        account: AccountConfig) -> NotificationsConfig:
    section = reader.section(document, "notifications", "notifications", keys_under("notifications"))

    def topic_arn(value: Any) -> str:
        value = text(value)
        if not SNS_TOPIC_ARN.accepts(value):
            raise Invalid("is not an SNS topic ARN; write it like "
                          f"arn:aws:sns:{account.region}:{account.id or '123456789012'}:deploys")
        region = value.split(":")[3]
        if region != account.region:
            raise Invalid(f"is in {region}, but Wimpy publishes in account.region "
                          f"({account.region}); use a topic there")
        return value

    def repository(value: Any) -> str:
        value = text(value)
        if not GITHUB_REPOSITORY.accepts(value) or value.endswith((".git", "/.", "/..")):
            raise Invalid("is not a GitHub repository; write it as owner/repo, e.g. "
                          "acme/hello (no URL, no .git)")
        return value

    def api_url(value: Any) -> str:
        value = text(value)
        if not aws.URL.accepts(value):
            # urlsplit quietly drops tabs and line breaks and strips leading spaces, so it
            # would pass a URL that is not the one written.
            raise Invalid("is not a URL; write it like https://github.example.com/api/v3 "
                          "(ASCII, no spaces or control characters, at most 2048 characters)")
        parts = urllib.parse.urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if parts.scheme != "https" and not loopback:
            raise Invalid("must be an https URL, e.g. https://api.github.com or "
                          "https://github.example.com/api/v3 (http only for localhost)")
        if not parts.hostname or parts.query or parts.fragment:
            raise Invalid("is not a URL of an API root; write it like "
                          "https://github.example.com/api/v3")
        if parts.username or parts.password:
            raise Invalid("must not hold credentials; put the token in the variable named "
                          "by notifications.github_token_env")
        return value.rstrip("/")

    defaults = NotificationsConfig()
    return NotificationsConfig(
        slack_webhook_url_env=reader.value(section, "slack_webhook_url_env",
                                           "notifications.slack_webhook_url_env", secret_variable, ""),
        sns_topic_arn=reader.value(section, "sns_topic_arn", "notifications.sns_topic_arn",
                                   topic_arn, ""),
        github_repository=reader.value(section, "github_repository",
                                       "notifications.github_repository", repository, ""),
        github_token_env=reader.value(section, "github_token_env",
                                      "notifications.github_token_env", secret_variable,
                                      defaults.github_token_env),
        github_api_url=reader.value(section, "github_api_url", "notifications.github_api_url",
                                    api_url, defaults.github_api_url),
    )
