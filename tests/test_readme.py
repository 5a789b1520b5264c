"""README.md stays true: every wimpy.yml key with its default, the two commands, exit codes."""

from __future__ import annotations

import pytest

from wimpy_domain.config.reference import KEYS
from wimpy_cli.errors import ExitCode
from wimpy_cli.toolchain import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def test_every_key_is_documented_with_its_default_and_meaning():
    """The README's table says what the reference table (which the loader, `wimpy init` and
    the messages read) says, word for word: a changed range or rule cannot drift."""
    for key in KEYS:
        assert f"| `{key.path}` | {key.default} | {key.meaning} |" in README, key.path


def test_the_two_fresh_machine_commands_exist_and_ci_runs_the_test_one():
    assert "bash scripts/demo" in README and "bash scripts/test" in README
    assert (PROJECT_ROOT / "scripts" / "demo").exists() and (PROJECT_ROOT / "scripts" / "test").exists()
    assert "bash scripts/test" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_exit_codes_are_documented():
    for code in ExitCode:
        assert f"`{int(code)}`" in README, code


@pytest.fixture(scope="module")
def library_only_python(tmp_path_factory):
    """A virtualenv with the construct library installed from library/ and nothing of the
    command (its dependencies from this test's own environment)."""
    import subprocess
    import sysconfig

    from tests.test_install import copy_checkout, virtualenv

    folder = tmp_path_factory.mktemp("library-only")
    python, _ = virtualenv(folder / "venv", with_pip=True, paths=[sysconfig.get_paths()["purelib"]])
    source = copy_checkout(folder / "source")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", str(source / "library")],
                   check=True, capture_output=True, timeout=600)
    return python


@pytest.mark.parametrize("flags", ["none", "the command's"])
def test_the_construct_library_example_synthesizes_nag_and_lint_clean(tmp_path, library_only_python, flags):
    """The README's library example, run as a user would run it (its own app, with only
    the library installed), with no feature flag set and with the command's own: cdk-nag's
    AwsSolutions checks (app.synth() fails on an unacknowledged finding), no lookup left
    for the CDK CLI to make with credentials, and cfn-lint clean on every template."""
    import json
    import os
    import subprocess

    from cfnlint.api import ManualArgs, lint

    section = README.split("## Using wimpy_constructs from another CDK app", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "app.py").write_text(code)
    context = {} if flags == "none" else json.loads((PROJECT_ROOT / "wimpy_stacks" / "cdk.json").read_text())["context"]
    assert flags == "none" or any(key.startswith("@aws-cdk/") for key in context)
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
           "CDK_OUTDIR": str(tmp_path / "out"), "CDK_CONTEXT_JSON": json.dumps(context)}
    result = subprocess.run([str(library_only_python), "app.py"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest.get("missing") is None  # no context lookup: synthesizes without credentials
    templates = sorted((tmp_path / "out").glob("*.template.json"))
    assert [t.name for t in templates] == ["Shared.template.json", "Shop.template.json"]
    shop = json.dumps(json.loads(templates[1].read_text()))
    # The alarm topic really came from the other stack (an import, or a stack output read
    # with the command's flags).
    assert "Fn::ImportValue" in shop or "Fn::GetStackOutput" in shop
    for kind in ("AWS::AutoScaling::AutoScalingGroup", "AWS::ElasticLoadBalancingV2::LoadBalancer",
                 "AWS::ECR::Repository", "AWS::CloudWatch::Alarm", "AWS::Route53::RecordSet"):
        assert kind in shop, kind
    assert "AWS::KMS::Alias" not in shop + templates[0].read_text()  # no fixed name of Wimpy's
    for template in templates:
        matches = lint(template.read_text(), config=ManualArgs(regions=["eu-west-1"]))
        assert [f"{m.rule.id} {m.message}" for m in matches] == [], template.name