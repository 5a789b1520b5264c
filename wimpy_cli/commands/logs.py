"""wimpy logs: the application's log events from CloudWatch Logs (the log group
`/wimpy/<env>/<app>` its instances ship the container's output to), since a moment, and
with --follow as they arrive."""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import typer

from wimpy_cli import output, targets

from wimpy_domain import naming
from wimpy_cli.commands.common import ConfigOption, JsonOption, LocalOption, load, next_command, shown
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.phases import Phases

POLL_SECONDS = 2.0
# A follow poll looks this far back before the newest event it has seen, so events that
# reach CloudWatch late (another instance, a slow agent) are not skipped; event ids keep
# them from being printed twice.
LOOKBACK_MS = 10_000
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION = re.compile(r"([0-9]+)([smhdw])", re.ASCII)

sleep = time.sleep  # the follow loop's pause; tests replace it


def utc_now() -> datetime:
    """The moment --since durations count back from; tests replace it, as they do `sleep`."""
    return datetime.now(timezone.utc)


def logs(
    config: Path = ConfigOption,
    env: str = typer.Option(..., "--env", "-e", help="Environment whose logs to show."),
    since: str = typer.Option("10m", "--since", help="How far back to start: a duration "
                              "(30s, 10m, 2h, 1d) or a UTC time (2026-11-26T07:00:00Z)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new events "
                                "(every 2 s) until Ctrl-C."),
    local: bool = LocalOption,
    as_json: bool = JsonOption,
) -> None:
    """Print the application's log events (its container's output), oldest first, one line
    each with the time and the log stream (the instance). With --json: one document, or with
    --follow one JSON object per line.

    Example: wimpy logs --env staging --since 1h --follow
    """
    loaded = load(config, [env])
    start_ms = parse_since(since)
    group = naming.application_log_group(env, loaded.app.name)
    phases = Phases()
    with targets.open_target(loaded, local=targets.wants_local(local), phases=phases) as target:
        client = target.client("logs")
        if follow:
            emit = _json_line if as_json else _text_line
            output.info(f"Following {group} (Ctrl-C to stop).")
            try:
                follow_events(client, group, start_ms, emit=emit, env=env)
            except KeyboardInterrupt:
                output.info("Stopped.")
            return
        # Oldest first across streams (AWS interleaves them; not every emulator does).
        events = sorted(fetch_events(client, group, start_ms, env=env),
                        key=lambda event: event["timestamp"])
    if not events:
        output.info(f"No events in {group} since {_iso(start_ms)}.")
    human = "\n".join(format_event(event) for event in events)
    if as_json:
        output.result({"log_group": group, "since": _iso(start_ms),
                       "events": [_record(event) for event in events]}, "", as_json=True)
    elif human:
        output.result({}, human, as_json=False)


def parse_since(text: str, *, now: datetime | None = None) -> int:
    """--since as epoch milliseconds: a duration back from now, or an ISO 8601 time (UTC
    unless it says otherwise)."""
    now = now or utc_now()
    value = text.strip()
    if match := DURATION.fullmatch(value):
        try:
            moment = now - timedelta(seconds=int(match[1]) * UNITS[match[2]])
        except OverflowError:
            raise WimpyError(f"--since: {shown(text)} reaches back before year 1; give a shorter "
                             "duration, e.g. --since 10m", code=ExitCode.USAGE) from None
        return int(moment.timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise WimpyError(f"--since: {shown(text)} is neither a duration (30s, 10m, 2h, 1d, 1w) nor "
                         "a time (2026-11-26T07:00:00Z).", code=ExitCode.USAGE) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if moment > now:
        raise WimpyError(f"--since: {shown(text)} is in the future; give a duration back from "
                         "now or a past time, e.g. --since 10m", code=ExitCode.USAGE)
    return int(moment.timestamp() * 1000)


def fetch_events(client: Any, group: str, start_ms: int, *, env: str = "<env>",
                 page_size: int | None = None) -> Iterator[dict[str, Any]]:
    """Every event of `group` from `start_ms` on, across its streams, oldest first, page by
    page; WimpyError when the group does not exist yet."""
    paginator = client.get_paginator("filter_log_events")
    pagination = {"PageSize": page_size} if page_size else {}
    try:
        for page in paginator.paginate(logGroupName=group, startTime=start_ms,
                                       PaginationConfig=pagination):
            yield from page.get("events", [])
    except client.exceptions.ResourceNotFoundException:
        raise WimpyError(f"the log group {group} does not exist yet: nothing of this "
                         f"application has run in {env}.",
                         hint=f"Deploy first: {next_command('deploy', env=env)}") from None


def follow_events(client: Any, group: str, start_ms: int, *, emit: Callable[[dict], None],
                  env: str = "<env>", interval: float = POLL_SECONDS,
                  should_stop: Callable[[], bool] = lambda: False,
                  page_size: int | None = None) -> None:
    """Poll `group` every `interval` seconds, emitting each event once (by event id), until
    `should_stop()` says so (checked after each poll) or Ctrl-C."""
    seen: dict[tuple[str, str], int] = {}
    newest = start_ms
    while True:
        window = max(start_ms, newest - LOOKBACK_MS)
        fresh = [event for event in fetch_events(client, group, window, env=env,
                                                 page_size=page_size)
                 if _key(event) not in seen]
        for event in sorted(fresh, key=lambda e: e["timestamp"]):
            emit(event)
            seen[_key(event)] = event["timestamp"]
            newest = max(newest, event["timestamp"])
        floor = max(start_ms, newest - LOOKBACK_MS)
        for key in [key for key, stamp in seen.items() if stamp < floor]:
            del seen[key]  # older than any later poll asks for
        if should_stop():
            return
        sleep(interval)


def format_event(event: dict[str, Any]) -> str:
    return f"{_iso(event['timestamp'])} {event.get('logStreamName', '-')} " \
           f"{event.get('message', '').rstrip()}"


def _key(event: dict[str, Any]) -> tuple[str, str]:
    return event.get("logStreamName", ""), str(event.get("eventId", ""))


def _iso(milliseconds: int) -> str:
    moment = datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record(event: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": _iso(event["timestamp"]), "stream": event.get("logStreamName", ""),
            "message": event.get("message", "").rstrip("\n"), "id": event.get("eventId", "")}


def _text_line(event: dict[str, Any]) -> None:
    output.result({}, format_event(event), as_json=False)
    _flush()


def _json_line(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(_record(event), sort_keys=True) + "\n")
    _flush()


def _flush() -> None:
    sys.stdout.flush()
