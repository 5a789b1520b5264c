"""README.md stays true: every wimpy.yml key with its default, the two commands, exit codes."""

from __future__ import annotations

from wimpy_domain.config.reference import KEYS
from cli.errors import ExitCode
from cli.toolchain import PROJECT_ROOT

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


def test_the_construct_library_example_synthesizes_nag_and_lint_clean(tmp_path):
    """The README's library example, run as a user would run it (its own app, a bucket and
    key passed from another stack), with cdk-nag's AwsSolutions checks (app.synth() fails
    on an unacknowledged finding) and cfn-lint on every template it writes."""
    import json
    import os
    import subprocess
    import sys

    from cfnlint.api import ManualArgs, lint

    section = README.split("## Using wimpy_constructs from another CDK app", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "app.py").write_text(code)
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "out"),
           "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    templates = sorted((tmp_path / "out").glob("*.template.json"))
    assert [t.name for t in templates] == ["Platform.template.json", "Shared.template.json"]
    platform = json.loads(templates[0].read_text())
    assert "Fn::ImportValue" in json.dumps(platform)  # the bucket really came from the other stack
    for template in templates:
        matches = lint(template.read_text(), config=ManualArgs(regions=["eu-west-1"]))
        assert [f"{m.rule.id} {m.message}" for m in matches] == [], template.name
