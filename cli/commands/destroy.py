"""wimpy destroy: remove an application's stacks from an environment, keeping its data."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cli import naming, output, targets
from cli.commands.common import ConfigOption, EnvOption, JsonOption, LocalOption, load
from cli.errors import ExitCode, WimpyError
from cli.phases import Phases

KEPT = ("the storage bucket and its objects, the log bucket, the master key, the log group "
        "/wimpy/<env>/<app> and the images in the registry are retained (they are data)")


def destroy(config: Path = ConfigOption, env: str = EnvOption,
            yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation (for scripts)."),
            local: bool = LocalOption, as_json: bool = JsonOption) -> None:
    """Remove the application's release, service and resources stacks from an environment.

    Never deletes data: buckets, keys, log groups and images are retained.
    Example: wimpy destroy --env staging --yes
    """
    from cli.deploy import lock, outcome
    from cli.release import inventory, state
    from cli.release.bluegreen import delete_release

    loaded = load(config, [env])
    app = loaded.app.name
    phases = Phases()
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        cloudformation = target.client("cloudformation")
        doomed = [r.stack for r in inventory.releases(cloudformation, env, app)]
        for stack in (naming.rolling_stack(env, app), naming.application_resources_stack(env, app)):
            if outcome.read(cloudformation, stack) is not None:
                doomed.append(stack)
        if not doomed:
            output.result({"environment": env, "deleted": []},
                          f"{app} has no stacks in {env}; nothing to destroy.", as_json=as_json)
            return
        if not yes:
            if not sys.stdin.isatty():
                raise WimpyError(f"destroy would delete {', '.join(doomed)}; add --yes to confirm "
                                 "when not running in a terminal.", code=ExitCode.USAGE)
            typer.confirm(f"Delete {', '.join(doomed)} ({target.name})? Data is kept: {KEPT}.",
                          abort=True)
        ssm = target.client("ssm")
        with lock.deploy_lock(ssm, env=env, app=app, version="destroy"):
            for stack in doomed:
                with phases.phase("delete", stack):
                    delete_release(cloudformation, target.client("elbv2"), stack)
            for parameter in (naming.machine_image_parameter(env, app),
                              naming.canary_state_parameter(env, app)):
                try:
                    ssm.delete_parameter(Name=parameter)
                except ssm.exceptions.ParameterNotFound:
                    pass
            state.clear_canary(ssm, env, app)
    output.result({"environment": env, "deleted": doomed, "kept": KEPT},
                  f"Deleted {', '.join(doomed)}.\nKept: {KEPT}.", as_json=as_json)
