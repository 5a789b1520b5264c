"""The `wimpy` command. Commands are imported here; none of them imports the CDK at
module level, so `wimpy --help` starts in a fraction of a second.

Every command, the `wimpy local` ones included, runs behind reporting.reports_errors: a
failure is one paragraph and a documented exit code, never a traceback without --debug."""

from __future__ import annotations

import copy
from typing import Any

import typer
import typer.core

from wimpy_cli import reporting
from wimpy_cli.commands.baseline import baseline
from wimpy_cli.commands.build import build
from wimpy_cli.commands.deploy import deploy
from wimpy_cli.commands.destroy import destroy
from wimpy_cli.commands.diff import diff
from wimpy_cli.commands.exec_shell import exec_
from wimpy_cli.commands.cost import cost
from wimpy_cli.commands.init import init
from wimpy_cli.commands.logs import logs
from wimpy_cli.commands.open_url import open_
from wimpy_cli.commands.plan import plan
from wimpy_cli.commands.releases import releases
from wimpy_cli.commands.schema import schema
from wimpy_cli.commands.status import status
from wimpy_cli.commands.unlock import unlock
from wimpy_cli.commands.traffic import abort, promote, rollback
from wimpy_cli.commands.synth import synth
from wimpy_cli.commands.validate import validate


class _PlainErrors(typer.core.TyperGroup):
    """Help stays rich; errors of the command line (a bad or missing flag) are printed
    as plain lines, like Wimpy's own, so a message is never cut by a box's line wrapping
    and always names the flag and the value on one line."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        return typer.core._main(self, args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=standalone_mode,
                                windows_expand_args=windows_expand_args,
                                rich_markup_mode=None, **extra)


app = typer.Typer(
    name="wimpy",
    cls=_PlainErrors,
    help="Deploy a Dockerized application to your own AWS account, the way a careful "
         "platform team would.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)
for command in (init, validate, synth, diff, baseline, build, deploy, status, releases, promote, abort, rollback, destroy, logs,
                unlock, plan, cost, schema):
    app.command()(reporting.reports_errors(command))
app.command(name="open")(reporting.reports_errors(open_))
app.command(name="exec")(reporting.reports_errors(exec_))


def reporting_errors(group: typer.Typer) -> typer.Typer:
    """`group` with every command (and sub-group) behind reports_errors; `group` itself is
    left as it is."""
    wrapped = copy.copy(group)
    wrapped.registered_commands = []
    for info in group.registered_commands:
        info = copy.copy(info)
        info.callback = reporting.reports_errors(info.callback)
        wrapped.registered_commands.append(info)
    wrapped.registered_groups = []
    for sub in group.registered_groups:
        sub = copy.copy(sub)
        sub.typer_instance = reporting_errors(sub.typer_instance)
        wrapped.registered_groups.append(sub)
    return wrapped


from wimpy_cli.commands import local as _local  # noqa: E402

app.add_typer(reporting_errors(_local.app), name="local")


def _show_version(asked: bool) -> None:
    """`wimpy --version`: this package's version, and the CDK CLI it runs (pinned)."""
    if not asked:
        return
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from wimpy_cli import toolchain

    try:
        mine = version("wimpy")
    except PackageNotFoundError:  # run from a checkout that was never installed
        mine = "(not installed as a package)"
    typer.echo(f"wimpy {mine} (CDK CLI {toolchain.CDK_CLI_VERSION}, Python {platform.python_version()})")
    raise typer.Exit()


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
             verbose: bool = typer.Option(False, "--verbose", "-v",
                                          help="Show the CDK CLI's own output (every CloudFormation "
                                               "event) instead of one line per stack."),
             _version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                           help="Show Wimpy's version and the CDK CLI it runs, "
                                                "then exit.")) -> None:
    reporting.set_debug(debug)
    from wimpy_cli import live

    live.set_verbose(verbose)


def main() -> None:
    app()
