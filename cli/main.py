"""The `wimpy` command. Commands are imported here; none of them imports the CDK at
module level, so `wimpy --help` starts in a fraction of a second."""

from __future__ import annotations

import typer

from cli import reporting
from cli.commands.baseline import baseline
from cli.commands.build import build
from cli.commands.deploy import deploy
from cli.commands.destroy import destroy
from cli.commands.diff import diff
from cli.commands.cost import cost
from cli.commands.init import init
from cli.commands.logs import logs
from cli.commands.plan import plan
from cli.commands.status import status
from cli.commands.unlock import unlock
from cli.commands.traffic import abort, promote, rollback
from cli.commands.synth import synth
from cli.commands.validate import validate

app = typer.Typer(
    name="wimpy",
    help="Deploy a Dockerized application to your own AWS account, the way a careful "
         "platform team would.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for command in (init, validate, synth, diff, baseline, build, deploy, status, promote, abort, rollback, destroy, logs,
                unlock, plan, cost):
    app.command()(reporting.reports_errors(command))


from cli.commands import local as _local  # noqa: E402

app.add_typer(_local.app, name="local")


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")) -> None:
    reporting.set_debug(debug)


def main() -> None:
    app()
