"""wimpy.yml validation: each bad input a hurried user gives gets a message naming the
file, line, key, bad value and what would be accepted, and all of them come at once."""

from __future__ import annotations

import copy
import ipaddress

import pytest
import yaml

from wimpy_domain.config import ConfigError, UnknownEnvironment, load_config
from wimpy_domain.config.reference import KEYS

VALID = {
    "app": {"name": "web", "port": 8080},
    "account": {"id": "123456789012", "region": "eu-west-1",
                "availability_zones": ["eu-west-1a", "eu-west-1b"]},
    "hosted_zone": {"name": "example.com", "id": "Z0123456789ABC"},
    "environments": {"staging": {"cidr": "10.0.0.0/16"}, "production": {"cidr": "10.1.0.0/16"}},
}


def config_with(write_config, change=None, **sections):
    data = copy.deepcopy(VALID)
    for section, values in sections.items():
        if values is None:
            data.pop(section, None)
        else:
            data[section] = {**data.get(section, {}), **values}
    if change:
        change(data)
    return write_config(yaml.safe_dump(data, sort_keys=False))


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def one_problem(path) -> str:
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


def test_the_valid_file_loads_with_defaults(write_config):
    config = load_config(config_with(write_config))
    assert config.app.name == "web"
    assert config.app.health_check.path == "/health"
    assert config.app.capacity.min == 2 and config.app.capacity.max == 4
    assert config.account.log_retention_days == 365
    assert [e.name for e in config.environments] == ["staging", "production"]
    assert config.environment("production").nat_gateways == 2  # one per zone
    assert config.environment("staging").nat_gateways == 1


def test_config_objects_are_frozen(write_config):
    config = load_config(config_with(write_config))
    with pytest.raises(Exception):
        config.app.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.app.environment["X"] = "1"  # type: ignore[index]


def test_defaults_when_environments_and_zones_are_omitted(write_config):
    path = config_with(write_config, account={"id": "123456789012", "region": "us-east-1",
                                              "availability_zones": None},
                       environments=None)
    config = load_config(path)
    assert config.account.availability_zones == ("us-east-1a", "us-east-1b")
    assert {e.name: str(e.cidr) for e in config.environments} == {
        "staging": "10.0.0.0/16", "production": "10.1.0.0/16"}


@pytest.mark.parametrize("name, why", [
    ("My_App", "lowercase letters, digits and single hyphens"),
    ("web-", "not ending with a hyphen"),
    ("1web", "starting with a letter"),
    ("web--api", "single hyphens"),
    ("web.api", "lowercase letters"),
])
def test_app_names_that_break_aws_naming(write_config, name, why):
    message = one_problem(config_with(write_config, app={"name": name}))
    assert "app.name" in message and repr(name) in message and why in message


def test_app_name_too_long_for_load_balancer_names(write_config):
    name = "a" * 22  # 'production-' + 22 = 33 > 32
    message = one_problem(config_with(write_config, app={"name": name}))
    assert "app.name" in message
    assert f"production-{name}" in message and "33 characters" in message and "32" in message
    assert "at most 21 characters" in message


def test_app_name_fits_exactly(write_config):
    load_config(config_with(write_config, app={"name": "a" * 21}))


@pytest.mark.parametrize("port, reason", [(0, "out of range"), (70000, "out of range"),
                                          ("http", "not a whole number"), (True, "not a whole number")])
def test_ports_outside_1_to_65535(write_config, port, reason):
    message = one_problem(config_with(write_config, app={"name": "web", "port": port}))
    assert "app.port" in message and reason in message and "from 1 to 65535" in message


@pytest.mark.parametrize("cidr, expected", [
    ("10.0.0.0/33", "invalid prefix length"),
    ("10.0.0/16", "not an IPv4 CIDR block"),
    ("10.1.2.3/16", "host bits set; did you mean 10.1.0.0/16?"),
    ("8.8.0.0/16", "not a private range"),
    ("10.16.0.0/12", "between /16 and /24"),
])
def test_malformed_cidrs(write_config, cidr, expected):
    message = one_problem(config_with(write_config, environments={"staging": {"cidr": cidr}}))
    assert "environments.staging.cidr" in message and repr(cidr) in message and expected in message


def test_cidr_too_small_for_the_zones(write_config):
    path = config_with(write_config,
                       account={"availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]},
                       environments={"staging": {"cidr": "10.0.0.0/24"}})
    message = one_problem(path)
    assert "too small for 3 subnet tiers in 3 availability zones" in message
    assert "use /23 or larger" in message


def test_overlapping_cidrs(write_config):
    message = one_problem(config_with(write_config, environments={
        "production": {"cidr": "10.0.128.0/17"}}))
    assert "environments.production.cidr" in message
    assert "overlaps environments.staging.cidr ('10.0.0.0/16')" in message


def test_unknown_keys_get_a_suggestion(write_config):
    def typo(data):
        data["app"]["instnce_type"] = "t3.small"
        data["enviroments"] = data.pop("environments")
    found = problems(config_with(write_config, change=typo))
    assert any("app.instnce_type" in p and "did you mean 'instance_type'?" in p for p in found)
    assert any("enviroments" in p and "did you mean 'environments'?" in p for p in found)


def test_unknown_environment_on_the_command_line(write_config):
    config = load_config(config_with(write_config))
    with pytest.raises(UnknownEnvironment) as caught:
        config.environment("prodution")
    message = str(caught.value)
    assert "--env" in message and "'prodution'" in message
    assert "staging, production" in message and "Did you mean 'production'?" in message


@pytest.mark.parametrize("name", ["prod-eu", "Prod", "averyveryverylongname"])
def test_environment_names_that_would_collide_or_break_limits(write_config, name):
    message = one_problem(config_with(write_config, environments={name: {"cidr": "10.5.0.0/16"}}))
    assert f"environments.{name}" in message and "1-12 lowercase letters and digits" in message


def test_azs_outside_the_region(write_config):
    message = one_problem(config_with(write_config, account={
        "availability_zones": ["eu-west-1a", "us-east-1b"]}))
    assert "account.availability_zones" in message and "'us-east-1b'" in message
    assert "not an availability zone of region eu-west-1" in message


def test_one_zone_is_not_enough_for_a_load_balancer(write_config):
    message = one_problem(config_with(write_config, account={"availability_zones": ["eu-west-1a"]}))
    assert "2 to 6 zones" in message


def test_unknown_region_with_suggestion(write_config):
    found = problems(config_with(write_config, account={"region": "eu-west-9"}))
    assert any("account.region" in p and "'eu-west-9' is not an AWS region" in p for p in found)


def test_unquoted_account_id(write_config):
    path = write_config(yaml.safe_dump(VALID).replace("'123456789012'", "123456789012"))
    message = one_problem(path)
    assert "account.id" in message and "must be quoted" in message


def test_min_capacity_above_max(write_config):
    message = one_problem(config_with(write_config, app={"name": "web", "capacity": {"min": 5, "max": 2}}))
    assert "app.capacity.min" in message and "5 is above app.capacity.max (2)" in message


@pytest.mark.parametrize("zone, key, expected", [
    ({"name": "exa mple.com", "id": "Z0123"}, "hosted_zone.name", "invalid label"),
    ({"name": "localhost", "id": "Z0123"}, "hosted_zone.name", "not a domain name"),
    ({"name": "example.com", "id": "abc"}, "hosted_zone.id", "not a Route53 hosted zone id"),
    ({"name": "example.com"}, "hosted_zone.id", "is required"),
])
def test_malformed_hosted_zone(write_config, zone, key, expected):
    message = one_problem(config_with(write_config, change=lambda d: d.update(hosted_zone=zone)))
    assert key in message and expected in message


def test_hosted_zone_id_accepts_the_console_form(write_config):
    path = config_with(write_config, change=lambda d: d.update(
        hosted_zone={"name": "Example.com.", "id": "/hostedzone/Z0123456789ABC"}))
    zone = load_config(path).hosted_zone
    assert (zone.name, zone.id) == ("example.com", "Z0123456789ABC")


def test_yaml_that_does_not_parse_reports_the_line(write_config):
    path = write_config("app:\n  name: web\n   port: 8080\n")
    message = one_problem(path)
    assert f"{path}:3:" in message and "not valid YAML" in message


def test_duplicate_keys_are_refused(write_config):
    path = write_config("app:\n  name: web\n  name: api\n")
    message = one_problem(path)
    assert ":3:" in message and "'name' appears twice (first on line 2)" in message


def test_missing_file_says_how_to_make_one(tmp_path):
    message = one_problem(tmp_path / "nope.yml")
    assert "no such file" in message and "wimpy init" in message


def test_missing_required_sections(write_config):
    found = problems(write_config("environments: {}\n"))
    assert any(p.endswith("app: is missing; see `wimpy init` for a starter file") for p in found)
    assert any("account: is missing" in p for p in found)
    assert any("environments: lists no environment" in p for p in found)


def test_health_check_bounds(write_config):
    found = problems(config_with(write_config, app={"name": "web", "health_check": {
        "path": "health", "interval_seconds": 1, "healthy_threshold": 11}}))
    assert any("app.health_check.path: 'health' is not a URL path" in p for p in found)
    assert any("app.health_check.interval_seconds: 1 is out of range" in p for p in found)
    assert any("app.health_check.healthy_threshold: 11 is out of range" in p for p in found)


def test_timeout_must_be_shorter_than_interval(write_config):
    message = one_problem(config_with(write_config, app={"name": "web", "health_check": {
        "interval_seconds": 10, "timeout_seconds": 10}}))
    assert "timeout_seconds: 10 must be less than interval_seconds (10)" in message


def test_instance_type_that_does_not_exist(write_config):
    message = one_problem(config_with(write_config, app={"name": "web", "instance_type": "t3.smal"}))
    assert "app.instance_type: 't3.smal' is not an EC2 instance type" in message
    assert "did you mean 't3.small'?" in message


def test_variables_and_secrets(write_config):
    found = problems(config_with(write_config, app={"name": "web",
        "environment": {"PORT": "1", "1BAD": "x", "OK": ["a"], "BOTH": "x"},
        "secrets": {"BOTH": "/a/b", "TOKEN": "my secret value"}}))
    assert any("app.environment.PORT" in p and "set by Wimpy itself" in p for p in found)
    assert any("app.environment.1BAD" in p and "not an environment variable name" in p for p in found)
    assert any("app.environment.OK" in p and "single value" in p for p in found)
    assert any("app.secrets.BOTH" in p and "also in app.environment" in p for p in found)
    assert any("app.secrets.TOKEN" in p and "not an SSM parameter name" in p for p in found)


def test_scalar_variables_become_text(write_config):
    config = load_config(config_with(write_config, app={"name": "web",
                                                       "environment": {"DEBUG": True, "WORKERS": 4}}))
    assert dict(config.app.environment) == {"DEBUG": "true", "WORKERS": "4"}


def test_log_retention_must_be_a_value_cloudwatch_accepts(write_config):
    message = one_problem(config_with(write_config, account={"log_retention_days": 100}))
    assert "account.log_retention_days: 100 is not accepted" in message and "365" in message


def test_nat_gateways_between_one_and_the_zone_count(write_config):
    message = one_problem(config_with(write_config, environments={
        "staging": {"cidr": "10.0.0.0/16", "nat_gateways": 3}}))
    assert "environments.staging.nat_gateways: 3 is out of range" in message and "from 1 to 2" in message


def test_all_problems_are_reported_together_with_lines(write_config):
    path = write_config(
        "app:\n"
        "  name: Web\n"
        "  port: 0\n"
        "account:\n"
        "  id: '123456789012'\n"
        "environments:\n"
        "  staging: {cidr: 10.0.0.0/16}\n"
        "  production: {cidr: 10.0.0.0/16}\n"
    )
    found = problems(path)
    assert len(found) == 3, found
    assert f"{path}:2: app.name: 'Web'" in found[0] or any(f"{path}:2: app.name" in p for p in found)
    assert any(f"{path}:3: app.port: 0" in p for p in found)
    assert any(f"{path}:8: environments.production.cidr" in p for p in found)


# Every key of the reference table (wimpy_domain/config/reference.py) with a value that is not its
# default, and what that value must become in the loaded config. A key added to the table
# without a line here fails the test below.
EVERY_KEY = {
    "app.name": ("shop", "shop"),
    "app.port": (3000, 3000),
    "app.health_check.path": ("/up", "/up"),
    "app.health_check.interval_seconds": (30, 30),
    "app.health_check.timeout_seconds": (7, 7),
    "app.health_check.healthy_threshold": (3, 3),
    "app.health_check.unhealthy_threshold": (4, 4),
    "app.instance_type": ("t3.medium", "t3.medium"),
    "app.capacity.min": (3, 3),
    "app.capacity.max": (7, 7),
    "app.environment.<NAME>": ({"GREETING": "hi"}, {"GREETING": "hi"}),
    "app.secrets.<NAME>": ({"DB_PASSWORD": "/shop/db-password"}, {"DB_PASSWORD": "/shop/db-password"}),
    "app.database_ports": ([3306, 6379], (3306, 6379)),
    "app.deregistration_delay_seconds": (45, 45),
    "app.machine_image": ("ami-0123456789abcdef0", "ami-0123456789abcdef0"),
    "app.scaling.cpu_target_percent": (70, 70),
    "app.scaling.requests_per_target": (500, 500),
    "app.alarms.error_rate_percent": (2, 2),
    "app.alarms.p99_latency_ms": (900, 900),
    "app.alarms.period_seconds": (10, 10),
    "build.context": ("src", "src"),  # a path, compared as one
    "build.dockerfile": ("docker/Dockerfile", "docker/Dockerfile"),
    "build.target": ("runtime", "runtime"),
    "build.args.<NAME>": ({"PYTHON_VERSION": "3.12"}, {"PYTHON_VERSION": "3.12"}),
    "build.push_latest": (True, True),
    "registry.url": ("ghcr.io/acme/shop", "ghcr.io/acme/shop"),
    "registry.username_env": ("GHCR_USER", "GHCR_USER"),
    "registry.password_env": ("GHCR_TOKEN", "GHCR_TOKEN"),
    "registry.keep_images": (50, 50),
    "registry.credentials": ("/shop/registry", "/shop/registry"),
    "deploy.strategy": ("blue-green", "blue-green"),
    "deploy.traffic": ("dns", "dns"),
    "deploy.canary.judge.confidence_percent": (98, 98.0),
    "deploy.canary.judge.max_error_increase_points": (1, 1.0),
    "deploy.canary.judge.max_latency_increase_percent": (50, 50.0),
    "deploy.canary.judge.min_requests": (200, 200),
    "deploy.max_batch_size": (2, 2),
    "deploy.signal_timeout_seconds": (900, 900),
    "deploy.rolling_bake_seconds": (120, 120),
    "deploy.kept_release_capacity": ("warm", "warm"),
    "deploy.canary.steps": ([5, 25, 100], (5.0, 25.0, 100.0)),
    "deploy.canary.bake_seconds": (120, 120),
    "deploy.canary.alarms": (["shop-queue-depth"], ("shop-queue-depth",)),
    "deploy.keep_releases": (2, 2),
    "deploy.dns_ttl_seconds": (30, 30),
    "hooks.before_deploy": (["make migrate"], ("make migrate",)),
    "hooks.after_deploy": (["./smoke-test"], ("./smoke-test",)),
    "hooks.timeout_seconds": (120, 120),
    "notifications.slack_webhook_url_env": ("SHOP_SLACK_WEBHOOK", "SHOP_SLACK_WEBHOOK"),
    "notifications.sns_topic_arn": ("arn:aws:sns:eu-central-1:123456789012:deploys",
                                    "arn:aws:sns:eu-central-1:123456789012:deploys"),
    "notifications.github_repository": ("acme/shop", "acme/shop"),
    "notifications.github_token_env": ("SHOP_GITHUB_TOKEN", "SHOP_GITHUB_TOKEN"),
    "notifications.github_api_url": ("https://github.example.com/api/v3",
                                     "https://github.example.com/api/v3"),
    "account.id": ("123456789012", "123456789012"),
    "account.region": ("eu-central-1", "eu-central-1"),
    "account.availability_zones": (["eu-central-1a", "eu-central-1b", "eu-central-1c"],
                                   ("eu-central-1a", "eu-central-1b", "eu-central-1c")),
    "account.log_retention_days": (90, 90),
    "profile": ("lean", "lean"),
    "hosted_zone.name": ("example.org", "example.org"),
    "hosted_zone.id": ("Z9876543210XYZ", "Z9876543210XYZ"),
    "environments.<name>.cidr": ("10.20.0.0/16", ipaddress.IPv4Network("10.20.0.0/16")),
    "environments.<name>.domain": ("shop-qa.example.org", "shop-qa.example.org"),
    "environments.<name>.nat_gateways": (2, 2),
    "environments.<name>.nat": ("gateway", "gateway"),
    # Its other value, shared, cannot go with deploy.traffic: dns above (each release has
    # its own load balancer); tests/test_shared_load_balancer.py reads it.
    "environments.<name>.load_balancer": ("own", "own"),
    # An environment's own settings: a value of its own, or added to the application's.
    "environments.<name>.app.instance_type": ("t3.micro", "t3.micro"),
    "environments.<name>.app.capacity.min": (1, 1),
    "environments.<name>.app.capacity.max": (3, 3),
    "environments.<name>.app.scaling.cpu_target_percent": (40, 40),
    "environments.<name>.app.scaling.requests_per_target": (2000, 2000),
    "environments.<name>.app.environment.<NAME>": ({"STAGE": "qa"}, {"GREETING": "hi", "STAGE": "qa"}),
    "environments.<name>.app.secrets.<NAME>": ({"QA_TOKEN": "/shop/qa-token"},
                                               {"DB_PASSWORD": "/shop/db-password",
                                                "QA_TOKEN": "/shop/qa-token"}),
    "environments.<name>.app.machine_image": ("ami-0fedcba9876543210", "ami-0fedcba9876543210"),
}
# A file with only what is required, to show that each value above changed something.
REQUIRED_ONLY = {"app": {"name": "web"}, "account": {"id": "111111111111"},
                 "hosted_zone": {"name": "example.com", "id": "Z0123456789ABC"},
                 "environments": {"qa": {"cidr": "10.0.0.0/16"}}}


def _set(data: dict, path: str, value) -> None:
    *parents, last = path.replace("<name>", "qa").split(".")
    for part in parents:
        data = data.setdefault(part, {})
    if last == "<NAME>":
        data.update(value)  # the variables themselves are the keys
    else:
        data[last] = value


def _get(config, path: str):
    value = config
    if path.startswith("environments.<name>.app."):
        value, path = config.app_in("qa"), path.removeprefix("environments.<name>.app.")
    elif path.startswith("environments.<name>."):
        return getattr(config.environment("qa"), path.rsplit(".", 1)[1])
    for part in path.split("."):
        if part == "<NAME>":
            return dict(value)
        value = getattr(value, part)
    return value.as_posix() if hasattr(value, "as_posix") else value


def test_the_reference_covers_every_key_the_loader_accepts(write_config):
    """Every key of the reference table, set to a value that is not its default, lands
    where it belongs in the config object (and the table keeps its defaults explained)."""
    assert sorted(EVERY_KEY) == sorted(key.path for key in KEYS)
    assert all(key.default and key.meaning for key in KEYS)
    data: dict = {}
    for path, (value, _) in EVERY_KEY.items():
        _set(data, path, value)
    config = load_config(write_config(yaml.safe_dump(data, sort_keys=False)))
    baseline = load_config(write_config(yaml.safe_dump(REQUIRED_ONLY), name="required.yml"))
    landed = {path: _get(config, path) for path in EVERY_KEY}
    assert landed == {path: expected for path, (_, expected) in EVERY_KEY.items()}
    unchanged = [path for path in EVERY_KEY if _get(baseline, path) == landed[path]
                 and path != "environments.<name>.load_balancer"]
    assert unchanged == []  # each value differs from what the key gives when left out


def test_environment_cidrs_are_networks(write_config):
    config = load_config(config_with(write_config))
    assert isinstance(config.environment("staging").cidr, ipaddress.IPv4Network)


def test_domains_default_per_environment(write_config):
    config = load_config(config_with(write_config))
    assert config.environment("production").domain == "web.example.com"
    assert config.environment("staging").domain == "web.staging.example.com"


def test_domain_outside_the_hosted_zone(write_config):
    message = one_problem(config_with(write_config, environments={
        "production": {"cidr": "10.1.0.0/16", "domain": "web.example.org"}}))
    assert "environments.production.domain: 'web.example.org' is outside the hosted zone 'example.com'" in message


def test_domain_needs_a_hosted_zone(write_config):
    path = config_with(write_config, hosted_zone=None,
                       environments={"production": {"cidr": "10.1.0.0/16", "domain": "web.example.com"}})
    assert "needs hosted_zone" in one_problem(path)


def test_capacity_must_leave_room_for_a_batch(write_config):
    message = one_problem(config_with(write_config, app={"name": "web", "capacity": {"min": 2, "max": 2}}))
    assert "app.capacity.max: 2 leaves no room to replace instances" in message
    assert "needs max >= 3" in message
    message = one_problem(config_with(write_config, app={"name": "web", "capacity": {"min": 2, "max": 3}},
                                      deploy={"max_batch_size": 2}))
    assert "deploy.max_batch_size (2) needs max >= 4" in message


@pytest.mark.parametrize("section, values, expected", [
    ("deploy", {"strategy": "canary"}, "deploy.strategy: 'canary' is not a strategy; use rolling or blue-green"),
    ("deploy", {"signal_timeout_seconds": 30}, "deploy.signal_timeout_seconds: 30 is out of range"),
    ("deploy", {"rolling_bake_seconds": -1}, "deploy.rolling_bake_seconds: -1 is out of range"),
    ("deploy", {"kept_release_capacity": "hot"}, "deploy.kept_release_capacity: 'hot'"),
    ("app", {"name": "web", "machine_image": "ubuntu"}, "app.machine_image: 'ubuntu' is not an AMI id"),
    ("app", {"name": "web", "deregistration_delay_seconds": 4000}, "app.deregistration_delay_seconds: 4000 is out of range"),
    ("app", {"name": "web", "alarms": {"period_seconds": 45}},
     "app.alarms.period_seconds: 45 is not a period CloudWatch accepts; use 10, 30 or a multiple of 60"),
    ("app", {"name": "web", "alarms": {"period_seconds": "1m"}}, "app.alarms.period_seconds: '1m' is not a whole number"),
    ("registry", {"url": "https://ghcr.io/acme/web"}, "registry.url: 'https://ghcr.io/acme/web' is not an image repository"),
    ("registry", {"url": "ghcr.io/acme/web", "username_env": "GHCR_USER"}, "set both username_env and password_env"),
    ("registry", {"username_env": "U", "password_env": "P"}, "is only for registry.url"),
    ("build", {"context": "../elsewhere"}, "build.context: '../elsewhere' must be a path inside the application's folder"),
    ("build", {"push_latest": "yes please"}, "build.push_latest: 'yes please' must be true or false"),
])
def test_build_registry_and_deploy_settings(write_config, section, values, expected):
    assert expected in one_problem(config_with(write_config, **{section: values}))


def test_empty_optional_values_mean_the_default(write_config):
    config = load_config(config_with(write_config, registry={"url": ""}, build={"target": ""}))
    assert config.registry.is_ecr and config.build.target == ""


def test_canary_settings(write_config):
    config = load_config(config_with(write_config, deploy={
        "strategy": "blue-green", "canary": {"steps": [5, 25, 100], "bake_seconds": 60,
                                             "alarms": ["db-cpu-high"]}, "keep_releases": 2}))
    assert config.deploy.canary.steps == (5.0, 25.0, 100.0)
    assert config.deploy.canary.alarms == ("db-cpu-high",) and config.deploy.keep_releases == 2
    for steps, expected in (([50, 10, 100], "must rise strictly"), ([10, 50], "end at 100"),
                            ("10,100", "list of percentages"), ([0, 100], "above 0")):
        message = one_problem(config_with(write_config, deploy={"canary": {"steps": steps}}))
        assert "deploy.canary.steps" in message and expected in message
    assert "deploy.keep_releases: 9 is out of range" in one_problem(
        config_with(write_config, deploy={"keep_releases": 9}))


def test_the_names_kept_from_botocore_are_botocores_and_a_damaged_copy_is_read_again(tmp_path, monkeypatch):
    """Regions and instance types come from botocore's data; they are kept per botocore
    version under XDG_CACHE_HOME so validation does not read the EC2 model every run."""
    import json

    from wimpy_domain.config import aws_limits

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    aws_limits._aws_names.cache_clear()
    fresh = aws_limits._names_from_botocore()
    assert "eu-west-1" in fresh["regions"] and "t3.small" in fresh["instance_types"]
    assert aws_limits.known_regions() == frozenset(fresh["regions"])
    kept = aws_limits.names_cache()
    assert kept.parent == tmp_path / "wimpy" and json.loads(kept.read_text()) == fresh
    kept.write_text('{"regions": ["eu-west-1"], "instance_types": 7}')  # damaged
    aws_limits._aws_names.cache_clear()
    assert aws_limits.known_instance_types() == frozenset(fresh["instance_types"])
    assert json.loads(kept.read_text()) == fresh
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # no folder can be made there: only slower
    aws_limits._aws_names.cache_clear()
    assert aws_limits.known_regions() == frozenset(fresh["regions"])
    aws_limits._aws_names.cache_clear()
