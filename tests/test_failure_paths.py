"""Every command registered on the `wimpy` app, walked through the failures a user's setup
can cause: an invalid wimpy.yml, a missing one, an unknown --env, an AWS profile that does
not exist, an endpoint that does not answer. Each must end in one clear message (naming
the thing) and the documented exit code, never a traceback.

The commands are enumerated from the app object: a command added to wimpy_cli/main.py without
an entry in COMMANDS below fails test_every_command_is_walked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import typer
import typer.core
import typer.main
from typer.testing import CliRunner

from wimpy_cli import reporting
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.main import app
from wimpy_cli.toolchain import PROJECT_ROOT
from tests.conftest import EXAMPLE

runner = CliRunner()

INVALID = "app: {name: Web}\naccount: {id: '123456789012'}\n"

# path -> how to run it: `args` beyond -c (an `--env staging` in them is the one replaced
# by a wrong one); `aws`: it calls AWS on the default target (so bad credentials and an
# unreachable endpoint must fail it, with exit 1); `offline`: it must succeed without any
# usable credentials (slow ones, synthesizing, are proven in tests/test_no_network.py).
COMMANDS: dict[tuple[str, ...], dict] = {
    ("init",): dict(config=False, args=["--path", "{tmp}/new wimpy.yml"], offline=True),
    ("validate",): dict(args=[], offline=True),
    ("synth",): dict(args=["-o", "{tmp}/out"], offline="tests/test_no_network.py"),
    ("diff",): dict(args=["--env", "staging"], aws=True),
    ("baseline",): dict(args=["--env", "staging"], aws=True),
    ("build",): dict(args=["--env", "staging", "--version", "v1"], aws=True),
    ("deploy",): dict(args=["--env", "staging", "--version", "v1"], aws=True),
    ("status",): dict(args=["--env", "staging"], aws=True),
    ("releases",): dict(args=["--env", "staging"], aws=True),
    ("promote",): dict(args=["--env", "staging"], aws=True),
    ("abort",): dict(args=["--env", "staging"], aws=True),
    ("rollback",): dict(args=["--env", "staging"], aws=True),
    ("destroy",): dict(args=["--env", "staging", "--yes"], aws=True),
    ("logs",): dict(args=["--env", "staging"], aws=True),
    ("open",): dict(args=["--env", "staging", "--print"], aws=True),
    ("exec",): dict(args=["--env", "staging", "--", "true"], aws=True),
    ("unlock",): dict(args=["--env", "staging", "--yes"], aws=True),
    ("plan",): dict(args=["--env", "staging", "--template", "{template}"], offline=True),
    ("cost",): dict(args=[], offline="tests/test_no_network.py"),
    ("schema",): dict(config=False, args=[], offline=True),
    ("local", "start"): dict(args=[], offline="starts an emulator; see test_local_start_failure"),
    ("local", "stop"): dict(config=False, args=[], offline=True),
    ("local", "status"): dict(config=False, args=[], offline=True),
    ("local", "env"): dict(config=False, args=[],
                           offline="needs a running emulator; see tests/test_local_lifecycle.py"),
}


def registered(group=None, prefix=()):
    """(path, click command) of every command of the app, sub-apps included."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if isinstance(command, typer.core.TyperGroup):
            yield from registered(command, (*prefix, name))
        else:
            yield (*prefix, name), command


REGISTERED = dict(registered())


def params(path) -> set[str]:
    return {param.name for param in REGISTERED[path].params}


def test_every_command_is_walked():
    assert set(REGISTERED) == set(COMMANDS), (
        "add the new command to COMMANDS (and its failure paths) in this file")
    for path, spec in COMMANDS.items():
        assert ("config" in params(path)) == spec.get("config", True), path
        if "local" in params(path):
            assert spec.get("aws"), path
    from wimpy_cli.commands.common import TARGET_COMMANDS

    # next_command adds --local to exactly the commands that take it.
    assert {path[0] for path in REGISTERED if "local" in params(path)} == TARGET_COMMANDS


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No emulator, no target, no config from the environment; no real credentials."""
    empty = tmp_path / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("WIMPY_LOCAL_STATE", str(tmp_path / "no-emulator.json"))
    for name in ("WIMPY_TARGET", "WIMPY_CONFIG", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                 "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return tmp_path


@pytest.fixture
def template(tmp_path):
    from tests.test_estimate import app_template

    path = tmp_path / "app.template.json"
    path.write_text(json.dumps(app_template()))
    return path


def command_line(path, config, tmp, template=None, env=None) -> list[str]:
    spec = COMMANDS[path]
    args = [a.format(tmp=tmp, template=template) for a in spec["args"]]
    if env is not None:
        if "--env" in args:
            args[args.index("--env") + 1] = env
        else:
            args += ["--env", env]
    return [*path, *(["-c", str(config)] if spec.get("config", True) else []), *args]


def run(args, env=None):
    result = runner.invoke(app, args, env=env)
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        f"{args} raised {result.exception!r}: {everything}")
    return result, everything


WITH_CONFIG = [p for p, s in COMMANDS.items() if s.get("config", True)]
WITH_ENV = [p for p in COMMANDS if "env" in params(p)]
ON_AWS = [p for p, s in COMMANDS.items() if s.get("aws")]
OFFLINE = [p for p, s in COMMANDS.items() if s.get("offline") is True]


@pytest.mark.parametrize("path", WITH_CONFIG, ids=" ".join)
def test_invalid_config_exits_3_naming_the_file_and_key(path, isolated, write_config):
    config = write_config(INVALID)
    result, output = run(command_line(path, config, isolated))
    assert result.exit_code == ExitCode.INVALID_CONFIG == 3, output
    assert f"problem in {config}" in output and "app.name: 'Web'" in output


@pytest.mark.parametrize("path", WITH_CONFIG, ids=" ".join)
def test_missing_config_exits_2_naming_the_flag_and_path(path, isolated):
    config = isolated / "no such folder" / "wimpy.yml"
    result, output = run(command_line(path, config, isolated))
    assert result.exit_code == ExitCode.USAGE == 2, output
    assert f"-c/--config {str(config)!r}: no such file" in output


@pytest.mark.parametrize("value, words", [
    ("", ["-c/--config ''", "empty"]),
    ("{tmp}", ["-c/--config '{tmp}'", "is a folder"]),
    ("{tmp}/unreadable.yml", ["-c/--config '{tmp}/unreadable.yml'", "cannot be read"]),
])
@pytest.mark.parametrize("path", [("validate",), ("deploy",), ("local", "start")], ids=" ".join)
def test_every_kind_of_bad_config_path_names_the_flag_and_value(path, value, words, isolated,
                                                                monkeypatch):
    value = value.format(tmp=isolated)
    if value.endswith("unreadable.yml"):
        Path(value).write_text("app: {name: web}\n")
        Path(value).chmod(0)
        if os.access(value, os.R_OK):  # root reads anything: make the open fail instead
            real_open = open

            def refusing(file, *args, **kwargs):
                if str(file) == value:
                    raise PermissionError(13, "Permission denied", value)
                return real_open(file, *args, **kwargs)
            monkeypatch.setattr("builtins.open", refusing)
    result, output = run(command_line(path, value, isolated))
    assert result.exit_code == ExitCode.USAGE, output
    for word in words:
        assert word.format(tmp=isolated) in output, output


@pytest.mark.parametrize("path", WITH_ENV, ids=" ".join)
def test_unknown_env_exits_2_naming_the_flag_value_and_choices(path, isolated, template):
    result, output = run(command_line(path, EXAMPLE, isolated, template, env="qa"))
    assert result.exit_code == ExitCode.USAGE == 2, output
    assert "--env: 'qa' is not an environment" in output
    assert "staging, production" in output


def test_a_huge_unknown_env_is_shown_bounded(isolated):
    name = "x" * 5000 + "\nfake line"
    result, output = run(["status", "-c", str(EXAMPLE), "--env", name])
    assert result.exit_code == ExitCode.USAGE and "--env" in output
    assert len(output) < 1000 and "\nfake line" not in output


@pytest.mark.parametrize("path", ON_AWS, ids=" ".join)
def test_a_profile_that_does_not_exist_exits_1_naming_it(path, isolated):
    result, output = run(command_line(path, EXAMPLE, isolated),
                         env={"AWS_PROFILE": "doesnotexist"})
    assert result.exit_code == ExitCode.FAILED, output
    assert "profile" in output and "doesnotexist" in output


@pytest.mark.parametrize("path", ON_AWS, ids=" ".join)
def test_an_unreachable_endpoint_exits_1_naming_it(path, isolated):
    result, output = run(command_line(path, EXAMPLE, isolated),
                         env={"AWS_ENDPOINT_URL": "http://localhost:1",
                              "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"})
    assert result.exit_code == ExitCode.FAILED, output
    assert "localhost:1" in output and ("could not reach AWS" in output or path == ("build",))


@pytest.mark.parametrize("path", OFFLINE, ids=" ".join)
def test_offline_commands_need_no_credentials(path, isolated, template):
    result, output = run(command_line(path, EXAMPLE, isolated, template),
                         env={"AWS_PROFILE": "doesnotexist"})
    assert result.exit_code == 0, output


def test_local_start_failure_is_one_message(isolated, monkeypatch):
    """Any failure of `wimpy local start` (a sub-app's command) is reported like the others:
    here, the state file's folder cannot be created."""
    blocker = isolated / "a file"
    blocker.write_text("")
    monkeypatch.setenv("WIMPY_LOCAL_STATE", str(blocker / "local.json"))
    result, output = run(["local", "start", "-c", str(EXAMPLE)])
    assert result.exit_code == ExitCode.FAILED, output
    assert f"Error: cannot use {str(blocker)!r}" in output


def test_rollback_where_nothing_was_deployed_is_one_message(isolated, monkeypatch):
    """A rolling rollback in an environment never deployed: the stack does not exist."""
    import contextlib

    import boto3
    from moto import mock_aws

    from wimpy_cli.targets import Target

    @contextlib.contextmanager
    def empty_account(config, *, local, phases):
        with mock_aws():
            yield Target(name="aws", client=lambda service: boto3.client(
                service, region_name="eu-west-1", aws_access_key_id="testing",
                aws_secret_access_key="testing"))

    monkeypatch.setattr("wimpy_cli.targets.open_target", empty_account)
    result, output = run(["rollback", "-c", str(EXAMPLE), "--env", "staging"])
    assert result.exit_code == ExitCode.FAILED, output
    assert "nothing of hello was ever deployed to staging" in output
    assert "Deploy first: wimpy deploy --env staging -c" in output


# -- the emulator going away in the middle of a command -------------------------------

@pytest.fixture
def vanishing_emulator(isolated, monkeypatch):
    """A state file naming an 'emulator' that accepts connections and closes them without
    an answer, as a killed or restarting emulator does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            connection.recv(65536)
            connection.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    # The emulator the state file names was there when the command attached to it.
    state = {"endpoint": f"http://localhost:{server.getsockname()[1]}", "account_id": "111111111111",
             "region": "eu-west-1", "access_key_id": "testing", "secret_access_key": "testing",
             "machine_images": {}, "pid": os.getpid(), "token": "t"}
    monkeypatch.setattr("wimpy_cli.local.persistent.read_state", lambda: state)
    yield
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("args", [["deploy", "--version", "v1"], ["status"], ["rollback"]])
def test_the_emulator_going_away_is_one_message(vanishing_emulator, args):
    result, output = run([args[0], "-c", str(EXAMPLE), "--env", "staging", *args[1:], "--local"])
    assert result.exit_code == ExitCode.FAILED, output
    assert "could not reach AWS" in output and "wimpy local start" in output


# -- the classes of failure, one by one, behind the same wrapper ----------------------

def failing(error: BaseException):
    def command(local: bool = typer.Option(False, "--local")) -> None:
        raise error

    fake = typer.Typer()
    fake.command()(reporting.reports_errors(command))

    @fake.command()
    def other() -> None:
        pass
    return fake


def botocore_errors():
    import botocore.exceptions as aws

    return [
        (aws.ProfileNotFound(profile="nope"), ["AWS profile 'nope'"]),
        (aws.NoCredentialsError(), ["no usable AWS credentials"]),
        (aws.NoRegionError(), ["no AWS region"]),
        (aws.EndpointConnectionError(endpoint_url="http://localhost:9/"), ["could not reach AWS", "localhost:9"]),
        (aws.ConnectionClosedError(endpoint_url="http://localhost:9/"), ["could not reach AWS", "localhost:9"]),
        (aws.ClientError({"Error": {"Code": "AccessDenied", "Message": "not you"}}, "PutParameter"),
         ["AWS refused PutParameter (AccessDenied): not you"]),
        (PermissionError(13, "Permission denied", "/etc/secret.yml"), ["'/etc/secret.yml'", "Permission denied"]),
        (FileNotFoundError(2, "No such file or directory", "/x/Dockerfile"), ["'/x/Dockerfile'"]),
        (WimpyError("the thing", code=ExitCode.LOCKED), ["the thing"]),
    ]


@pytest.mark.parametrize("index", range(9))
def test_each_class_of_environment_failure_is_one_message(index):
    error, words = botocore_errors()[index]
    result = runner.invoke(failing(error), ["command"])
    output = result.stdout + result.stderr
    assert "Traceback" not in output and output.startswith("Error: ")
    expected = error.code if isinstance(error, WimpyError) else ExitCode.FAILED
    assert result.exit_code == expected, output
    for word in words:
        assert word in output


def test_a_bug_is_an_internal_error_without_traceback():
    result = runner.invoke(failing(KeyError("oops")), ["command"])
    output = result.stdout + result.stderr
    assert result.exit_code == ExitCode.FAILED and "Traceback" not in output
    assert "internal error: KeyError" in output and "--debug" in output


def test_ctrl_c_exits_130_with_one_line():
    result = runner.invoke(failing(KeyboardInterrupt()), ["command"])
    assert result.exit_code == 130
    assert "interrupted (Ctrl-C)" in result.stderr and "Traceback" not in result.stderr


def test_debug_still_shows_the_traceback():
    fake = failing(KeyError("oops"))

    @fake.callback()
    def _root(debug: bool = typer.Option(False, "--debug")) -> None:
        reporting.set_debug(debug)
    try:
        result = runner.invoke(fake, ["--debug", "command"])
    finally:
        reporting.set_debug(False)
    assert isinstance(result.exception, KeyError)


# -- the real entry point --------------------------------------------------------------

def wimpy(*args, env):
    environment = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "wimpy_cli", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=environment, timeout=120)


def test_the_installed_command_reports_a_missing_profile(tmp_path):
    empty = tmp_path / "config"
    empty.write_text("")
    result = wimpy("status", "-c", str(EXAMPLE), "--env", "staging",
                   env={"AWS_PROFILE": "doesnotexist", "AWS_CONFIG_FILE": str(empty),
                        "AWS_SHARED_CREDENTIALS_FILE": str(empty), "WIMPY_TARGET": None,
                        "WIMPY_LOCAL_STATE": str(tmp_path / "none.json")})
    assert result.returncode == ExitCode.FAILED, result.stderr
    assert "Traceback" not in result.stderr and "AWS profile 'doesnotexist'" in result.stderr


def test_the_installed_command_reports_a_local_start_failure(tmp_path):
    result = wimpy("local", "start", "-c", str(tmp_path / "missing.yml"),
                   env={"WIMPY_LOCAL_STATE": str(tmp_path / "none.json")})
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "Traceback" not in result.stderr and "-c/--config" in result.stderr
