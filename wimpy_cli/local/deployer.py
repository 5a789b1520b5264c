"""`cdk deploy` of Wimpy's stacks against a running (and bootstrapped) LocalAws."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from wimpy_cli import cdk
from wimpy_cli.local.bootstrap import CDK_LOCAL_FLAGS, cdk_environment
from wimpy_cli.local.emulator import LocalAws


def deploy_arguments(config_path: Path, stacks: Sequence[str], context: Mapping[str, str],
                     output: Path, *, exclusively: bool = False) -> list[str]:
    """The CDK CLI's arguments: the same --app and --context config=... as `wimpy synth`,
    then each of `context` as --context KEY=VALUE."""
    if not stacks:
        raise ValueError("name at least one stack to deploy")
    if "config" in context:
        raise ValueError("the config context comes from config_path, not from context")
    arguments = ["deploy", *stacks, "--require-approval", "never",
                 "--app", cdk.app_argument(), *cdk.context_arguments(config_path, None)]
    for key, value in context.items():
        arguments += ["--context", f"{key}={value}"]
    if exclusively:
        arguments.append("--exclusively")
    return [*arguments, "--output", str(output), *CDK_LOCAL_FLAGS]


def deploy(local: LocalAws, config_path: Path, stacks: list[str], context: dict[str, str],
           *, output: Path | None = None, exclusively: bool = False) -> None:
    """Deploy `stacks` (and, as `cdk deploy` does, the stacks they depend on, unless
    `exclusively`) of the app `config_path` describes to the emulator; WimpyError with the
    CLI's last lines if it fails. The cloud assembly goes to `output`, by default a
    temporary folder."""
    with tempfile.TemporaryDirectory(prefix="wimpy-local-deploy-") as temporary:
        cdk.run(deploy_arguments(Path(config_path), stacks, context, output or Path(temporary),
                                 exclusively=exclusively),
                what=f"Deploying {', '.join(stacks)} to the local AWS emulator",
                extra_env=cdk_environment(local))
