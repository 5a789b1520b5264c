"""Running the pinned CDK CLI. The wimpy command never builds constructs itself: the CDK
CLI starts app.py in a child process, so the CDK's import cost is paid only there."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Callable, Mapping, Sequence

from wimpy_cli import toolchain
from wimpy_cli.errors import ExitCode, WimpyError

ERROR_TAIL_LINES = 40


def app_argument() -> str:
    """The --app command: this Python (the one wimpy runs on) and the stacks' CDK app, a
    module of the installed package."""
    return shlex.join([sys.executable, "-m", "wimpy_stacks.app"])


def context_arguments(config: Path, environments: Sequence[str] | None) -> list[str]:
    args = ["--context", f"config={config.resolve()}"]
    if environments:
        args += ["--context", f"environments={','.join(environments)}"]
    return args


def _stop(process: subprocess.Popen, seconds: float = 20) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(arguments: Sequence[str], *, what: str,
        extra_env: Mapping[str, str | None] | None = None,
        on_line: Callable[[str], None] | None = None) -> str:
    """Run `cdk <arguments>` where cdk.json's feature flags are (toolchain.CDK_APP_DIR)
    and return its standard output; WimpyError with the last lines of output on failure.

    `extra_env` is merged into the environment the CLI runs in; a None value removes
    that variable (e.g. AWS_PROFILE when the CLI must talk to the local emulator).
    `on_line` sees each line as it comes (CloudFormation progress during a deploy)."""
    if "--app" not in arguments:
        # Never cdk.json's app command: it names an interpreter that need not be the one
        # wimpy is installed in (a virtualenv elsewhere, pipx). `bootstrap` needs no app.
        arguments = [*arguments, "--app", "" if arguments[:1] == ["bootstrap"] else app_argument()]
    try:
        command = [*toolchain.cdk_command(), *arguments]
    except toolchain.ToolchainMissing as missing:
        raise WimpyError(str(missing)) from None
    env = toolchain.environment_for_cdk()
    for name, value in (extra_env or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    process = subprocess.Popen(
        command, cwd=toolchain.CDK_APP_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
    collected: list[str] = []
    assert process.stdout is not None
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            collected.append(line)
            if on_line is not None and line.strip():
                on_line(line.rstrip("\n"))
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): the CLI must not go on deploying on its own after
        # wimpy has said where things stand. It stops its CloudFormation calls on SIGINT.
        _stop(process)
        raise
    if process.wait() != 0:
        raise WimpyError(f"{what} failed (cdk exited {process.returncode}); its last output:\n"
                         + "\n".join(f"  {line}" for line in lines if line.strip()),
                         code=ExitCode.FAILED)
    return "".join(collected)
