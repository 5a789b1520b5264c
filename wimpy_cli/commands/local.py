"""wimpy local start|stop|status|env: an AWS emulator that outlives one command."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import typer

from wimpy_cli import output
from wimpy_cli.commands.common import ConfigOption, JsonOption, load, next_command
from wimpy_cli.errors import WimpyError

app = typer.Typer(help="Run Wimpy's embedded AWS emulator in the background, so several "
                       "--local commands act on the same emulated account.",
                  no_args_is_help=True)
START_TIMEOUT_SECONDS = 120


@app.command()
def start(config: Path = ConfigOption) -> None:
    """Start the emulator for wimpy.yml's account and region, bootstrapped for the CDK.

    Example: wimpy local start -c examples/hello/wimpy.yml
    """
    from wimpy_cli.local.persistent import StaleState, read_state, state_path, verified_state

    loaded = load(config)
    try:
        if (state := verified_state()) is not None:
            output.info(f"Already running at {state['endpoint']} for {state['account_id']} "
                        f"{state['region']}.")
            return
    except StaleState as stale:
        output.info(f"Ignoring a stale state file: {stale}.")
    log = state_path().with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "wimpy_cli.local.persistent", loaded.account.id, loaded.account.region],
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if (state := read_state()) is not None:
            env = loaded.environment_names[0]
            output.info(f"Local AWS emulator running at {state['endpoint']} (pid {process.pid}).\n"
                        f"{_data_plane_line(state)}\n"
                        f"Next: {next_command('deploy', '--version', 'v1', env=env, config=config, local=True)}")
            return
        if process.poll() is not None:
            raise WimpyError(f"the emulator exited ({process.returncode}); see {log}")
        time.sleep(0.5)
    process.kill()
    process.wait()
    raise WimpyError(f"the emulator did not start within {START_TIMEOUT_SECONDS}s; see {log}")


def _data_plane_line(state: dict) -> str:
    plane = state.get("data_plane") or {}
    if plane.get("running"):
        return ("Data plane: on. Instances run as containers on this Docker engine, behind "
                "one HAProxy per application and environment; a deploy prints its local URL.")
    off = ("Data plane: off, so no instance runs and no request is served (deploys still act "
           "on the emulated account).")
    if plane.get("missing"):
        return f"{off} It needs:\n" + "\n".join(f"  - {what}" for what in plane["missing"])
    return f"{off} It failed to start: {plane.get('error', 'no reason recorded')}"


@app.command()
def stop() -> None:
    """Stop the background emulator (everything it held is gone); returns once it has exited."""
    from wimpy_cli.local import persistent

    try:
        state = persistent.verified_state()
    except persistent.StaleState as stale:
        # Never signal a process the file merely names: its pid or port may be another's now.
        persistent.state_path().unlink(missing_ok=True)
        output.info(f"No local emulator is running; removed a stale state file ({stale}).")
        return
    if state is None:
        output.info("No local emulator is running.")
        return
    try:
        persistent.stop(state)
    except OSError as error:
        raise WimpyError(f"could not stop the local emulator (pid {state['pid']}): {error}") from None
    output.info(f"Stopped the local emulator at {state['endpoint']} (pid {state['pid']} has exited).")


@app.command()
def status(as_json: bool = JsonOption) -> None:
    """Say whether a background emulator is running, and where."""
    from wimpy_cli.local.persistent import read_state

    state = read_state()
    document = {"running": state is not None,
                **({"endpoint": state["endpoint"], "account": state["account_id"],
                    "region": state["region"], "pid": state["pid"],
                    "data_plane": bool((state.get("data_plane") or {}).get("running"))} if state else {})}
    human = (f"Running at {state['endpoint']} for {state['account_id']} {state['region']} "
             f"(pid {state['pid']}).\n{_data_plane_line(state)}" if state else "No local emulator is running.")
    output.result(document, human, as_json=as_json)


@app.command()
def env() -> None:
    """Print the shell lines that point the AWS CLI and SDKs at the running emulator, e.g.
    to put a secret the app reads: eval "$(wimpy local env)"; aws ssm put-parameter ..."""
    import shlex

    from wimpy_cli.local.persistent import read_state

    state = read_state()
    if state is None:
        raise WimpyError("no local emulator is running, so there is nothing to point at.",
                         hint="Start one: wimpy local start")
    variables = {"AWS_ENDPOINT_URL": state["endpoint"], "AWS_ACCESS_KEY_ID": state["access_key_id"],
                 "AWS_SECRET_ACCESS_KEY": state["secret_access_key"], "AWS_REGION": state["region"],
                 "AWS_DEFAULT_REGION": state["region"]}
    # Printed, not logged: the keys are the emulator's own, good for nothing else.
    print("\n".join(f"export {name}={shlex.quote(value)}" for name, value in variables.items()))
