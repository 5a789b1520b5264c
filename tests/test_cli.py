"""The wimpy command's behaviour: init, validate and synth, their output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from wimpy_cli.errors import ExitCode
from wimpy_cli.main import app
from wimpy_cli.toolchain import PROJECT_ROOT
from tests.conftest import EXAMPLE

runner = CliRunner()


def wimpy(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    """The installed command in a subprocess, as a user runs it (exit codes included).
    An env value of None removes that variable."""
    environment = {**os.environ, **(env or {})}
    environment = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "wimpy_cli", *args], capture_output=True, text=True,
                          cwd=cwd or PROJECT_ROOT, env=environment, timeout=300)


def test_validate_a_good_file():
    result = runner.invoke(app, ["validate", "-c", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "is valid: application 'hello' on port 8080" in result.output
    assert "Next: wimpy synth" in result.output


def test_validate_json():
    result = runner.invoke(app, ["validate", "-c", str(EXAMPLE), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"valid": True, "app": "hello", "account": "111111111111",
                                         "region": "eu-west-1", "environments": ["staging", "production"]}


def test_validate_json_lists_problems(write_config):
    path = write_config("app: {name: web, port: 0}\naccount: {id: '123456789012'}\n")
    result = runner.invoke(app, ["validate", "-c", str(path), "--json"])
    assert result.exit_code == ExitCode.INVALID_CONFIG
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["problems"] == [{"file": str(path), "line": 1, "key": "app.port",
                                     "message": "0 is out of range; use a whole number from 1 to 65535"}]


def test_invalid_config_is_one_paragraph_on_stderr_with_exit_code_3(write_config):
    path = write_config("app: {name: Web}\naccount: {id: '123456789012'}\n")
    result = wimpy("validate", "-c", str(path))
    assert result.returncode == ExitCode.INVALID_CONFIG == 3
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: 1 problem in {path}:")
    assert "app.name: 'Web' must be lowercase" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_env_flag_is_a_bad_flag_not_a_bad_file(write_config):
    """Exit 3 is kept for a wimpy.yml with problems; a wrong --env is a bad flag (2)."""
    result = wimpy("validate", "-c", str(EXAMPLE), "--env", "prod")
    assert result.returncode == ExitCode.USAGE
    assert "--env: 'prod' is not an environment" in result.stderr and "Did you mean 'production'?" in result.stderr
    assert "it defines staging, production" in result.stderr


def test_usage_errors_exit_2():
    result = wimpy("validate", "--no-such-flag")
    assert result.returncode == ExitCode.USAGE == 2
    assert "No such option" in result.stderr


def test_a_broken_aws_profile_does_not_break_validation():
    result = wimpy("validate", "-c", str(EXAMPLE), env={"AWS_PROFILE": "does-not-exist"})
    assert result.returncode == 0, result.stderr


def test_debug_shows_the_traceback(write_config):
    path = write_config("app: {name: Web}\naccount: {id: '123456789012'}\n")
    result = wimpy("--debug", "validate", "-c", str(path))
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_init_writes_a_valid_commented_file(tmp_path):
    target = tmp_path / "My_Service" / "wimpy.yml"
    target.parent.mkdir()
    result = runner.invoke(app, ["init", "--path", str(target), "--account-id", "210987654321",
                                 "--region", "us-east-2"])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    # Editors find the schema (written beside it) from the first line; the comments follow.
    assert text.startswith("# yaml-language-server: $schema=./wimpy.schema.json\n# wimpy.yml")
    assert (target.parent / "wimpy.schema.json").is_file()
    data = yaml.safe_load(text)
    assert data["app"]["name"] == "my-service"  # derived from the folder, made valid
    assert data["account"] == {"id": "210987654321", "region": "us-east-2",
                               "availability_zones": ["us-east-2a", "us-east-2b"], "log_retention_days": 365}
    assert runner.invoke(app, ["validate", "-c", str(target)]).exit_code == 0


def test_init_never_overwrites_without_force(tmp_path):
    target = tmp_path / "wimpy.yml"
    target.write_text("mine\n")
    result = runner.invoke(app, ["init", "--path", str(target)])
    assert result.exit_code == ExitCode.USAGE
    assert "already exists; nothing was written" in result.output
    assert target.read_text() == "mine\n"
    assert runner.invoke(app, ["init", "--path", str(target), "--force", "--name", "web"]).exit_code == 0
    assert "name: web" in target.read_text()


def test_init_refuses_flags_that_make_a_bad_file(tmp_path):
    target = tmp_path / "wimpy.yml"
    result = runner.invoke(app, ["init", "--path", str(target), "--account-id", "12345"])
    assert result.exit_code == ExitCode.USAGE
    assert "account.id: '12345' is not a 12-digit AWS account id" in result.output
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_starter_file_mentions_every_section_key():
    from wimpy_domain.config.reference import KEYS
    from wimpy_cli.starter import render

    text = render(name="web", account_id="123456789012", region="eu-west-1")
    for key in KEYS:
        leaf = key.path.split(".")[-1]
        if not leaf.startswith("<"):
            assert f"{leaf}:" in text, key.path


def test_synth_refuses_bad_config_before_running_cdk(write_config, tmp_path):
    path = write_config("app: {name: web, port: 99999}\naccount: {id: '123456789012'}\n")
    result = wimpy("synth", "-c", str(path), "-o", str(tmp_path / "out"))
    assert result.returncode == ExitCode.INVALID_CONFIG
    assert "Nothing was deployed" in result.stderr
    assert not (tmp_path / "out").exists()


OFFLINE = {  # no credentials anywhere: synthesis must not need them
    "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None, "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def offline_synth(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("synth1"), tmp_path_factory.mktemp("synth2")
    runs = [wimpy("synth", "-c", str(EXAMPLE), "-o", str(out), "--json", env=OFFLINE) for out in (first, second)]
    return runs, first, second


def test_synth_works_offline_and_says_where_templates_went(offline_synth):
    (run, _), first, _ = offline_synth
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["output"] == str(first)
    assert sorted(s["stack"] for s in document["stacks"]) == [
        "wimpy-baseline", "wimpy-production", "wimpy-production-hello-data",
        "wimpy-production-hello-resources", "wimpy-registry-hello", "wimpy-staging",
        "wimpy-staging-hello-data", "wimpy-staging-hello-resources"]
    for stack in document["stacks"]:
        assert os.path.exists(stack["template"])
    assert "Node 20 is end-of-life" not in run.stderr + run.stdout  # the project's Node runs


def test_synth_is_deterministic(offline_synth):
    _, first, second = offline_synth
    names = sorted(p.name for p in first.glob("*.template.json"))
    assert names and names == sorted(p.name for p in second.glob("*.template.json"))
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_synth_human_output_lists_templates(tmp_path):
    result = wimpy("synth", "-c", str(EXAMPLE), "--env", "staging", "--version", "v1.2.3",
                   "-o", str(tmp_path), env=OFFLINE)
    assert result.returncode == 0, result.stderr
    assert "Synthesized 6 stacks" in result.stdout and str(tmp_path) in result.stdout
    assert "wimpy-staging-hello-resources" in result.stdout and "wimpy-production" not in result.stdout
    service = json.loads((tmp_path / "wimpy-staging-hello.template.json").read_text())
    assert service["Outputs"]["Image"]["Value"] == (
        "111111111111.dkr.ecr.eu-west-1.amazonaws.com/wimpy/hello:v1.2.3")


def test_synth_refuses_a_version_that_is_not_a_docker_tag(tmp_path):
    result = wimpy("synth", "-c", str(EXAMPLE), "--version", "feature/x", "-o", str(tmp_path))
    assert result.returncode == ExitCode.USAGE
    assert "--version" in result.stderr and "'feature/x'" in result.stderr


def test_version_names_wimpy_the_cdk_cli_it_runs_and_python():
    import platform
    from importlib.metadata import version

    from wimpy_cli import toolchain

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (f"wimpy {version('wimpy')} (CDK CLI {toolchain.CDK_CLI_VERSION}, "
                                     f"Python {platform.python_version()})")


def test_wimpy_yml_is_found_from_any_subfolder_of_the_application(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "--name", "nested"]).exit_code == 0
    deep = tmp_path / "src" / "handlers"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "../../wimpy.yml is valid: application 'nested'" in result.output
    # The hint that follows names the file found, so it runs from here too.
    assert "-c ../../wimpy.yml" in result.output


def test_the_search_for_wimpy_yml_ends_at_the_repository_root(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "--name", "outer"]).exit_code == 0
    repository = tmp_path / "other-project"
    (repository / ".git").mkdir(parents=True)
    (repository / "docs").mkdir()
    monkeypatch.chdir(repository / "docs")
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "-c/--config 'wimpy.yml': no such file" in result.output
    # An explicit path is taken as given, never searched for.
    result = runner.invoke(app, ["validate", "-c", "sub/wimpy.yml"])
    assert result.exit_code == ExitCode.USAGE and "'sub/wimpy.yml'" in result.output


@pytest.mark.parametrize("before, after", [
    (None, "# Templates wimpy synth writes (made again on every synth)\ncdk.out/\n"),
    ("node_modules", "node_modules\n# Templates wimpy synth writes (made again on every synth)\ncdk.out/\n"),
    ("/cdk.out\n.venv/\n", "/cdk.out\n.venv/\n"),  # already ignored: left as it was
])
def test_init_keeps_the_synthesized_templates_out_of_git(tmp_path, monkeypatch, before, after):
    monkeypatch.chdir(tmp_path)
    if before is not None:
        (tmp_path / ".gitignore").write_text(before)
    result = CliRunner().invoke(app, ["init", "--name", "kept"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".gitignore").read_text() == after
    assert ("added cdk.out/ to .gitignore" in result.output) == (before != "/cdk.out\n.venv/\n")
    # Once is enough: a second init (--force) adds nothing.
    assert CliRunner().invoke(app, ["init", "--name", "kept", "--force"]).exit_code == 0
    assert (tmp_path / ".gitignore").read_text() == after


@pytest.mark.parametrize("words, index, expected", [
    ("wimpy dep", 1, "deploy"),
    ("wimpy deploy --update", 2, "--update-machine-image"),
    ("wimpy local st", 2, "start\nstop\nstatus"),
])
def test_shell_completion_completes_commands_and_flags(words, index, expected):
    """What bash's completion function (`wimpy --install-completion`) asks the command."""
    environment = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(index),
                   "_WIMPY_COMPLETE": "complete_bash"}
    from pathlib import Path

    wimpy = Path(sys.executable).with_name("wimpy")  # the installed command, as bash runs it
    result = subprocess.run([str(wimpy)], env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
