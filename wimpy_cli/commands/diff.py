"""wimpy diff: what a deploy would change, stack by stack, before anything changes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wimpy_cli import aws, output, targets

from wimpy_domain import naming
from wimpy_cli.commands.common import ConfigOption, EnvOption, LocalOption, load
from wimpy_cli.phases import Phases


def diff(config: Path = ConfigOption, env: str = EnvOption,
         version: Optional[str] = typer.Option(None, "--version", help="Also diff the application stack for this version."),
         local: bool = LocalOption) -> None:
    """Show what deploying would change in each stack (CloudFormation's own comparison).

    Example: wimpy diff --env production --version v1.4.3
    """
    import tempfile

    from wimpy_cli import cdk  # imported by the command that runs it: `wimpy --help` does not pay
    from wimpy_cli.build import versions

    if version is not None:
        versions.check(version)
    loaded = load(config, [env])
    app = loaded.app.name
    from wimpy_cli.deploy.foundation import foundation_stacks

    names = foundation_stacks(loaded, env)  # what a deploy would deploy first
    context = cdk.context_arguments(config, [env])
    if version is not None and loaded.deploy.strategy == "rolling":
        names.append(naming.rolling_stack(env, app))
        context += ["--context", f"version={version}"]
    phases = Phases()
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target, \
            tempfile.TemporaryDirectory(prefix="wimpy-diff-") as assembly:
        for key, value in target.context.items():
            context += ["--context", f"{key}={value}"]
        if version is not None:
            # Compare with the machine image the next deploy would keep, not the offline one.
            recorded = aws.parameter_value(target.client("ssm"), naming.machine_image_parameter(env, app))
            if recorded is not None:
                context += ["--context", f"machine_image={recorded}"]
        # On AWS a read-only change set adds replacement details; the emulator's change sets
        # list no resource changes, so there the templates are compared directly.
        method = ["--method", "template"] if target.is_local else []
        text = cdk.run(["diff", *names, "--app", cdk.app_argument(), *context, *target.cdk_flags,
                        *method, "--output", assembly], what="Comparing with the deployed stacks",
                       extra_env=target.cdk_env)
    output.result({}, text, as_json=False)
