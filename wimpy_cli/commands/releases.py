"""wimpy releases: the release record of an application in an environment, newest first:
each version's state, when and by whom, why it was rolled back or failed, and how each
canary step was judged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wimpy_cli import output, targets
from wimpy_cli.commands.common import (ConfigOption, EnvOption, JsonOption, LocalOption, NumberOption, load,
                                       next_command)
from wimpy_cli.phases import Phases


def releases(config: Path = ConfigOption, env: str = EnvOption,
             limit: int = NumberOption(10, "--limit", help="Show at most this many releases.",
                                       minimum=1, integer=True, example=5),
             local: bool = LocalOption, as_json: bool = JsonOption) -> None:
    """Show the release record: versions, states, when, who, why, and each canary step.

    Example: wimpy releases --env production --limit 5
    """
    from wimpy_cli.release.session import read_record, where_traffic_is

    loaded = load(config, [env])
    with targets.open_target(loaded, local=targets.wants_local(local),
                             phases=Phases(stream=_Quiet()) if as_json else Phases()) as target:
        record = read_record(target.client("dynamodb"), env=env, app=loaded.app.name)
    shown = record.summary()[:limit]
    document = {"app": loaded.app.name, "environment": env, "releases": shown}
    lines = where_traffic_is(record) if record.releases else [
        f"{loaded.app.name} has no recorded release in {env}.",
        f"Next: {next_command('deploy', env=env)}"]
    output.result(document, "\n".join([*lines, "", *_table(shown)]) if shown else "\n".join(lines),
                  as_json=as_json)


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [f"{'version':<20} {'state':<13} {'since':<26} {'by':<24} why"]
    for row in rows:
        since = row["events"][-1]["at"] if row["events"] else row["created"]
        lines.append(f"{row['version'][:20]:<20} {row['state']:<13} {since:<26} {row['by'][:24]:<24} {row['why']}")
        for step in row["steps"]:
            problems = f": {'; '.join(step['problems'])}" if step["problems"] else ""
            lines.append(f"  step {step['step']} at {step['percent']:g}%: {step['outcome']} after "
                         f"{step['watched_seconds']:g}s watched from {step['started']}{problems}")
    return lines


class _Quiet:
    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass
