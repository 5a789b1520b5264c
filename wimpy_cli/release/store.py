"""Where the release record and the deploy lock live: one DynamoDB table in the account
(made by the baseline stack), so every laptop and CI runner sees the same record. Every
change is a conditional write, a compare-and-swap:

- the lock is created only if absent, taken over only from the exact holder (and
  heartbeat) that was judged dead, renewed and released only by its holder;
- the record is written only at the revision it was read at, and only in one transaction
  with a check that the writer still holds the lock.

So two processes can never both hold the lock, nor both advance the same release."""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from wimpy_domain import naming
from wimpy_cli.processes import is_running

from .record import ReleaseRecord

# A lock whose holder has not renewed it for this long is taken over (its holder died on
# another machine). Holders renew every HEARTBEAT_SECONDS, far inside the lease.
LEASE_SECONDS = 120
HEARTBEAT_SECONDS = 20


class RecordMissing(Exception):
    """The table is not there: the account's baseline stack was never deployed."""


class LockHeld(Exception):
    def __init__(self, holder: Lock):
        self.holder = holder
        super().__init__(holder.describe())


class LockLost(Exception):
    """This process no longer holds the lock (it was removed or taken over): it must stop."""


class RecordChanged(Exception):
    """The record changed since it was read: another process wrote it."""


@dataclass(frozen=True)
class Lock:
    holder: str  # a fresh id per taking
    by: str  # user@host
    host: str
    pid: int
    since: float
    what: str  # e.g. "deploy v2.0.0"
    heartbeat: float

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.since))
        return f"{self.what} by {self.by} (pid {self.pid}) since {since}"

    def dead(self, now: float) -> bool:
        """Its holder is gone: a process of this machine that no longer runs, or a holder
        anywhere that stopped renewing the lease."""
        if self.host == socket.gethostname() and self.pid != os.getpid() and not is_running(self.pid):
            return True
        return now - self.heartbeat > LEASE_SECONDS


def whoami() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


class RecordStore:
    def __init__(self, dynamodb: Any, env: str, app: str, *, clock: Callable[[], float] = time.time):
        self.dynamodb, self.env, self.app, self.clock = dynamodb, env, app, clock
        self.table = naming.release_record_table()
        self._record_key = {"id": {"S": f"record:{env}/{app}"}}
        self._lock_key = {"id": {"S": f"lock:{env}/{app}"}}

    # -- the record ------------------------------------------------------------------------

    def read(self) -> ReleaseRecord:
        item = self._get(self._record_key)
        if item is None:
            return ReleaseRecord(env=self.env, app=self.app)
        return ReleaseRecord.from_json(item["body"]["S"], revision=int(item["revision"]["N"]))

    def write(self, record: ReleaseRecord, lock: Lock) -> ReleaseRecord:
        """Store `record` if the stored one is still at record.revision and `lock` is still
        held; returns the record at its new revision."""
        revision = record.revision + 1
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {**self._record_key, "body": {"S": record.to_json()}, "revision": {"N": str(revision)}},
        }
        if record.revision == 0:
            put["ConditionExpression"] = "attribute_not_exists(id)"
        else:
            put["ConditionExpression"] = "revision = :read"
            put["ExpressionAttributeValues"] = {":read": {"N": str(record.revision)}}
        try:
            self.dynamodb.transact_write_items(TransactItems=[
                {"ConditionCheck": {"TableName": self.table, "Key": self._lock_key,
                                    "ConditionExpression": "holder = :me",
                                    "ExpressionAttributeValues": {":me": {"S": lock.holder}}}},
                {"Put": put}])
        except self.dynamodb.exceptions.TransactionCanceledException as cancelled:
            reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise LockLost(f"the deploy lock of {self.app} in {self.env} was taken from this "
                               "command") from None
            raise RecordChanged(f"the release record of {self.app} in {self.env} was changed by "
                                "another command") from None
        stored = record.copy()
        stored.revision = revision
        return stored

    # -- the lock --------------------------------------------------------------------------

    def holder(self) -> Lock | None:
        item = self._get(self._lock_key)
        return _lock_from(item) if item is not None else None

    def take(self, what: str) -> tuple[Lock, Lock | None]:
        """The lock (and the dead holder it was taken over from, if any), or LockHeld
        naming who has it. A dead holder's lock is taken over in one conditional write: of
        several processes trying at once, exactly one wins."""
        now = self.clock()
        mine = Lock(holder=uuid.uuid4().hex, by=whoami(), host=socket.gethostname(),
                    pid=os.getpid(), since=now, what=what, heartbeat=now)
        try:
            self._put_lock(mine, "attribute_not_exists(id)", {})
            return mine, None
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            pass
        current = self.holder()
        if current is None:  # released between our two requests: try once more
            try:
                self._put_lock(mine, "attribute_not_exists(id)", {})
                return mine, None
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                current = self.holder()
                raise LockHeld(current or mine) from None
        if not current.dead(now):
            raise LockHeld(current)
        try:
            self._put_lock(mine, "holder = :dead AND heartbeat = :beat",
                           {":dead": {"S": current.holder}, ":beat": {"N": repr(current.heartbeat)}})
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            raise LockHeld(self.holder() or current) from None
        return mine, current

    def renew(self, lock: Lock) -> None:
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=self._lock_key, UpdateExpression="SET heartbeat = :now",
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":now": {"N": repr(self.clock())}, ":me": {"S": lock.holder}})
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            raise LockLost(f"the deploy lock of {self.app} in {self.env} was taken from this command") from None

    def release(self, lock: Lock) -> None:
        """Remove the lock if this holder still has it (never someone else's)."""
        try:
            self.dynamodb.delete_item(TableName=self.table, Key=self._lock_key,
                                      ConditionExpression="holder = :me",
                                      ExpressionAttributeValues={":me": {"S": lock.holder}})
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            pass

    def force_release(self) -> Lock | None:
        """`wimpy unlock`: remove whatever lock there is; returns what was removed."""
        current = self.holder()
        if current is not None:
            self.dynamodb.delete_item(TableName=self.table, Key=self._lock_key)
        return current

    # -- pieces ----------------------------------------------------------------------------

    def _put_lock(self, lock: Lock, condition: str, values: dict[str, Any]) -> None:
        try:
            self._put_item(lock, condition, values)
        except self.dynamodb.exceptions.ResourceNotFoundException:
            raise RecordMissing(f"the release record table {self.table} does not exist") from None

    def _put_item(self, lock: Lock, condition: str, values: dict[str, Any]) -> None:
        self.dynamodb.put_item(
            TableName=self.table, ConditionExpression=condition,
            Item={**self._lock_key, "holder": {"S": lock.holder}, "by": {"S": lock.by},
                  "host": {"S": lock.host}, "pid": {"N": str(lock.pid)},
                  "since": {"N": repr(lock.since)}, "what": {"S": lock.what},
                  "heartbeat": {"N": repr(lock.heartbeat)}},
            **({"ExpressionAttributeValues": values} if values else {}))

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self.dynamodb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        except self.dynamodb.exceptions.ResourceNotFoundException:
            raise RecordMissing(f"the release record table {self.table} does not exist") from None


def _lock_from(item: dict[str, Any]) -> Lock:
    return Lock(holder=item["holder"]["S"], by=item["by"]["S"], host=item["host"]["S"],
                pid=int(item["pid"]["N"]), since=float(item["since"]["N"]), what=item["what"]["S"],
                heartbeat=float(item["heartbeat"]["N"]))


class Heartbeat:
    """Renews a held lock every HEARTBEAT_SECONDS from a daemon thread, so a long CDK
    deploy never lets the lease run out; stops when the command ends."""

    def __init__(self, store: RecordStore, lock: Lock, interval: float = HEARTBEAT_SECONDS):
        self.store, self.lock, self.interval = store, lock, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wimpy-lock-heartbeat", daemon=True)
        self.lost = False

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.store.renew(self.lock)
            except LockLost:
                self.lost = True
                return
            except Exception:  # a network blip: the next beat tries again, the lease is long
                continue
