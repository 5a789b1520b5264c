"""wimpy validate: check wimpy.yml without touching AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wimpy_cli import output
from wimpy_cli.commands.common import (ConfigOption, JsonOption, check_config_path,
                                       check_environments, next_command)
from wimpy_cli.errors import ExitCode, WimpyError


def validate(
    config: Path = ConfigOption,
    env: Optional[list[str]] = typer.Option(None, "--env", "-e", help="Also check that these environments exist."),
    as_json: bool = JsonOption,
) -> None:
    """Check wimpy.yml: every problem at once, with file, line, key and what is accepted.

    Example: wimpy validate -c examples/hello/wimpy.yml --env production
    """
    from wimpy_domain.config import ConfigError, load_config

    check_config_path(config)
    try:
        loaded = load_config(config)
    except ConfigError as error:
        if as_json:
            output.result({"valid": False, "problems": [
                {"file": str(p.file), "line": p.line, "key": p.key, "message": p.message}
                for p in error.problems]}, "", as_json=True)
            raise typer.Exit(ExitCode.INVALID_CONFIG) from None
        raise WimpyError(str(error), code=ExitCode.INVALID_CONFIG) from None
    check_environments(loaded, env)

    envs = ", ".join(f"{e.name} ({e.cidr})" for e in loaded.environments)
    human = (f"{config} is valid: application '{loaded.app.name}' on port {loaded.app.port}, "
             f"account {loaded.account.id} in {loaded.account.region}, environments {envs}.\n"
             f"Next: {next_command('synth', config=config)}")
    output.result({
        "valid": True,
        "app": loaded.app.name,
        "account": loaded.account.id,
        "region": loaded.account.region,
        "environments": list(loaded.environment_names),
    }, human, as_json=as_json)
