"""wimpy init: write a commented starter wimpy.yml."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Optional

import typer

from wimpy_cli import output, starter
from wimpy_cli.commands.common import PATH_CHARACTERS, next_command, path_parser, shown
from wimpy_cli.errors import ExitCode, WimpyError


def init(
    path: Path = typer.Option(Path("wimpy.yml"), "--path", "-p", help="Where to write the file.", metavar="PATH",
                              parser=path_parser("-p/--path", what="the wimpy.yml to write", example="wimpy.yml")),
    name: Optional[str] = typer.Option(None, "--name", help="Application name. Default: this folder's name."),
    account_id: str = typer.Option("123456789012", "--account-id", help="12-digit AWS account id."),
    region: str = typer.Option("eu-west-1", "--region", help="AWS region."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter wimpy.yml, checked before it is written.

    Example: wimpy init --name billing-api --account-id 123456789012 --region eu-west-1
    """
    from wimpy_domain.config import ConfigError, load_config

    if path.is_dir():
        raise WimpyError(f"-p/--path {shown(path, PATH_CHARACTERS)}: is a folder; give the file to write, e.g. "
                         f"-p {shlex.quote(str(path / 'wimpy.yml'))}", code=ExitCode.USAGE)
    if not path.parent.is_dir():
        raise WimpyError(f"-p/--path {shown(path, PATH_CHARACTERS)}: the folder {shown(path.parent, PATH_CHARACTERS)} does not "
                         "exist; create it first, or give a path in an existing folder, e.g. "
                         "-p wimpy.yml", code=ExitCode.USAGE)
    if path.exists() and not force:
        raise WimpyError(f"{path} already exists; nothing was written.",
                         code=ExitCode.USAGE, hint="Use --force to overwrite it.")
    app_name = name or _name_from_folder(path.resolve().parent.name)
    # The values go into YAML text: refuse anything that could change its structure (a
    # newline, a quote, a colon) by the flag's name, before the file is even rendered.
    for flag, value, accepted in (
            ("--name", app_name, "lowercase letters, digits and hyphens, e.g. --name billing-api"),
            ("--account-id", account_id, "the 12-digit account id, e.g. --account-id 123456789012"),
            ("--region", region, "an AWS region, e.g. --region eu-west-1")):
        if not _PLAIN.fullmatch(value):
            raise WimpyError(f"{flag} {shown(value)}: not a plain word; give {accepted}",
                             code=ExitCode.USAGE)
    text = starter.render(name=app_name, account_id=account_id, region=region)
    # Check the rendered file before writing it, so a bad --name never lands on disk.
    candidate = path.with_name(f".{path.name}.wimpy-init")
    try:
        candidate.write_text(text, encoding="utf-8")
    except OSError as error:
        raise WimpyError(f"-p/--path {shown(path, PATH_CHARACTERS)}: cannot write in {shown(path.parent, PATH_CHARACTERS)} "
                         f"({error.strerror}); give a path this user may write, e.g. -p wimpy.yml",
                         code=ExitCode.USAGE) from None
    try:
        load_config(candidate)
    except ConfigError as error:
        raise WimpyError("the flags would make an invalid wimpy.yml; nothing was written:\n"
                         + "\n".join(f"  {_FLAG_OF_KEY[p.key] + ': ' if p.key in _FLAG_OF_KEY else ''}"
                                      f"{p.key}: {p.message}" for p in error.problems),
                         code=ExitCode.USAGE) from None
    finally:
        candidate.unlink(missing_ok=True)
    path.write_text(text, encoding="utf-8")
    ignored = _ignore_synthesized_templates(path.parent)
    schema = _write_schema(path.parent)
    output.info(f"Wrote {path} for application '{app_name}'{schema}{ignored}. Edit it, then "
                f"check it.\nNext: {next_command('validate', config=path, local=False)}")


def _write_schema(folder: Path) -> str:
    """wimpy.yml's JSON Schema beside it (its first line points editors there); what was
    done, for the message. Wimpy's own file: written again by each init (and `wimpy schema
    -o`), so an upgraded Wimpy's keys reach the editor."""
    from wimpy_domain.config.schema import SCHEMA_FILE, text

    target = folder / SCHEMA_FILE
    try:
        target.write_text(text(), encoding="utf-8")
    except OSError as error:
        return f" (could not write {target}: {error.strerror}; `wimpy schema -o` writes it)"
    return f", its JSON Schema {target} for editors"


# How a .gitignore may already name the folder `wimpy synth` writes templates to.
_CDK_OUT_LINES = {"cdk.out", "cdk.out/", "/cdk.out", "/cdk.out/", "**/cdk.out", "**/cdk.out/"}


def _ignore_synthesized_templates(folder: Path) -> str:
    """Add cdk.out/ (the templates `wimpy synth` writes next to wimpy.yml) to the folder's
    .gitignore unless a line names it already; what was done, for the message."""
    gitignore = folder / ".gitignore"
    try:
        existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
        if any(line.strip() in _CDK_OUT_LINES for line in existing.splitlines()):
            return ""
        separator = "" if not existing or existing.endswith("\n") else "\n"
        with gitignore.open("a", encoding="utf-8") as file:
            file.write(f"{separator}# Templates wimpy synth writes (made again on every synth)\ncdk.out/\n")
    except (OSError, UnicodeDecodeError) as error:
        return f" (could not add cdk.out/ to {gitignore}: {getattr(error, 'strerror', None) or error})"
    return f" and added cdk.out/ to {gitignore}"


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_FLAG_OF_KEY = {"app.name": "--name", "account.id": "--account-id", "account.region": "--region",
                "account.availability_zones": "--region"}


def _name_from_folder(folder: str) -> str:
    """A valid application name from a folder name: 'My_App' -> 'my-app'."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"app-{name}".strip("-")
    return name[:20].rstrip("-")
