"""wimpy promote | abort | rollback: moving traffic between an application's releases."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import typer

from cli import output, targets
from cli.commands.common import ConfigOption, EnvOption, JsonOption, LocalOption, load, next_command
from cli.deploy import lock, stacks
from cli.phases import Phases


@contextmanager
def blue_green(config: Path, env: str, local: bool, *, quiet: bool, what: str) -> Iterator[Any]:
    """A BlueGreen for the app in `env`, on the chosen target, under the deploy lock."""
    from cli.release.bluegreen import BlueGreen

    phases = Phases()
    loaded = load(config, [env])
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        run = stacks.StackDeploy(config_path=config, environment=env, target=target,
                                 show=stacks.progress_printer(quiet=quiet))
        with lock.deploy_lock(target.client("ssm"), env=env, app=loaded.app.name, version=what):
            yield BlueGreen(config=loaded, config_path=config, env=env, target=target,
                            phases=phases, run=run)


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
    with blue_green(config, env, local, quiet=as_json, what="promote") as releases:
        result = releases.promote(to_end=to_end)
    _report(result, env, as_json)


def abort(
    config: Path = ConfigOption, env: str = EnvOption,
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Keep the release's stack (at no traffic) for debugging."),
    local: bool = LocalOption, as_json: bool = JsonOption,
) -> None:
    """Undo a paused canary: all traffic back to the previous release, the new one removed.

    Example: wimpy abort --env production
    """
    with blue_green(config, env, local, quiet=as_json, what="abort") as releases:
        result = releases.abort(keep_failed=keep_failed)
    _report(result, env, as_json)


def rollback(
    config: Path = ConfigOption, env: str = EnvOption,
    local: bool = LocalOption, as_json: bool = JsonOption,
) -> None:
    """Send all traffic back to the previous release in seconds (scaling it up first if it
    was kept at zero); if it is gone, redeploy the previous version.

    Example: wimpy rollback --env production
    """
    from cli import naming

    with blue_green(config, env, local, quiet=as_json, what="rollback") as releases:
        if releases.config.deploy.strategy == "rolling":
            result = _rollback_rolling(releases)
            _report(result, env, as_json)
            return

        def redeploy(version: str) -> dict[str, Any]:
            image = naming.image_reference(
                registry_url=releases.config.registry.url, account=releases.config.account.id,
                region=releases.config.account.region, app=releases.app, version=version)
            return releases.deploy(version=version, image=image, steps=(100.0,))
        result = releases.rollback(redeploy)
    _report(result, env, as_json)


def _rollback_rolling(releases: Any) -> dict[str, Any]:
    """A rolling stack has one release: roll back by deploying the previous version again
    (its image is still in the registry), through the same rolling update."""
    from cli import naming
    from cli.deploy.rolling import deploy_rolling
    from cli.errors import WimpyError
    from cli.release import state

    from cli.commands.common import next_command
    from cli.deploy import outcome

    cloudformation = releases.client("cloudformation")
    stack = naming.rolling_stack(releases.env, releases.app)
    deployed = outcome.read(cloudformation, stack)
    if deployed is None:
        raise WimpyError(f"{releases.app} has never been deployed to {releases.env} (there is no "
                         f"stack {stack}); there is nothing to roll back.",
                         hint=f"Deploy first: {next_command('deploy', env=releases.env)}")
    current = deployed.outputs.get("Version", "")
    versions = [v for v in state.history(releases.client("ssm"), releases.env, releases.app) if v != current]
    if not versions:
        raise WimpyError(f"{current or 'this version'} is the only version deployed to "
                         f"{releases.env}; there is nothing to roll back to.")
    version = versions[-1]
    image = naming.image_reference(
        registry_url=releases.config.registry.url, account=releases.config.account.id,
        region=releases.config.account.region, app=releases.app, version=version)
    releases.phases.note(f"redeploying {version} (rolling strategy)")
    result = deploy_rolling(config=releases.config, config_path=releases.config_path, env=releases.env,
                            version=version, image=image, target=releases.target,
                            phases=releases.phases, run=releases.run, update_machine_image=False)
    return {"version": version, "stack": result.stack, "status": "rolled back", "url": result.url}
