"""README's first command, run as a newcomer would: the whole flow on the embedded AWS
emulator (validate, synth, plan, cost, rolling deploys, status, rollback, a paused canary,
promote, rollback, destroy) must finish and say what it did."""

from __future__ import annotations

import os
import subprocess

from cli.toolchain import PROJECT_ROOT


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
        "hello v2.1.0 takes 10.0% of production's traffic and is paused",
        "v2.1.0: promoted in production",
        "v2.0.0: rolled back in production",
        # The release record: v2.1.0 rolled back from, with its canary's steps judged.
        "v2.1.0               rolled-back",
        "step 3 at 100%: passed after",
        "Deleted wimpy-staging-hello, wimpy-staging-hello-resources.",
    ):
        assert expected in output, expected
    assert "Traceback" not in output
