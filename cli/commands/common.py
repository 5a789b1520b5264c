"""Options and steps that several commands share."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.config import ConfigError, UnknownEnvironment, WimpyConfig, load_config
from cli.errors import ExitCode, WimpyError

ConfigOption = typer.Option(
    Path("wimpy.yml"), "--config", "-c", envvar="WIMPY_CONFIG",
    help="Path of the application's wimpy.yml.", show_default=True,
)
JsonOption = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def load(path: Path, environments: list[str] | None = None) -> WimpyConfig:
    """The validated config, with any --env checked against it; WimpyError otherwise."""
    try:
        config = load_config(path)
        for name in environments or []:
            config.environment(name)
    except ConfigError as error:
        raise WimpyError(str(error), code=ExitCode.INVALID_CONFIG,
                         hint="Nothing was deployed. Fix the lines above and run "
                              "`wimpy validate` again.") from None
    except UnknownEnvironment as error:
        raise WimpyError(str(error), code=ExitCode.INVALID_CONFIG) from None
    return config


LocalOption = typer.Option(False, "--local", help="Run against Wimpy's embedded AWS emulator "
                           "instead of your account (also WIMPY_TARGET=local).")
EnvOption = typer.Option(..., "--env", "-e", help="Environment (one of wimpy.yml's).")
