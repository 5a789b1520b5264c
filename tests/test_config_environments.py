"""An application's settings per environment (environments.<name>.app): what staging may
set differently from production, what it inherits, and the mistakes refused with the key
that made them."""

from __future__ import annotations

import copy

import pytest
import yaml

from wimpy_domain.config import ConfigError, load_config

BASE = {
    "app": {"name": "web", "instance_type": "t3.small", "capacity": {"min": 2, "max": 4},
            "environment": {"GREETING": "hi"}, "secrets": {"API_TOKEN": "/web/api-token"}},
    "account": {"id": "111111111111", "region": "eu-west-1"},
    "hosted_zone": {"name": "example.com", "id": "Z0123456789ABC"},
    "environments": {"staging": {"cidr": "10.0.0.0/16"}, "production": {"cidr": "10.1.0.0/16"}},
}


def write(write_config, staging_app=None, *, deploy=None, app=None):
    data = copy.deepcopy(BASE)
    if staging_app is not None:
        data["environments"]["staging"]["app"] = staging_app
    if deploy is not None:
        data["deploy"] = deploy
    if app is not None:
        data["app"].update(app)
    return write_config(yaml.safe_dump(data, sort_keys=False))


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


def test_an_environment_without_settings_of_its_own_runs_the_applications(write_config):
    config = load_config(write(write_config))
    assert config.app_in("staging") == config.app_in("production") == config.app


def test_an_environment_overrides_only_what_it_names(write_config):
    config = load_config(write(write_config, {
        "instance_type": "t3.micro", "capacity": {"min": 1}, "scaling": {"cpu_target_percent": 40},
        "environment": {"GREETING": "hi from staging", "DEBUG": "1"},
        "secrets": {"API_TOKEN": "/web/staging/api-token"},
        "machine_image": "ami-0123456789abcdef0"}))
    staging, production = config.app_in("staging"), config.app_in("production")
    assert staging.instance_type == "t3.micro" and production.instance_type == "t3.small"
    assert (staging.capacity.min, staging.capacity.max) == (1, 4)  # max is the application's
    assert staging.scaling.cpu_target_percent == 40
    assert staging.scaling.requests_per_target == production.scaling.requests_per_target
    assert dict(staging.environment) == {"GREETING": "hi from staging", "DEBUG": "1"}
    assert dict(staging.secrets) == {"API_TOKEN": "/web/staging/api-token"}
    assert staging.machine_image == "ami-0123456789abcdef0" and production.machine_image == ""
    assert dict(production.environment) == {"GREETING": "hi"}
    assert dict(production.secrets) == {"API_TOKEN": "/web/api-token"}
    # What is the application's own stays the same everywhere.
    assert (staging.name, staging.port, staging.health_check) == (
        production.name, production.port, production.health_check)


def test_an_application_key_that_is_not_per_environment_is_refused(write_config):
    [problem] = problems(write(write_config, {"port": 9090}))
    assert "environments.staging.app.port: is not a known key" in problem
    assert "known keys here: instance_type, capacity, scaling, environment, secrets, machine_image" in problem


@pytest.mark.parametrize("staging_app, expected", [
    ({"capacity": {"min": 3, "max": 2}},
     "environments.staging.app.capacity.min: 3 is above environments.staging.app.capacity.max (2)"),
    ({"capacity": {"max": 1}},
     "environments.staging.app.capacity.max: 1 is below app.capacity.min (2); max must be >= min"),
    ({"capacity": {"min": 4}},
     "environments.staging.app.capacity.max: 4 leaves no room to replace instances while keeping "
     "4 in service (capacity.min): a rolling deploy of a batch of one needs max >= 5"),
    ({"instance_type": "t3.smal"},
     "environments.staging.app.instance_type: 't3.smal' is not an EC2 instance type; did you mean"),
    ({"machine_image": "ubuntu"}, "environments.staging.app.machine_image: 'ubuntu' is not an AMI id"),
    ({"environment": {"API_TOKEN": "plain"}},
     "environments.staging.app.environment.API_TOKEN: 'API_TOKEN' is a secret in app.secrets; "
     "give each variable one source"),
    ({"secrets": {"GREETING": "/web/greeting"}},
     "environments.staging.app.secrets.GREETING: 'GREETING' is a plain variable in "
     "app.environment; give each variable one source"),
    ({"environment": {"PORT": "80"}}, "environments.staging.app.environment.PORT: 'PORT' is set by Wimpy itself"),
    ({"secrets": {"DB": "not a parameter"}}, "environments.staging.app.secrets.DB: 'not a parameter' is not an SSM parameter name"),
    ({"scaling": {"cpu_target_percent": 95}}, "environments.staging.app.scaling.cpu_target_percent: 95 is out of range"),
    ("big", "environments.staging.app: 'big' is not a mapping"),
])
def test_an_environments_bad_setting_is_named_by_its_own_key(write_config, staging_app, expected):
    [problem] = problems(write(write_config, staging_app))
    assert expected in problem


def test_a_full_application_capacity_is_reported_once_at_its_own_key(write_config):
    """Both environments run app.capacity: the one problem is there, not twice."""
    [problem] = problems(write(write_config, app={"capacity": {"min": 2, "max": 2}}))
    assert "app.capacity.max: 2 leaves no room" in problem
    # An environment that makes room for itself is fine; the other is still reported.
    [problem] = problems(write(write_config, {"capacity": {"max": 3}},
                               app={"capacity": {"min": 2, "max": 2}}))
    assert "app.capacity.max: 2 leaves no room" in problem and "environments." not in problem


@pytest.mark.parametrize("capacity, batch", [
    ({"min": 2, "max": 4}, 2),   # the whole group at once: 200%
    ({"min": 2, "max": 3}, 1),   # as much as max leaves room for
    ({"min": 3, "max": 10}, 3),
    ({"min": 1, "max": 2}, 1),
])
def test_the_default_batch_is_the_whole_group_where_capacity_allows(write_config, capacity, batch):
    config = load_config(write(write_config, app={"capacity": capacity}))
    assert config.deploy.max_batch_size is None
    assert config.deploy.batch_for(config.app.capacity) == batch


def test_a_batch_size_is_all_or_a_number(write_config):
    config = load_config(write(write_config, deploy={"max_batch_size": 1}))
    assert config.deploy.batch_for(config.app.capacity) == 1
    assert load_config(write(write_config, deploy={"max_batch_size": "all"})).deploy.max_batch_size is None
    [problem] = problems(write(write_config, deploy={"max_batch_size": "everything"}))
    assert ("deploy.max_batch_size: 'everything' is not a batch size; use all (the whole group "
            "at once, where app.capacity.max leaves room) or a whole number from 1 to 100") in problem
