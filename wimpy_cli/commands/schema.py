"""wimpy schema: wimpy.yml's JSON Schema, for an editor to complete and check the file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wimpy_cli import output
from wimpy_cli.commands.common import PATH_CHARACTERS, path_parser, shown
from wimpy_cli.errors import ExitCode, WimpyError


def schema(
    out: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write it to FILE (e.g. wimpy.schema.json beside "
        "wimpy.yml) instead of printing it.",
        parser=path_parser("-o/--output", what="the file to write", example="wimpy.schema.json")),
) -> None:
    """Print wimpy.yml's JSON Schema (every key, its type, range and meaning).

    Editors using yaml-language-server (VS Code, Neovim, ...) pick it up from the line
    `# yaml-language-server: $schema=./wimpy.schema.json` at the top of wimpy.yml, which
    `wimpy init` writes. Run this again after upgrading Wimpy.
    Example: wimpy schema -o wimpy.schema.json
    """
    from wimpy_domain.config.schema import MODELINE, text

    document = text()
    if out is None:
        typer.echo(document, nl=False)
        return
    try:
        out.write_text(document, encoding="utf-8")
    except OSError as error:
        raise WimpyError(f"-o/--output {shown(out, PATH_CHARACTERS)}: cannot write it "
                         f"({error.strerror}); give a file in a folder this user may write, "
                         "e.g. -o wimpy.schema.json", code=ExitCode.USAGE) from None
    output.info(f"Wrote {out}. Point wimpy.yml at it with its first line:\n  {MODELINE}")
