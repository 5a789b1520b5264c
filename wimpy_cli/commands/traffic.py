"""wimpy promote | abort | rollback: moving traffic between an application's releases."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import typer

from wimpy_cli import output, targets

from wimpy_domain import naming
from wimpy_cli.commands.common import ConfigOption, EnvOption, JsonOption, LocalOption, load, next_command
from wimpy_cli.phases import Phases


@contextmanager
def releases_of(config: Path, env: str, local: bool, *, quiet: bool, what: str,
                canaries: bool = False, deploys_stacks: bool = False) -> Iterator[Any]:
    """The app's strategy (BlueGreen or Rolling) in `env`, on the chosen target, holding
    the deploy lock with the release record read. `canaries`: BlueGreen whatever the
    strategy, to move a canary left from before wimpy.yml changed strategy.
    `deploys_stacks`: the command may deploy a release's stack again from this wimpy.yml."""
    from wimpy_cli.deploy import stacks

    from wimpy_cli.deploy.rolling import Rolling
    from wimpy_cli.release.adopt import adopt_existing
    from wimpy_cli.release.bluegreen import BlueGreen
    from wimpy_cli.release.session import release_session

    phases = Phases()
    loaded = load(config, [env])
    if deploys_stacks and not targets.wants_local(local):
        targets.refuse_local_only_settings(loaded)
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        run = stacks.StackDeploy(config_path=config, environment=env, target=target,
                                 **stacks.progress(phases, quiet=quiet))
        with release_session(target.client("dynamodb"), env=env, app=loaded.app.name, what=what) as session:
            adopt_existing(session, target.client("cloudformation"),
                           image_of=lambda v: naming.image_reference(
                               registry_url=loaded.registry.url, account=loaded.account.id,
                               region=loaded.account.region, app=loaded.app.name, version=v))
            strategy = BlueGreen if canaries or loaded.deploy.strategy == "blue-green" else Rolling
            yield strategy(config=loaded, config_path=config, env=env, target=target,
                           phases=phases, run=run, session=session)


def _report(result: dict[str, Any], env: str, as_json: bool) -> None:
    share = f" ({result['share']}% of traffic)" if "share" in result else ""
    human = (f"{result['version']}: {result['status']}{share} in {env} ({result['stack']}).\n"
             + (f"URL: {result['url']}\n" if result.get("url") else "")
             + f"Next: {next_command('status', env=env)}")
    output.result({"environment": env, **result}, human, as_json=as_json)


def promote(
    config: Path = ConfigOption, env: str = EnvOption,
    to_end: bool = typer.Option(False, "--to-end", help="Run every remaining step, not just the next."),
    local: bool = LocalOption, as_json: bool = JsonOption,
) -> None:
    """Move a paused canary (`wimpy deploy --manual`) to its next step, watching it as usual.

    Example: wimpy promote --env production --to-end
    """
    with releases_of(config, env, local, quiet=as_json, what="promote", canaries=True) as releases:
        result = releases.promote(to_end=to_end)
    _report(result, env, as_json)


def abort(
    config: Path = ConfigOption, env: str = EnvOption,
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Keep the release's stack (at no traffic) for debugging."),
    local: bool = LocalOption, as_json: bool = JsonOption,
) -> None:
    """Undo a canary not yet promoted (paused, or left by a deploy that was interrupted):
    all traffic back to the live release, the new one removed.

    Example: wimpy abort --env production
    """
    with releases_of(config, env, local, quiet=as_json, what="abort", canaries=True) as releases:
        result = releases.abort(keep_failed=keep_failed)
    _report(result, env, as_json)


def rollback(
    config: Path = ConfigOption, env: str = EnvOption,
    local: bool = LocalOption, as_json: bool = JsonOption,
) -> None:
    """Send all traffic back to the release that served before the live one (never one
    already rolled back from, and only if its image is still in the registry): in seconds
    when its stack was kept, otherwise by deploying that version again.

    Example: wimpy rollback --env production
    """
    with releases_of(config, env, local, quiet=as_json, what="rollback", deploys_stacks=True) as releases:
        result = releases.rollback()
    _report(result, env, as_json)
