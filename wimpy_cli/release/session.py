"""A command's hold on an application's releases: the deploy lock (taken, kept alive,
released) and the release record, read once and then changed only through `apply`, which
writes each transition atomically and passes the kill points around it. When the command
is interrupted (Ctrl-C, SIGTERM, SIGHUP), it says what state traffic was left in and the
exact commands to resume, abort or roll back, before the lock is released."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

from wimpy_cli import faults, output
from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.hints import next_command

from .record import NOT_PROMOTED, PAUSED, ReleaseRecord, RefusedTransition
from .store import Heartbeat, LockHeld, LockLost, RecordChanged, RecordMissing, RecordStore, whoami

T = TypeVar("T")


class ReleaseSession:
    def __init__(self, store: RecordStore, lock: Any, record: ReleaseRecord,
                 wall_clock: Callable[[], float] = time.time):
        self.store, self.lock, self.record, self.wall_clock = store, lock, record, wall_clock
        self.by = whoami()

    @property
    def env(self) -> str:
        return self.store.env

    @property
    def app(self) -> str:
        return self.store.app

    def now(self) -> float:
        return self.wall_clock()

    def apply(self, name: str, change: Callable[[ReleaseRecord], T]) -> T:
        """Apply `change` (a transition) to a copy of the record and store it, conditional
        on the revision read and on the lock; only then is it the session's record."""
        faults.checkpoint(f"before {name}")
        updated = self.record.copy()
        try:
            result = change(updated)
        except RefusedTransition as refused:
            raise WimpyError(f"the release record refuses this: {refused}; nothing was changed.",
                             hint=f"See the record with `{next_command('releases', env=self.env)}`; "
                                  f"undo a canary with `{next_command('abort', env=self.env)}`.") from None
        try:
            self.record = self.store.write(updated, self.lock)
        except (LockLost, RecordChanged) as lost:
            raise WimpyError(f"{lost}; this command stopped without changing anything more.",
                             hint=f"See what happened with `{next_command('releases', env=self.env)}`.") from None
        faults.checkpoint(f"after {name}")
        return result


@contextmanager
def release_session(dynamodb: Any, *, env: str, app: str, what: str,
                    say: Callable[[str], None] = output.info) -> Iterator[ReleaseSession]:
    """Hold the deploy lock of `app` in `env` for the block, with the record read under it.
    LOCKED (exit 5) when another live command holds it; a dead holder's lock is taken over."""
    store = RecordStore(dynamodb, env, app)
    try:
        lock, previous = store.take(what)
    except LockHeld as held:
        raise WimpyError(
            f"another command is changing {app} in {env} ({held.holder.describe()}); nothing "
            "was changed.",
            code=ExitCode.LOCKED,
            hint=f"Wait for it to finish. If it died on another machine and the lock is not "
                 f"taken over by itself within a few minutes, remove it with:\n"
                 f"  {next_command('unlock', env=env)}") from None
    except RecordMissing:
        raise WimpyError(f"the account has no release record table yet, so nothing of {app} was "
                         f"ever deployed to {env} by this version of Wimpy.",
                         hint=f"Deploy first: {next_command('deploy', env=env)}") from None
    if previous is not None:
        say(f"  took over the lock left by {previous.describe()}, which is no longer running")
    session = ReleaseSession(store, lock, store.read())
    try:
        faults.checkpoint("lock taken")
        with Heartbeat(store, lock):
            yield session
    except KeyboardInterrupt:
        _say_where_traffic_is(session)
        raise
    finally:
        store.release(lock)


def read_record(dynamodb: Any, *, env: str, app: str) -> ReleaseRecord:
    """The record without the lock, for commands that only look (status, releases)."""
    try:
        return RecordStore(dynamodb, env, app).read()
    except RecordMissing:
        return ReleaseRecord(env=env, app=app)


def _say_where_traffic_is(session: ReleaseSession) -> None:
    """Before an interrupted command exits: what it left, and what to run next."""
    try:
        record = session.store.read()
    except Exception:  # the record cannot be read now: say what the command knew
        record = session.record
    for line in where_traffic_is(record):
        output.info(line)


def where_traffic_is(record: ReleaseRecord) -> list[str]:
    env = record.env
    live = record.live()
    lines = [f"Traffic of {record.app} in {env}: "
             + (f"{live.version} is live" if live else "no release is live")]
    for release in record.unfinished():
        lines.append(f"  {release.describe()}.")
        if release.state in NOT_PROMOTED:
            resume = next_command("deploy", env=env) + f" --version {release.version}"
            if release.state == PAUSED:
                resume = next_command("promote", env=env)
            lines.append(f"  Resume: {resume}")
            lines.append(f"  Undo:   {next_command('abort', env=env)}")
        else:
            lines.append(f"  Finish: {next_command('deploy', env=env)} --version "
                         f"{live.version if live else release.version}"
                         f"  (or any command that changes {record.app}: it finishes this first)")
    if live is not None and not any(r.state in NOT_PROMOTED for r in record.releases):
        lines.append(f"  Roll back: {next_command('rollback', env=env)}")
    return lines
