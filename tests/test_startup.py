"""`wimpy --help` and `wimpy validate` must not pay for the CDK (jsii starts a Node
process; importing aws_cdk costs seconds). Checked in a fresh interpreter, as in typer's
own tests/test_rich_import.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from wimpy_cli.toolchain import PROJECT_ROOT
from tests.conftest import EXAMPLE

HEAVY = ("aws_cdk", "constructs", "jsii", "wimpy_constructs", "wimpy_stacks", "cdk_nag")

PROBE = """
import json, sys
from wimpy_cli.main import app
code = 0
try:
    app(args=sys.argv[1:], prog_name="wimpy")
except SystemExit as exit:
    code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(json.dumps(heavy), file=sys.__stderr__)
sys.exit(code)
"""


@pytest.mark.parametrize("args", [
    ["--help"], ["validate", "-c", str(EXAMPLE)], ["synth", "--help"],
    # status really runs: against its own emulator (started, bootstrapped, queried).
    ["status", "-c", str(EXAMPLE), "--env", "staging", "--local", "--json"],
])
def test_command_does_not_import_the_cdk(args, tmp_path):
    env = {**os.environ, "WIMPY_LOCAL_STATE": str(tmp_path / "none.json")}
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=180, env=env)
    # The command did its work (a command that fails early imports little and proves nothing).
    assert result.returncode == 0, f"`wimpy {' '.join(args)}` exited {result.returncode}:\n{result.stderr}"
    imported = json.loads(result.stderr.strip().splitlines()[-1])
    assert imported == [], f"`wimpy {' '.join(args)}` imported {imported}"
