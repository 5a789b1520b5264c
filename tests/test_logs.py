"""`wimpy logs`: the application's CloudWatch Logs events, read through the embedded
emulator (the log group and its events are put there with boto3, as the instances' agent
would), with --since, --json and --follow (its loop driven with an injected stop
condition and no real pauses)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

import wimpy_cli.commands.logs as logs_command
from wimpy_cli.commands.logs import fetch_events, follow_events, format_event, parse_since
from wimpy_cli.errors import ExitCode, WimpyError
from tests.conftest import EXAMPLE

GROUP = "/wimpy/staging/hello"
# "Now" for these tests: the events are stamped back from it and `wimpy logs` counts --since
# back from it (its clock is set to it below), however long the suite takes to get here.
# Close to the real time only because the emulator, like CloudWatch, refuses events more
# than 14 days old.
NOW_MS = int(time.time() * 1000)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    now = datetime.fromtimestamp(NOW_MS / 1000, tz=timezone.utc)
    monkeypatch.setattr(logs_command, "utc_now", lambda: now)
    return now


def logs_app():
    """The `wimpy` app with `logs` registered (wimpy_cli/main.py registers it for users)."""
    import typer

    from wimpy_cli import reporting

    app = typer.Typer()
    app.command()(reporting.reports_errors(logs_command.logs))

    @app.command()
    def _other() -> None:  # a second command keeps typer from making `logs` the whole app
        pass

    return app


def wimpy_logs(*args):
    return CliRunner().invoke(logs_app(), ["logs", "-c", str(EXAMPLE), "--env", "staging",
                                           "--local", *args])




def put(client, stream: str, *events: tuple[int, str], group: str = GROUP) -> None:
    """Events (milliseconds before NOW_MS, message) into `stream`, created if need be."""
    try:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    except client.exceptions.ResourceAlreadyExistsException:
        pass
    client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": NOW_MS - ago, "message": message} for ago, message in events])


def iso(ms_before_now: int) -> str:
    moment = datetime.fromtimestamp((NOW_MS - ms_before_now) / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


MINUTE = 60_000


def delete_groups(client, *names: str) -> None:
    for name in names:
        try:
            client.delete_log_group(logGroupName=name)
        except client.exceptions.ResourceNotFoundException:
            pass


def test_before_the_first_deploy_the_message_says_deploy_first(emulator):
    delete_groups(emulator.client("logs"), GROUP)  # nothing has run in staging
    result = wimpy_logs()
    assert result.exit_code == ExitCode.FAILED, result.output
    assert f"the log group {GROUP} does not exist yet" in result.stderr
    assert "Deploy first: wimpy deploy --env staging" in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def log_group(emulator):
    """The staging group with its events (and production's, which must not show up), for
    one test: removed afterwards, with whatever the test added."""
    client = emulator.client("logs")
    delete_groups(client, GROUP, "/wimpy/production/hello")
    client.create_log_group(logGroupName=GROUP)
    put(client, "i-0aaaaaaaaaaaaaaaa", (30 * MINUTE, "old: started"), (5 * MINUTE, "GET / 200"))
    put(client, "i-0bbbbbbbbbbbbbbbb", (2 * MINUTE, "GET /health 200\n"))
    put(client, "i-00000000000000000", (3 * MINUTE, "POST /form 302"))
    client.create_log_group(logGroupName="/wimpy/production/hello")  # must not show up
    put(client, "i-0ccc", (1 * MINUTE, "production line"), group="/wimpy/production/hello")
    yield client
    delete_groups(client, GROUP, "/wimpy/production/hello", FOLLOW_GROUP)


FOLLOW_GROUP = "/wimpy/staging/follow"


def test_recent_events_of_every_stream_in_time_order(log_group):
    result = wimpy_logs()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{iso(5 * MINUTE)} i-0aaaaaaaaaaaaaaaa GET / 200",
        f"{iso(3 * MINUTE)} i-00000000000000000 POST /form 302",
        f"{iso(2 * MINUTE)} i-0bbbbbbbbbbbbbbbb GET /health 200",
    ]


def test_since_reaches_further_back(log_group):
    result = wimpy_logs("--since", "1h")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and lines[0] == f"{iso(30 * MINUTE)} i-0aaaaaaaaaaaaaaaa old: started"


def test_since_takes_a_time_too(log_group):
    moment = datetime.fromtimestamp((NOW_MS - 4 * MINUTE) / 1000, tz=timezone.utc)
    result = wimpy_logs("--since", moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{iso(3 * MINUTE)} i-00000000000000000 POST /form 302",
        f"{iso(2 * MINUTE)} i-0bbbbbbbbbbbbbbbb GET /health 200"]


def test_json_is_one_document(log_group):
    result = wimpy_logs("--since", "1h", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["log_group"] == GROUP
    assert [e["message"] for e in document["events"]] == ["old: started", "GET / 200",
                                                           "POST /form 302", "GET /health 200"]
    assert document["events"][0]["stream"] == "i-0aaaaaaaaaaaaaaaa"
    assert document["events"][0]["timestamp"] == iso(30 * MINUTE)


def test_no_events_is_said_on_stderr(log_group):
    result = wimpy_logs("--since", "10s")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"No events in {GROUP} since" in result.stderr


def test_a_bad_since_is_a_usage_error(log_group):
    result = wimpy_logs("--since", "ten minutes")
    assert result.exit_code == ExitCode.USAGE
    assert "--since: 'ten minutes' is neither a duration (30s, 10m, 2h, 1d, 1w) nor a time" in result.stderr


def test_every_page_is_read(log_group):
    put(log_group, "i-0ddd", *[(4 * MINUTE - i, f"burst {i}") for i in range(7)])
    events = list(fetch_events(log_group, GROUP, NOW_MS - 10 * MINUTE, page_size=2))
    assert len(events) == 3 + 7
    assert len({(e["logStreamName"], e["eventId"]) for e in events}) == 10


def test_follow_prints_each_event_once_as_it_arrives(log_group, monkeypatch):
    """Three polls: what is there, then new events (one that arrived late, stamped before
    the newest already shown), then nothing new; the stop condition ends the loop."""
    group = FOLLOW_GROUP
    log_group.create_log_group(logGroupName=group)
    put(log_group, "i-1", (60_000, "first"), (50_000, "second"), group=group)
    emitted: list[str] = []
    polls = {"count": 0}
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if polls["count"] == 1:
            put(log_group, "i-1", (40_000, "third"), group=group)
            put(log_group, "i-2", (55_000, "late, from another instance"), group=group)

    def should_stop() -> bool:
        polls["count"] += 1
        return polls["count"] == 3

    monkeypatch.setattr(logs_command, "sleep", pause)
    follow_events(log_group, group, NOW_MS - 5 * MINUTE,
                  emit=lambda event: emitted.append(event["message"]), should_stop=should_stop)
    assert emitted == ["first", "second", "late, from another instance", "third"]
    assert pauses == [2.0, 2.0]  # every 2 s, and no pause after the last poll


def test_follow_on_the_command_line_stops_cleanly_on_ctrl_c(log_group, monkeypatch):
    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(logs_command, "sleep", interrupt)
    result = wimpy_logs("--follow")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"{iso(2 * MINUTE)} i-0bbbbbbbbbbbbbbbb GET /health 200"
    assert "Following /wimpy/staging/hello (Ctrl-C to stop)." in result.stderr
    assert "Stopped." in result.stderr


def test_follow_with_json_prints_one_object_per_line(log_group, monkeypatch):
    monkeypatch.setattr(logs_command, "sleep", lambda seconds: (_ for _ in ()).throw(KeyboardInterrupt))
    result = wimpy_logs("--follow", "--json", "-f")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(set(r) == {"timestamp", "stream", "message", "id"} for r in records)


# --- parsing and formatting ---------------------------------------------------------------

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, back", [
    ("30s", timedelta(seconds=30)), ("10m", timedelta(minutes=10)), ("2h", timedelta(hours=2)),
    ("1d", timedelta(days=1)), ("1w", timedelta(weeks=1)), (" 5m ", timedelta(minutes=5)),
])
def test_since_durations(text, back):
    assert parse_since(text, now=NOW) == int((NOW - back).timestamp() * 1000)


@pytest.mark.parametrize("text, moment", [
    ("2026-11-26T06:30:00Z", datetime(2026, 11, 26, 6, 30, tzinfo=timezone.utc)),
    ("2026-11-26T06:30:00", datetime(2026, 11, 26, 6, 30, tzinfo=timezone.utc)),  # UTC
    ("2026-11-26T08:30:00+02:00", datetime(2026, 11, 26, 6, 30, tzinfo=timezone.utc)),
    ("2026-11-25", datetime(2026, 11, 25, tzinfo=timezone.utc)),
])
def test_since_times(text, moment):
    assert parse_since(text, now=NOW) == int(moment.timestamp() * 1000)


@pytest.mark.parametrize("text, fragment", [
    ("10", "is neither a duration"), ("10 minutes", "is neither a duration"),
    ("-5m", "is neither a duration"), ("2026-11-27T00:00:00Z", "is in the future"),
])
def test_since_refuses_what_it_cannot_read(text, fragment):
    with pytest.raises(WimpyError, match=fragment) as raised:
        parse_since(text, now=NOW)
    assert raised.value.code == ExitCode.USAGE


def test_an_event_is_one_line_with_time_and_stream():
    assert format_event({"timestamp": 1795676400123, "logStreamName": "i-0abc",
                         "message": "hello\n"}) == "2026-11-26T07:00:00.123Z i-0abc hello"
