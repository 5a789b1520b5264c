"""wimpy unlock: remove the deploy lock a dead deploy on another machine left behind."""

from __future__ import annotations

from pathlib import Path

import typer

from wimpy_cli import output, targets
from wimpy_cli.commands.common import ConfigOption, EnvOption, LocalOption, load
from wimpy_cli.phases import Phases


def unlock(config: Path = ConfigOption, env: str = EnvOption,
           yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
           local: bool = LocalOption) -> None:
    """Remove the application's deploy lock in an environment (only if its deploy is dead).

    A command that died on this machine, or stopped renewing the lock for two minutes
    anywhere, is detected and its lock taken over automatically.
    Example: wimpy unlock --env production
    """
    from wimpy_cli.release.store import RecordMissing, RecordStore

    loaded = load(config, [env])
    app = loaded.app.name
    with targets.open_target(loaded, local=targets.wants_local(local), phases=Phases()) as target:
        store = RecordStore(target.client("dynamodb"), env, app)
        try:
            holder = store.holder()
        except RecordMissing:
            holder = None
        if holder is None:
            output.info(f"No command changing {app} in {env} holds the lock.")
            return
        if not yes:
            typer.confirm(f"The lock is held by {holder.describe()}. Remove it (only if that "
                          "command is dead)?", abort=True)
        store.force_release()
        output.info(f"Removed the deploy lock of {app} in {env} (it was {holder.describe()}).")
