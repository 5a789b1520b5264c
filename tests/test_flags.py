"""Bad flags are refused with exit 2 and a message that names the flag, the value (cut to a
bounded length) and what would be accepted: flags that exclude each other, image
references, every numeric option of every command (enumerated from the app), and input
files that cannot be read (the price table included)."""

from __future__ import annotations

import inspect
import typing

import pytest
from typer.testing import CliRunner

from wimpy_cli.commands.common import IMAGE_EXAMPLE, image_reference_problem
from wimpy_cli.errors import ExitCode
from wimpy_cli.main import app
from tests.conftest import EXAMPLE
from tests.test_failure_paths import COMMANDS, REGISTERED, command_line, isolated, template  # noqa: F401

runner = CliRunner()
DIGEST = "sha256:" + "0123456789abcdef" * 4


def refused(args, env=None):
    result = runner.invoke(app, args, env=env)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exit_code == ExitCode.USAGE == 2, output
    return output


def deploy(*args):
    return ["deploy", "-c", str(EXAMPLE), "--env", "staging", "--version", "v1", *args]


def test_image_and_skip_build_exclude_each_other(isolated):
    output = refused(deploy("--image", f"registry.example.com/hello:v1", "--skip-build"))
    assert "--image and --skip-build cannot be used together" in output


@pytest.mark.parametrize("value, why", [
    ("", "is empty"),
    ("registry.example.com/hello", "neither a tag nor a digest"),
    ("registry.example.com/hello:v1 ", "whitespace"),
    ("registry.example.com/hello:v1\nrm -rf /", "whitespace"),
    ("registry.example.com/h\u00e9llo:v1", "non-ASCII"),
    ("registry.example.com/Hello:v1", "repository part 'Hello'"),
    ("registry.example.com/hello:-v1", "tag '-v1'"),
    ("registry.example.com/hello@sha256:abc", "digest"),
    ("registry.example.com/hello@md5:" + "0" * 32, "digest"),
    ("bad_host.example.com/hello:v1", "registry"),
    ("registry.example.com//hello:v1", "repository part ''"),
    ("r.example.com/" + "a" * 300 + ":v1", "longer than 255"),
])
def test_an_image_that_is_not_a_reference_is_refused(value, why, isolated):
    output = refused(deploy("--image", value))
    assert "--image " in output and why in output
    assert f"e.g. --image {IMAGE_EXAMPLE}" in output
    assert repr(value[:60]) in output  # the value, cut to a bounded length
    assert len(output) < 1200


@pytest.mark.parametrize("value", [
    "111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello:v1.4.2",
    "localhost:5000/hello:1",
    "registry.example.com:443/team/app-name/web_2:2026.01.01-rc1",
    "nginx:1.27",
    f"ghcr.io/acme/app@{DIGEST}",
    f"ghcr.io/acme/app:v1@{DIGEST}",
])
def test_image_references_that_are_accepted(value):
    assert image_reference_problem(value) is None


def numeric_options():
    """(command path, flag, minimum) of every option whose type is a number."""
    found = []
    for path, command in REGISTERED.items():
        signature = inspect.signature(command.callback)
        for param in command.params:
            annotation = signature.parameters[param.name].annotation
            if isinstance(annotation, str):
                annotation = eval(annotation, vars(inspect.getmodule(inspect.unwrap(command.callback))))  # noqa: S307
            kinds = set(typing.get_args(annotation)) or {annotation}
            if kinds & {int, float} and annotation is not bool:
                flag = next(opt for opt in param.opts if opt.startswith("--"))
                found.append((path, flag))
    return found


NUMERIC = numeric_options()


def test_the_numeric_options_are_found():
    flags = {flag for _, flag in NUMERIC}
    assert {"--deploys-per-month", "--nat-gb", "--capacity", "--boot-seconds",
            "--bake-seconds"} <= flags


@pytest.mark.parametrize("path, flag", NUMERIC, ids=lambda x: " ".join(x) if isinstance(x, tuple) else x)
@pytest.mark.parametrize("value", ["abc", "-1", "nan", "1e999", "12 apples"])
def test_every_numeric_option_names_flag_value_and_range(path, flag, value, isolated, template):
    output = refused([*command_line(path, EXAMPLE, isolated, template), flag, value])
    assert f"{flag} {value}: out of range" in output or (
        f"{flag} {value!r}: not a" in output), output
    assert "or more" in output or " to " in output  # the accepted range
    assert f"e.g. {flag} " in output


def test_a_missing_price_table_is_a_bad_input(isolated, monkeypatch):
    monkeypatch.setattr("wimpy_cli.estimate.cost.PRICES_FILE", isolated / "gone" / "prices.json")
    output = refused(["cost", "-c", str(EXAMPLE)])
    assert "the price table" in output and str(isolated / "gone" / "prices.json") in output
    assert "--prices" in output


@pytest.mark.parametrize("content, words", [
    (None, ["is a folder"]),
    ("{not json", ["cannot read the price table"]),
    ('{"region": "eu-west-1"}', ["lacks"]),
])
def test_a_bad_prices_file_is_a_bad_input_naming_the_flag(content, words, isolated):
    path = isolated / "prices.json"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    output = refused(["cost", "-c", str(EXAMPLE), "--prices", str(path)])
    assert f"--prices {str(path)!r}" in output
    for word in words:
        assert word in output


@pytest.mark.parametrize("flag, named, args", [
    ("--prices", "--prices", ["cost", "-c", str(EXAMPLE)]),
    ("--template", "--template", ["plan", "-c", str(EXAMPLE), "--env", "staging"]),
    ("-o", "-o/--out", ["synth", "-c", str(EXAMPLE)]),
    ("-p", "-p/--path", ["init"]),
    ("-c", "-c/--config", ["status", "--env", "staging"]),
])
def test_an_empty_path_names_the_flag(flag, named, args, isolated):
    output = refused([*args, flag, ""])
    assert f"{named} '': the path is empty" in output


def test_init_path_that_is_a_folder(isolated):
    output = refused(["init", "--path", str(isolated)])
    assert f"-p/--path {str(isolated)!r}: is a folder" in output


@pytest.mark.parametrize("args, words", [
    (["--name", "web\n  port: 1"], ["--name 'web\\n  port: 1': not a plain word", "e.g. --name billing-api"]),
    (["--account-id", "12345"], ["--account-id: account.id: '12345' is not a 12-digit AWS account id"]),
    (["--region", "eu-west-9"], ["--region: account.region: 'eu-west-9' is not an AWS region"]),
    (["--region", "eu-west-1\"; x"], ["--region 'eu-west-1\"; x': not a plain word"]),
])
def test_init_names_the_flag_that_would_make_a_bad_file(args, words, isolated):
    target = isolated / "wimpy.yml"
    output = refused(["init", "--path", str(target), *args])
    for word in words:
        assert word in output, output
    assert not target.exists()


def test_a_huge_since_is_refused_by_name(isolated):
    output = refused(["logs", "-c", str(EXAMPLE), "--env", "staging", "--since", "9" * 200 + "d"])
    assert "--since: '999" in output and "(201 characters)" in output


@pytest.mark.parametrize("command", [["deploy", "--version", "v1"], ["rollback"]])
def test_an_alarm_period_only_the_local_target_can_honour_is_refused_before_any_aws_call(
        command, isolated):
    """A 10 s alarm period has no data on AWS (the load balancer's metrics come once a
    minute): a command that deploys an application stack to AWS refuses it, naming the key,
    before it looks for credentials (there are none here)."""
    import yaml

    config = isolated / "wimpy.yml"
    data = yaml.safe_load(EXAMPLE.read_text())
    data["app"]["alarms"] = {"period_seconds": 10}
    config.write_text(yaml.safe_dump(data))
    output = refused([command[0], "-c", str(config), "--env", "staging", *command[1:]])
    assert "app.alarms.period_seconds is 10" in output and "once a minute" in output
    assert "--local" in output and "credentials" not in output.lower()
