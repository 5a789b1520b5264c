"""The deploy lock and the record's compare-and-swap (wimpy_cli/release/store.py), against the
emulator's DynamoDB over HTTP: who holds it and since when, a dead holder's lock taken
over, a lapsed lease, a record written only at the revision it was read at and only by the
lock's holder; and the race the fault trial found (two processes both inside): N
processes start at the same instant, round after round, with and without a dead holder's
lock to take over, and exactly one enters each round."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from wimpy_domain import naming
from wimpy_cli.release.store import LEASE_SECONDS, LockHeld, LockLost, RecordChanged, RecordStore
from tests.lock_support import a_dead_pid

ENV, APP = "production", "web"
PROCESSES, ROUNDS = 8, 50


@pytest.fixture(scope="module")
def endpoint():
    from wimpy_cli.local.emulator import LocalAws

    with LocalAws("111111111111", "eu-west-1") as local:
        local.client("dynamodb").create_table(
            TableName=naming.release_record_table(), BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        yield (local.endpoint, local.access_key_id, local.secret_access_key)


def dynamodb(endpoint: tuple[str, str, str]):
    """A client of the emulator's account (moto tells accounts by the access key)."""
    import boto3

    url, key, secret = endpoint
    return boto3.client("dynamodb", endpoint_url=url, region_name="eu-west-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


@pytest.fixture
def store(endpoint, request):
    app = "app" + str(abs(hash(request.node.name)) % 10**8)
    return RecordStore(dynamodb(endpoint), ENV, app)


def plant_lock(store: RecordStore, *, pid: int, heartbeat: float, host: str | None = None) -> None:
    """A lock as a command (here or elsewhere) that is now gone would have left it."""
    from tests.lock_support import plant_lock as plant

    plant(store.dynamodb, store.env, store.app, pid=pid, heartbeat=heartbeat, host=host,
          by="bob@ci-runner-7", what="deploy v9")


def test_the_lock_says_who_where_since_when_and_what(store):
    import time

    lock, previous = store.take("deploy v2.0.0")
    assert previous is None
    held = store.holder()
    assert (held.holder, held.pid, held.what) == (lock.holder, os.getpid(), "deploy v2.0.0")
    assert abs(held.since - time.time()) < 60 and "@" in held.by
    assert held.describe().startswith("deploy v2.0.0 by ")
    with pytest.raises(LockHeld) as refused:
        store.take("rollback")  # this process is alive: its lock is never taken over
    assert refused.value.holder.holder == lock.holder
    store.release(lock)
    assert store.holder() is None


def test_a_dead_holders_lock_on_this_machine_is_taken_over(store):
    import time

    plant_lock(store, pid=a_dead_pid(), heartbeat=time.time())
    lock, previous = store.take("deploy v3")
    assert previous.by == "bob@ci-runner-7" and previous.what == "deploy v9"
    assert store.holder().holder == lock.holder


def test_a_lock_elsewhere_is_taken_over_only_once_its_lease_lapsed(store):
    import time

    plant_lock(store, pid=1, heartbeat=time.time() - LEASE_SECONDS + 30, host="another-machine")
    with pytest.raises(LockHeld):
        store.take("deploy v3")  # renewed 90 s ago: its holder may well be alive
    plant_lock(store, pid=1, heartbeat=time.time() - LEASE_SECONDS - 1, host="another-machine")
    lock, previous = store.take("deploy v3")
    assert previous is not None and store.holder().holder == lock.holder


def test_renewing_keeps_the_lease_and_a_lock_taken_away_is_lost(store):
    clock = [1000.0]
    timed = RecordStore(store.dynamodb, store.env, store.app, clock=lambda: clock[0])
    lock, _ = timed.take("deploy v1")
    clock[0] += LEASE_SECONDS - 10
    timed.renew(lock)
    assert timed.holder().heartbeat == clock[0]
    store.force_release()  # `wimpy unlock` by someone who thought it dead
    with pytest.raises(LockLost):
        timed.renew(lock)


def test_the_record_is_written_only_at_the_revision_read_and_only_by_the_holder(store):
    lock, _ = store.take("deploy v1")
    record = store.read()
    assert record.revision == 0 and record.releases == []
    record.begin(version="v1", image="r/web:v1", stack="s", strategy="rolling", steps=[], by="a", now=1.0)
    first = store.write(record, lock)
    assert first.revision == 1 and store.read().get("v1").state == "deploying"
    with pytest.raises(RecordChanged):
        store.write(record, lock)  # still at revision 0: another write came in between
    # The lock taken over by another command: this one's writes are refused.
    store.force_release()
    other, _ = store.take("deploy v2")
    first.stack_ready("v1", by="a", now=2.0)
    with pytest.raises(LockLost):
        store.write(first, lock)
    assert store.read().revision == 1
    assert store.write(first, other).revision == 2


# -- the race -----------------------------------------------------------------------------------

def _contender(endpoint: tuple[str, str, str], app: str, rounds: int, start, tried, done, entered) -> None:
    """One process: every round, start with the others, try to take the lock, and if it
    got it, hold it until every process has tried, then let it go."""
    store = RecordStore(dynamodb(endpoint), ENV, app)
    for round_ in range(rounds):
        start.wait()
        try:
            lock, _ = store.take(f"deploy round {round_}")
        except LockHeld:
            lock = None
        if lock is not None:
            entered.put((round_, os.getpid()))
        tried.wait()
        if lock is not None:
            store.release(lock)
        done.wait()


@pytest.mark.parametrize("dead_holder", [False, True], ids=["free lock", "a dead holder's lock"])
def test_of_many_processes_starting_at_once_exactly_one_enters(endpoint, dead_holder):
    context = multiprocessing.get_context("spawn")
    start, tried, done = (context.Barrier(PROCESSES + 1) for _ in range(3))
    entered = context.Queue()
    app = f"race{int(dead_holder)}"
    store = RecordStore(dynamodb(endpoint), ENV, app)
    processes = [context.Process(target=_contender, args=(endpoint, app, ROUNDS, start, tried, done, entered))
                 for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    import time

    winners: dict[int, list[int]] = {}
    try:
        for round_ in range(ROUNDS):
            if dead_holder:
                plant_lock(store, pid=a_dead_pid(), heartbeat=time.time())
            for barrier in (start, tried, done):
                barrier.wait(timeout=20)
        while True:  # every winner put its round before `tried`
            try:
                got_round, pid = entered.get(timeout=2)
            except Exception:
                break
            winners.setdefault(got_round, []).append(pid)
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    assert all(process.exitcode == 0 for process in processes)
    counts = [len(winners.get(round_, [])) for round_ in range(ROUNDS)]
    assert counts == [1] * ROUNDS, f"processes entering per round: {counts}"
