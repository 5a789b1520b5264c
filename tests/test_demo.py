"""README's first command, run as a newcomer would: the whole flow on the embedded AWS
emulator and its data plane (validate, synth, plan, cost, rolling deploys, status,
rollback, a paused canary whose share shows in real responses, promote, a version
answering 500 rolled back by its alarm, rollback, destroy) must finish, say what it did,
and leave the app answering at a localhost URL."""

from __future__ import annotations

import os
import re
import subprocess

from wimpy_cli.toolchain import PROJECT_ROOT


def test_the_demo_runs_end_to_end(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIMPY_"))}
    result = subprocess.run(["bash", "scripts/demo"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=900, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for expected in (
        "examples/hello/wimpy.yml is valid",
        "All templates passed the cdk-nag AwsSolutions checks.",
        "Deploy-time estimate for hello in production",
        "Deployed hello v1.0.0 to staging (wimpy-staging-hello, CREATE_COMPLETE).",
        "Deployed hello v1.1.0 to staging (wimpy-staging-hello, UPDATE_COMPLETE).",
        "v1.0.0: rolled back in staging",
        "hello v2.1.0 takes 20.0% of production's traffic and is paused",
        "v2.1.0: promoted in production",
        "v2.0.0: rolled back in production",
        # The release record: v2.1.0 rolled back from, with its canary's steps judged.
        "v2.1.0               rolled-back",
        "step 2 at 100%: passed after",
        # The data plane: the app answered, each version in turn.
        "Data plane: on.",
        "hello from v1.0.0", "hello from v1.1.0",
        "(exit 4: its errors alarm fired on its real requests; the canary was rolled back)",
        "errors is in ALARM",
        "Deleted wimpy-staging-hello, wimpy-staging-hello-resources.",
    ):
        assert expected in output, expected
    assert "Traceback" not in output
    # The paused canary's share, in 100 real requests: both releases answered.
    sample = output.split("by answer (the canary takes its share):")[1]
    counts = {version: int(count) for count, version in
              re.findall(r"^\s+(\d+) hello from (v2\.[01]\.0)$", sample, re.M)}
    assert set(counts) == {"v2.0.0", "v2.1.0"} and sum(counts.values()) == 100, sample[:400]
    assert re.search(r"Done: hello answers at http://localhost:\d+ ", output), output[-600:]
