"""wimpy unlock: remove the deploy lock a dead deploy on another machine left behind."""

from __future__ import annotations

from pathlib import Path

import typer

from cli import naming, output, targets
from cli.commands.common import ConfigOption, EnvOption, LocalOption, load
from cli.phases import Phases


def unlock(config: Path = ConfigOption, env: str = EnvOption,
           yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
           local: bool = LocalOption) -> None:
    """Remove the application's deploy lock in an environment (only if its deploy is dead).

    A deploy that died on this machine is detected and its lock taken over automatically.
    Example: wimpy unlock --env production
    """
    from cli.deploy import lock

    loaded = load(config, [env])
    with targets.open_target(loaded, local=targets.wants_local(local), phases=Phases()) as target:
        ssm = target.client("ssm")
        name = naming.deploy_lock_parameter(env, loaded.app.name)
        try:
            holder = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            output.info(f"No deploy of {loaded.app.name} to {env} holds the lock.")
            return
        if not yes:
            typer.confirm(f"The lock is held by {holder}. Remove it (only if that deploy is dead)?",
                          abort=True)
        lock.release(ssm, env=env, app=loaded.app.name)
        output.info(f"Removed the deploy lock of {loaded.app.name} in {env} (it was {holder}).")
