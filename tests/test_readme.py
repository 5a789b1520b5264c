"""README.md stays true: every wimpy.yml key with its default, the two commands, exit codes."""

from __future__ import annotations

from cli.config.reference import KEYS
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
