"""Every follow-up command Wimpy prints (`Next: ...`, `or: ...`, the unlock command of the
lock error, `Deploy first: ...`) is runnable as printed: it repeats the invocation's
`-c <path>` (here a path with a space, so it must be quoted) and `--local`. Each hint is
parsed with shlex and, where that is cheap, run as printed.

The scenarios run once per module against the embedded emulator (real CDK CLI and boto3);
the tests only read what they recorded, so their order does not matter."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_cli.errors import ExitCode
from wimpy_cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()


def invoke(args, **kwargs):
    result = runner.invoke(app, [str(a) for a in args], **kwargs)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return result


def hints(text: str, prefix: str = "Next:") -> list[list[str]]:
    """Every command after `prefix` (at the start of a line, spaces allowed), as words."""
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(prefix):
            found.append(shlex.split(stripped[len(prefix):]))
    return found


def run_hint(words, **kwargs):
    assert words[0] == "wimpy", words
    return invoke(words[1:], **kwargs)


def carries(words, config, *, local=True) -> None:
    assert words[0] == "wimpy"
    assert "-c" in words and words[words.index("-c") + 1] == str(config), words
    assert ("--local" in words) == local, words


@pytest.fixture(scope="module")
def fake_clock():
    from wimpy_cli.release.canary import SystemClock

    waited: list[float] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SystemClock, "sleep", lambda self, seconds: waited.append(seconds))
        patch.setattr(SystemClock, "now", lambda self: sum(waited))
        yield


def write(folder, data):
    folder.mkdir()
    path = folder / "wimpy.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def rolling(emulator, tmp_path_factory):
    """The example, rolling, from a folder with a space in its name; what each step printed."""

    config = write(tmp_path_factory.mktemp("hints") / "my app", yaml.safe_load(EXAMPLE.read_text()))
    seen = {"config": config}
    c = ["-c", config]
    # Before anything is deployed to production: the hints that say to deploy first.
    seen["status"] = invoke(["status", *c, "--env", "production", "--local"])
    seen["logs"] = invoke(["logs", *c, "--env", "production", "--local"])
    seen["rollback"] = invoke(["rollback", *c, "--env", "production", "--local"])
    seen["deploy"] = invoke(["deploy", *c, "--env", "staging", "--version", "v1", "--local"])
    assert seen["deploy"].exit_code == 0, seen["deploy"].output
    (status,) = hints(seen["deploy"].stdout)
    seen["deploy hint run"] = run_hint(status)
    # WIMPY_TARGET=local instead of --local: the hint still names the target.
    seen["status by variable"] = invoke(["status", *c, "--env", "production"],
                                        env={"WIMPY_TARGET": "local"})
    # A lock left by a deploy on another machine.
    from tests.lock_support import plant_lock

    plant_lock(emulator.client("dynamodb"), "staging", "hello", by="ci@elsewhere", host="elsewhere",
               what="deploy v0")
    seen["locked"] = invoke(["deploy", *c, "--env", "staging", "--version", "v2", "--local"])
    (unlock,) = hints(seen["locked"].stderr, prefix="wimpy unlock")
    seen["unlock hint"] = ["wimpy", "unlock", *unlock]
    seen["unlock hint run"] = run_hint(seen["unlock hint"], input="y\n")
    seen["baseline"] = invoke(["baseline", *c, "--env", "staging", "--local"])
    return seen


@pytest.fixture(scope="module")
def blue_green(emulator, fake_clock, tmp_path_factory):
    """Another app, blue/green, from another folder with a space: a first release, a paused
    canary promoted one step then aborted, a third release, a rollback."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["app"]["name"] = "greet"
    data["deploy"] = {"strategy": "blue-green", "keep_releases": 1,
                      "canary": {"steps": [10, 50, 100], "bake_seconds": 60}}
    config = write(tmp_path_factory.mktemp("hints") / "blue green", data)
    seen = {"config": config}
    c = ["-c", config, "--env", "staging", "--local"]
    first = invoke(["deploy", *c, "--version", "v1"])
    assert first.exit_code == 0, first.output
    seen["paused"] = invoke(["deploy", *c, "--version", "v2", "--manual"])
    assert seen["paused"].exit_code == 0, seen["paused"].output
    seen["status paused"] = invoke(["status", *c])
    (promote,) = hints(seen["paused"].stdout)
    seen["promote"] = run_hint(promote)
    (abort,) = hints(seen["status paused"].stdout, prefix="Undo:")
    seen["abort"] = run_hint(abort)
    third = invoke(["deploy", *c, "--version", "v3"])
    assert third.exit_code == 0, third.output
    seen["rollback"] = invoke(["rollback", *c])
    return seen


# -- the commands that need no emulator ----------------------------------------------

def test_init_and_validate_hints_carry_the_path(tmp_path):
    target = tmp_path / "new app" / "wimpy.yml"
    target.parent.mkdir()
    result = invoke(["init", "--path", target, "--name", "web"])
    assert result.exit_code == 0, result.output
    (validate,) = hints(result.stderr)
    carries(validate, target, local=False)
    checked = run_hint(validate)
    assert checked.exit_code == 0, checked.output
    (synth,) = hints(checked.stdout)
    carries(synth, target, local=False)
    assert synth[:2] == ["wimpy", "synth"]


def test_an_invalid_config_hint_validates_the_same_file(tmp_path):
    target = tmp_path / "bad app" / "wimpy.yml"
    target.parent.mkdir()
    target.write_text("app: {name: Web}\naccount: {id: '123456789012'}\n")
    result = invoke(["status", "-c", target, "--env", "staging", "--local"])
    assert result.exit_code == ExitCode.INVALID_CONFIG
    (validate,) = hints(result.stderr, prefix="Nothing was deployed. Fix the lines above, then check the file again:")
    carries(validate, target, local=False)
    assert run_hint(validate).exit_code == ExitCode.INVALID_CONFIG


def test_plan_hint_carries_the_path(tmp_path):
    from tests.test_estimate import app_template

    folder = tmp_path / "plan me"
    config = write(folder, yaml.safe_load(EXAMPLE.read_text()))
    template = folder / "app.template.json"
    template.write_text(json.dumps(app_template()))
    result = invoke(["plan", "-c", config, "--env", "staging", "--template", template])
    assert result.exit_code == 0, result.output
    (deploy,) = hints(result.stdout)
    carries(deploy, config, local=False)
    assert deploy[:4] == ["wimpy", "deploy", "--env", "staging"]


def test_next_command_quotes_and_keeps_the_target(monkeypatch):
    from pathlib import Path

    from wimpy_cli.commands.common import next_command

    monkeypatch.delenv("WIMPY_TARGET", raising=False)
    line = next_command("status", env="staging", config=Path("it's here/wimpy.yml"), local=True)
    assert shlex.split(line) == ["wimpy", "status", "--env", "staging", "-c", "it's here/wimpy.yml", "--local"]
    assert next_command("synth", config=Path("wimpy.yml"), local=True) == "wimpy synth"  # no --local there


# -- rolling, on the emulator ---------------------------------------------------------

def test_deploy_hint_runs_as_printed(rolling):
    (status,) = hints(rolling["deploy"].stdout)
    carries(status, rolling["config"])
    assert status[:4] == ["wimpy", "status", "--env", "staging"]
    assert rolling["deploy hint run"].exit_code == 0, rolling["deploy hint run"].output
    assert "hello in staging (rolling)" in rolling["deploy hint run"].stdout


def test_status_hint_before_a_deploy(rolling):
    (deploy,) = hints(rolling["status"].stdout)
    carries(deploy, rolling["config"])
    assert deploy[:4] == ["wimpy", "deploy", "--env", "production"]


def test_status_hint_keeps_a_target_given_by_variable(rolling):
    (deploy,) = hints(rolling["status by variable"].stdout)
    carries(deploy, rolling["config"], local=True)


def test_logs_deploy_first_hint(rolling):
    assert rolling["logs"].exit_code == ExitCode.FAILED
    (deploy,) = hints(rolling["logs"].stderr, prefix="Deploy first:")
    carries(deploy, rolling["config"])


def test_rollback_where_nothing_was_deployed(rolling):
    result = rolling["rollback"]
    assert result.exit_code == ExitCode.FAILED, result.output
    # Said plainly, whether or not another deploy made the account's release record before.
    assert ("no release of hello is live in production; nothing to roll back" in result.stderr
            or "nothing of hello was ever deployed to production" in result.stderr), result.stderr
    (deploy,) = hints(result.stderr, prefix="Deploy first:")
    carries(deploy, rolling["config"])


def test_lock_error_unlock_hint_runs_as_printed(rolling):
    assert rolling["locked"].exit_code == ExitCode.LOCKED, rolling["locked"].output
    carries(rolling["unlock hint"], rolling["config"])
    assert rolling["unlock hint run"].exit_code == 0, rolling["unlock hint run"].output
    assert "Removed the deploy lock" in rolling["unlock hint run"].stderr


def test_baseline_hint(rolling):
    assert rolling["baseline"].exit_code == 0, rolling["baseline"].output
    (deploy,) = hints(rolling["baseline"].stdout)
    carries(deploy, rolling["config"])


# -- blue/green, on the emulator ------------------------------------------------------

def test_paused_deploy_hints_promote_and_abort(blue_green):
    out = blue_green["paused"].stdout
    (promote,), (abort,) = hints(out), hints(out, prefix="or:")
    for words, command in ((promote, "promote"), (abort, "abort")):
        carries(words, blue_green["config"])
        assert words[1] == command


def test_status_of_a_paused_canary_hints_promote_and_abort(blue_green):
    out = blue_green["status paused"].stdout
    (promote,), (abort,) = hints(out, prefix="Resume:"), hints(out, prefix="Undo:")
    carries(promote, blue_green["config"])
    carries(abort, blue_green["config"])


@pytest.mark.parametrize("step", ["promote", "abort", "rollback"])
def test_traffic_commands_ran_as_printed_and_hint_status(blue_green, step):
    result = blue_green[step]
    assert result.exit_code == 0, result.output
    (status,) = hints(result.stdout)
    carries(status, blue_green["config"])
    assert status[1] == "status"
