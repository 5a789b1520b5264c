"""`cdk deploy` of some of an application's stacks, on a target, with CloudFormation's
progress shown as it happens and what CloudFormation did read back afterwards."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from cli import cdk
from cli.deploy import outcome
from cli.errors import ExitCode, WimpyError
from cli.targets import Target


@dataclass(frozen=True)
class StackDeploy:
    config_path: Path
    environment: str
    target: Target
    show: Callable[[str], None]


def progress_printer(quiet: bool) -> Callable[[str], None]:
    def show(line: str) -> None:
        if not quiet:
            sys.stderr.write(f"  │ {line}\n")
            sys.stderr.flush()
    return show


def deploy(run: StackDeploy, stacks: Sequence[str], *, context: Mapping[str, str] = {},
           parameters: Mapping[str, Mapping[str, str]] = {}, exclusively: bool = False,
           what: str) -> None:
    """Deploy `stacks`; WimpyError(ROLLED_BACK) naming the failures when CloudFormation
    rolled a stack back, WimpyError(FAILED) for anything else that went wrong."""
    arguments = ["deploy", *stacks, "--require-approval", "never", "--progress", "events",
                 "--app", cdk.app_argument(),
                 *cdk.context_arguments(run.config_path, [run.environment]), *run.target.cdk_flags]
    for key, value in {**run.target.context, **context}.items():
        arguments += ["--context", f"{key}={value}"]
    for stack, values in parameters.items():
        for key, value in values.items():
            arguments += ["--parameters", f"{stack}:{key}={value}"]
    if exclusively:
        arguments.append("--exclusively")
    rollout = run.target.rollout
    before = rollout.before(stacks) if rollout else {}
    with tempfile.TemporaryDirectory(prefix="wimpy-cdk-") as assembly:
        try:
            cdk.run([*arguments, "--output", assembly], what=what, extra_env=run.target.cdk_env,
                    on_line=run.show)
        except WimpyError as failure:
            _raise_if_rolled_back(run.target, stacks, failure)
            raise
    if rollout:
        rollout.after(stacks, before, show=run.show)


def _raise_if_rolled_back(target: Target, stacks: Sequence[str], failure: WimpyError) -> None:
    cloudformation = target.client("cloudformation")
    for stack in stacks:
        result = outcome.read(cloudformation, stack)
        if result is not None and result.rolled_back:
            reasons = "\n".join(f"  - {reason}" for reason in result.reasons) or "  (no reason recorded)"
            raise WimpyError(
                f"CloudFormation rolled {stack} back ({result.status}); the previous version "
                f"keeps serving. What failed:\n{reasons}",
                code=ExitCode.ROLLED_BACK,
                hint="Check the instances' boot log (/var/log/wimpy-boot.log, via Session "
                     "Manager) and the application's log group.") from failure
