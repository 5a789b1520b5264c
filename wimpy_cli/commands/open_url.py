"""wimpy open: the application's URL in an environment, opened in a browser (as `heroku
open` does), or only printed."""

from __future__ import annotations

from pathlib import Path

import typer

from wimpy_cli import output, targets
from wimpy_cli.commands.common import ConfigOption, EnvOption, JsonOption, LocalOption, load, next_command
from wimpy_cli.commands.status import collect
from wimpy_cli.errors import WimpyError
from wimpy_cli.phases import Phases


def open_(config: Path = ConfigOption, env: str = EnvOption, local: bool = LocalOption,
          print_only: bool = typer.Option(False, "--print", help="Print the URL without opening "
                                                                  "a browser."),
          as_json: bool = JsonOption) -> None:
    """Open the application's URL (of the release serving the most traffic) in a browser.

    Example: wimpy open --env production
    """
    loaded = load(config, [env])
    phases = Phases()  # on stderr: with --json, standard output is the document alone
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        rows = [row for row in collect(target, env, loaded.app.name) if row["url"]]
    if not rows:
        raise WimpyError(f"no release of {loaded.app.name} in {env} has a URL yet: nothing is "
                         "deployed there.",
                         hint=f"Deploy it first: {next_command('deploy', env=env)}")
    serving = max(rows, key=lambda row: row["share"])
    url = serving["url"]
    opened = False
    said = url
    if not (print_only or as_json):
        import webbrowser

        opened = webbrowser.open(url)
        said += ("\n(opened in your browser)" if opened
                 else "\n(no browser found here: open it yourself)")
    output.result({"app": loaded.app.name, "environment": env, "url": url,
                   "version": serving["version"], "opened": opened}, said, as_json=as_json)
