"""Turning a WimpyError into one clear paragraph on stderr and its exit code, for every
command, unless --debug asks for the traceback."""

from __future__ import annotations

import functools
from typing import Any, Callable

import typer

from cli import output
from cli.errors import WimpyError

_state = {"debug": False}


def set_debug(on: bool) -> None:
    _state["debug"] = on


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WimpyError as error:
            if _state["debug"]:
                raise
            output.error(str(error), error.hint)
            raise typer.Exit(int(error.code)) from None
    return run
