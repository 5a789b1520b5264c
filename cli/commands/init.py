"""wimpy init: write a commented starter wimpy.yml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from cli import output, starter
from cli.config import ConfigError, load_config
from cli.errors import ExitCode, WimpyError


def init(
    path: Path = typer.Option(Path("wimpy.yml"), "--path", "-p", help="Where to write the file."),
    name: Optional[str] = typer.Option(None, "--name", help="Application name. Default: this folder's name."),
    account_id: str = typer.Option("123456789012", "--account-id", help="12-digit AWS account id."),
    region: str = typer.Option("eu-west-1", "--region", help="AWS region."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter wimpy.yml, checked before it is written.

    Example: wimpy init --name billing-api --account-id 123456789012 --region eu-west-1
    """
    if path.exists() and not force:
        raise WimpyError(f"{path} already exists; nothing was written.",
                         code=ExitCode.USAGE, hint="Use --force to overwrite it.")
    app_name = name or _name_from_folder(path.resolve().parent.name)
    text = starter.render(name=app_name, account_id=account_id, region=region)
    # Check the rendered file before writing it, so a bad --name never lands on disk.
    candidate = path.with_name(f".{path.name}.wimpy-init")
    candidate.write_text(text, encoding="utf-8")
    try:
        load_config(candidate)
    except ConfigError as error:
        raise WimpyError("the flags would make an invalid wimpy.yml; nothing was written:\n"
                         + "\n".join(f"  {p.key}: {p.message}" for p in error.problems),
                         code=ExitCode.USAGE) from None
    finally:
        candidate.unlink(missing_ok=True)
    path.write_text(text, encoding="utf-8")
    output.info(f"Wrote {path} for application '{app_name}'.\n"
                f"Next: edit it, then run `wimpy validate -c {path}`.")


def _name_from_folder(folder: str) -> str:
    """A valid application name from a folder name: 'My_App' -> 'my-app'."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"app-{name}".strip("-")
    return name[:20].rstrip("-")
