"""wimpy.yml's `hooks` and `notifications` sections: defaults, what is accepted, and a
message naming the key, the bad value and what would do for everything else."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from wimpy_domain.config import load_config
from wimpy_domain.config.model import HooksConfig, NotificationsConfig
from tests.test_config import one_problem, problems

BASE = {
    "app": {"name": "web"},
    "account": {"id": "123456789012", "region": "eu-west-1"},
}


def write(write_config, **sections) -> object:
    return write_config(yaml.safe_dump({**BASE, **sections}, sort_keys=False))


def test_without_the_sections_there_are_no_hooks_and_no_notifications(write_config):
    config = load_config(write(write_config))
    assert config.hooks == HooksConfig(before_deploy=(), after_deploy=(), timeout_seconds=600)
    assert config.notifications == NotificationsConfig()
    assert config.notifications.github_token_env == "GITHUB_TOKEN"
    assert config.notifications.github_api_url == "https://api.github.com"
    assert not config.notifications.any


def test_every_key_is_read(write_config):
    config = load_config(write(
        write_config,
        hooks={"before_deploy": ["./scripts/check.sh", "make migrations"],
               "after_deploy": ['curl -fsS "$WIMPY_URL/health"'], "timeout_seconds": 120},
        notifications={"slack_webhook_url_env": "SLACK_WEBHOOK_URL",
                       "sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:deploys",
                       "github_repository": "acme/hello", "github_token_env": "DEPLOY_TOKEN",
                       "github_api_url": "https://github.example.com/api/v3/"}))
    assert config.hooks.before_deploy == ("./scripts/check.sh", "make migrations")
    assert config.hooks.after_deploy == ('curl -fsS "$WIMPY_URL/health"',)
    assert config.hooks.timeout_seconds == 120
    notifications = config.notifications
    assert notifications.slack_webhook_url_env == "SLACK_WEBHOOK_URL"
    assert notifications.sns_topic_arn == "arn:aws:sns:eu-west-1:123456789012:deploys"
    assert notifications.github_repository == "acme/hello"
    assert notifications.github_token_env == "DEPLOY_TOKEN"
    assert notifications.github_api_url == "https://github.example.com/api/v3"  # no trailing /
    assert notifications.any


def test_the_objects_are_frozen(write_config):
    config = load_config(write(write_config, hooks={"before_deploy": ["true"]}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.hooks.timeout_seconds = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.notifications.sns_topic_arn = "x"  # type: ignore[misc]
    assert isinstance(config.hooks.before_deploy, tuple)


def test_empty_sections_and_values_mean_the_defaults(write_config):
    path = write_config("app: {name: web}\naccount: {id: '123456789012'}\nhooks:\n"
                        "notifications:\n  sns_topic_arn: ''\n  github_repository:\n")
    config = load_config(path)
    assert config.hooks == HooksConfig() and config.notifications == NotificationsConfig()


@pytest.mark.parametrize("value, expected", [
    ("./deploy-check.sh", "hooks.before_deploy: './deploy-check.sh' must be a list of shell "
                          "commands, e.g. [./scripts/migrate.sh]"),
    ({"run": "x"}, "hooks.before_deploy: {'run': 'x'} must be a list of shell commands"),
    (["ok", ""], "hooks.before_deploy: ['ok', ''] has '' at position 2; each entry must be a "
                 "non-empty shell command"),
    (["ok", "   "], "has '   ' at position 2"),
    ([42], "has 42 at position 1; each entry must be a non-empty shell command (quote it"),
    ([["nested"]], "has ['nested'] at position 1"),
])
def test_hooks_must_be_lists_of_non_empty_commands(write_config, value, expected):
    assert expected in one_problem(write(write_config, hooks={"before_deploy": value}))


def test_after_deploy_is_checked_the_same_way(write_config):
    message = one_problem(write(write_config, hooks={"after_deploy": "curl x"}))
    assert "hooks.after_deploy: 'curl x' must be a list of shell commands" in message


@pytest.mark.parametrize("value, fragment", [
    (0, "0 is out of range; use a whole number from 1 to 3600"),
    (3601, "3601 is out of range; use a whole number from 1 to 3600"),
    ("ten", "'ten' is not a whole number; use one from 1 to 3600"),
    (True, "true is not a whole number"),
])
def test_hook_timeout_is_1_to_3600_seconds(write_config, value, fragment):
    message = one_problem(write(write_config, hooks={"timeout_seconds": value}))
    assert "hooks.timeout_seconds" in message and fragment in message


def test_the_edges_of_the_timeout_are_accepted(write_config):
    assert load_config(write(write_config, hooks={"timeout_seconds": 1})).hooks.timeout_seconds == 1
    assert load_config(write(write_config, hooks={"timeout_seconds": 3600})).hooks.timeout_seconds == 3600


def test_unknown_keys_are_reported_with_a_suggestion(write_config):
    message = one_problem(write(write_config, hooks={"before_deploys": ["x"]}))
    assert "hooks.before_deploys: is not a known key; did you mean 'before_deploy'?" in message
    message = one_problem(write(write_config, notifications={"slack_webhook_url": "https://x"}))
    assert "notifications.slack_webhook_url: is not a known key; did you mean " \
           "'slack_webhook_url_env'?" in message


def test_a_section_that_is_not_a_mapping_is_reported(write_config):
    message = one_problem(write(write_config, hooks=["./check.sh"]))
    assert "hooks: ['./check.sh'] is not a mapping of keys to values" in message


@pytest.mark.parametrize("arn", [
    "arn:aws:sns:eu-west-1:123456789012:deploys",
    "arn:aws:sns:eu-west-1:123456789012:deploy-events_2",
    "arn:aws:sns:eu-west-1:210987654321:other-account-topic",
    "arn:aws:sns:eu-west-1:123456789012:deploys.fifo",
])
def test_topic_arns_that_are_accepted(write_config, arn):
    config = load_config(write(write_config, notifications={"sns_topic_arn": arn}))
    assert config.notifications.sns_topic_arn == arn


def test_other_partitions_are_accepted(write_config):
    path = write_config(yaml.safe_dump({
        "app": {"name": "web"}, "account": {"id": "123456789012", "region": "us-gov-west-1",
                                            "availability_zones": ["us-gov-west-1a", "us-gov-west-1b"]},
        "notifications": {"sns_topic_arn": "arn:aws-us-gov:sns:us-gov-west-1:123456789012:d"}}))
    assert load_config(path).notifications.sns_topic_arn.startswith("arn:aws-us-gov:sns:")


@pytest.mark.parametrize("arn", [
    "deploys",  # a name, not an ARN
    "arn:aws:sns:eu-west-1:12345678901:deploys",  # 11 digits
    "arn:aws:sqs:eu-west-1:123456789012:deploys",  # a queue
    "arn:aws:sns:eu-west-1:123456789012:",  # no name
    "arn:aws:sns:eu-west-1:123456789012:bad name",
    "arn:azure:sns:eu-west-1:123456789012:deploys",
    "https://sns.eu-west-1.amazonaws.com/123456789012/deploys",
])
def test_topic_arns_that_are_refused(write_config, arn):
    message = one_problem(write(write_config, notifications={"sns_topic_arn": arn}))
    assert f"notifications.sns_topic_arn: {arn!r} is not an SNS topic ARN; write it like " \
           "arn:aws:sns:eu-west-1:123456789012:deploys" in message


def test_a_topic_in_another_region_is_refused(write_config):
    message = one_problem(write(write_config, notifications={
        "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:deploys"}))
    assert "'arn:aws:sns:us-east-1:123456789012:deploys' is in us-east-1, but Wimpy publishes " \
           "in account.region (eu-west-1); use a topic there" in message


@pytest.mark.parametrize("repository", ["acme/hello", "Acme-Corp/hello.web", "a/b_c-d.e"])
def test_github_repositories_that_are_accepted(write_config, repository):
    config = load_config(write(write_config, notifications={"github_repository": repository}))
    assert config.notifications.github_repository == repository


@pytest.mark.parametrize("repository", [
    "hello", "acme/hello/extra", "https://github.com/acme/hello", "acme/hello.git",
    "-acme/hello", "acme/", "/hello", "acme/hel lo",
])
def test_github_repositories_that_are_refused(write_config, repository):
    message = one_problem(write(write_config, notifications={"github_repository": repository}))
    assert f"notifications.github_repository: {repository!r} is not a GitHub repository; " \
           "write it as owner/repo, e.g. acme/hello" in message


@pytest.mark.parametrize("key", ["slack_webhook_url_env", "github_token_env"])
@pytest.mark.parametrize("value", ["https://hooks.slack.com/services/T000/B000/XXXX",
                                   "1TOKEN", "MY-TOKEN", "ghp_secret value"])
def test_variable_names_must_be_variable_names_not_secrets(write_config, key, value):
    message = one_problem(write(write_config, notifications={key: value}))
    assert f"notifications.{key}: {value!r} is not an environment variable name" in message
    assert "never the secret itself" in message


@pytest.mark.parametrize("url, expected", [
    ("https://github.example.com/api/v3", "https://github.example.com/api/v3"),
    ("https://api.github.com/", "https://api.github.com"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),  # a local stand-in, for tests
    ("http://localhost:9000/api", "http://localhost:9000/api"),
])
def test_github_api_urls_that_are_accepted(write_config, url, expected):
    config = load_config(write(write_config, notifications={"github_api_url": url}))
    assert config.notifications.github_api_url == expected


@pytest.mark.parametrize("url, fragment", [
    ("http://github.example.com/api/v3", "must be an https URL, e.g. https://api.github.com"),
    ("github.example.com", "must be an https URL"),
    ("ftp://github.example.com", "must be an https URL"),
    ("https://", "is not a URL of an API root"),
    ("https://github.example.com/api?x=1", "is not a URL of an API root"),
    ("https://user:pw@github.example.com/api/v3", "must not hold credentials"),
])
def test_github_api_urls_that_are_refused(write_config, url, fragment):
    message = one_problem(write(write_config, notifications={"github_api_url": url}))
    assert f"notifications.github_api_url: {url!r} {fragment}" in message


def test_every_problem_is_reported_at_once_with_its_line(write_config):
    path = write_config(
        "app: {name: web}\n"
        "account: {id: '123456789012'}\n"
        "hooks:\n"
        "  before_deploy: ./x.sh\n"
        "  timeout_seconds: 0\n"
        "notifications:\n"
        "  sns_topic_arn: nope\n"
        "  github_repository: nope\n"
        "  github_token_env: 9\n")
    found = problems(path)
    assert len(found) == 5, found
    assert any(p.startswith(f"{path}:4: hooks.before_deploy:") for p in found), found
    assert any(p.startswith(f"{path}:5: hooks.timeout_seconds:") for p in found), found
    assert any(p.startswith(f"{path}:7: notifications.sns_topic_arn:") for p in found), found
    assert any(p.startswith(f"{path}:8: notifications.github_repository:") for p in found), found
    assert any(p.startswith(f"{path}:9: notifications.github_token_env: 9 is not an environment "
                            "variable name") for p in found), found


def test_the_validate_command_accepts_the_sections(write_config):
    from typer.testing import CliRunner

    from wimpy_cli.main import app

    path = write(write_config, hooks={"before_deploy": ["true"]},
                 notifications={"slack_webhook_url_env": "SLACK_WEBHOOK_URL"})
    result = CliRunner().invoke(app, ["validate", "-c", str(path)])
    assert result.exit_code == 0, result.output
