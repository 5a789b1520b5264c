"""`cdk deploy` of some of an application's stacks, on a target, with CloudFormation's
progress shown as it happens and what CloudFormation did read back afterwards.

A command that deploys in several steps from the same app and context (an account's
first deploy: the baseline alone, then the foundation) synthesizes once: the CDK CLI
writes the cloud assembly to a folder this process keeps, and the later steps deploy from
that folder (`--app <folder>`) instead of running the CDK app again (3 to 5 s each)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from wimpy_cli import cdk
from wimpy_cli.deploy import outcome
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.phases import Phases
from wimpy_cli.targets import Target


@dataclass(frozen=True)
class StackDeploy:
    config_path: Path
    environment: str
    target: Target
    # What happens to the stacks, told as it happens (the local rollout's steps).
    show: Callable[[str], None]
    # The CDK CLI's output, line by line. @default show
    cdk_output: Callable[[str], None] | None = None


def progress(phases: Phases, *, quiet: bool) -> dict[str, Callable[[str], None]]:
    """StackDeploy's show and cdk_output for a command's display (wimpy_cli/live.py): the CDK
    CLI's events become one line per stack; nothing at all with --json."""
    if quiet:
        return {"show": _ignore, "cdk_output": _ignore}
    return {"show": phases.note, "cdk_output": phases.display.cloudformation}


def _ignore(line: str) -> None:
    pass


# The cloud assemblies this process synthesized, by the app and context they were made
# from (see the module's docstring). Removed when the process ends.
_assemblies: dict[tuple[str, ...], Path] = {}


def _forget_assemblies() -> None:
    for folder in _assemblies.values():
        shutil.rmtree(folder, ignore_errors=True)
    _assemblies.clear()


atexit.register(_forget_assemblies)


def deploy(run: StackDeploy, stacks: Sequence[str], *, context: Mapping[str, str] = {},
           parameters: Mapping[str, Mapping[str, str]] = {}, exclusively: bool = False,
           what: str) -> None:
    """Deploy `stacks`; WimpyError(ROLLED_BACK) naming the failures when CloudFormation
    rolled a stack back, WimpyError(FAILED) for anything else that went wrong."""
    app = ["--app", cdk.app_argument(), *cdk.context_arguments(run.config_path, [run.environment])]
    for key, value in {**run.target.context, **context}.items():
        app += ["--context", f"{key}={value}"]
    made_from = tuple(app)
    synthesized = _assemblies.get(made_from)
    if synthesized is not None and (synthesized / "manifest.json").is_file():
        source = ["--app", str(synthesized)]
    else:
        synthesized = Path(tempfile.mkdtemp(prefix="wimpy-cdk-"))
        source = [*app, "--output", str(synthesized)]
    arguments = ["deploy", *stacks, "--require-approval", "never", "--progress", "events",
                 *source, *run.target.cdk_flags]
    for stack, values in parameters.items():
        for key, value in values.items():
            arguments += ["--parameters", f"{stack}:{key}={value}"]
    if exclusively:
        arguments.append("--exclusively")
    rollout = run.target.rollout
    before = rollout.before(stacks) if rollout else {}
    try:
        cdk.run(arguments, what=what, extra_env=run.target.cdk_env,
                on_line=run.cdk_output or run.show)
    except WimpyError as failure:
        _raise_if_rolled_back(run.target, stacks, failure)
        raise
    finally:
        # Kept for the next deploy of this command only if the CLI wrote it whole.
        if (synthesized / "manifest.json").is_file():
            _assemblies[made_from] = synthesized
        else:
            shutil.rmtree(synthesized, ignore_errors=True)
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
