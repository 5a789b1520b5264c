"""wimpy local start|stop|status: an AWS emulator that outlives one command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from cli import output
from cli.commands.common import ConfigOption, JsonOption, load
from cli.errors import WimpyError

app = typer.Typer(help="Run Wimpy's embedded AWS emulator in the background, so several "
                       "--local commands act on the same emulated account.",
                  no_args_is_help=True)
START_TIMEOUT_SECONDS = 120


@app.command()
def start(config: Path = ConfigOption) -> None:
    """Start the emulator for wimpy.yml's account and region, bootstrapped for the CDK.

    Example: wimpy local start -c examples/hello/wimpy.yml
    """
    from cli.local.persistent import read_state, state_path

    loaded = load(config)
    if (state := read_state()) is not None:
        output.info(f"Already running at {state['endpoint']} for {state['account_id']} {state['region']}.")
        return
    log = state_path().with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.local.persistent", loaded.account.id, loaded.account.region],
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if (state := read_state()) is not None:
            output.info(f"Local AWS emulator running at {state['endpoint']} (pid {process.pid}).\n"
                        f"Next: wimpy deploy --local -c {config} --env <env> --version <v>")
            return
        if process.poll() is not None:
            raise WimpyError(f"the emulator exited ({process.returncode}); see {log}")
        time.sleep(0.5)
    process.terminate()
    raise WimpyError(f"the emulator did not start within {START_TIMEOUT_SECONDS}s; see {log}")


@app.command()
def stop() -> None:
    """Stop the background emulator (everything it held is gone)."""
    from cli.local.persistent import read_state, state_path

    state = read_state()
    if state is None:
        state_path().unlink(missing_ok=True)
        output.info("No local emulator is running.")
        return
    os.kill(state["pid"], signal.SIGTERM)
    for _ in range(100):
        if read_state() is None:
            break
        time.sleep(0.1)
    output.info(f"Stopped the local emulator at {state['endpoint']}.")


@app.command()
def status(as_json: bool = JsonOption) -> None:
    """Say whether a background emulator is running, and where."""
    from cli.local.persistent import read_state

    state = read_state()
    document = {"running": state is not None,
                **({"endpoint": state["endpoint"], "account": state["account_id"],
                    "region": state["region"], "pid": state["pid"]} if state else {})}
    human = (f"Running at {state['endpoint']} for {state['account_id']} {state['region']} "
             f"(pid {state['pid']})." if state else "No local emulator is running.")
    output.result(document, human, as_json=as_json)
