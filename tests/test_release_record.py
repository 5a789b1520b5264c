"""The release record's state machine on its own (wimpy_cli/release/record.py): every transition
a deploy, abort and rollback make, every one the record refuses, with a fake clock, and
the record's round trip through its stored form."""

from __future__ import annotations

import pytest

from wimpy_cli.release.record import ReleaseRecord, RefusedTransition

BY = "ana@laptop"
STEPS = [10.0, 50.0, 100.0]


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self, advance: float = 1.0) -> float:
        self.t += advance
        return self.t


@pytest.fixture
def now():
    return Clock()


def begin(record, version, now, strategy="blue-green"):
    stack = f"wimpy-production-web--{version}" if strategy == "blue-green" else "wimpy-production-web"
    return record.begin(version=version, image=f"registry/web:{version}", stack=stack,
                        strategy=strategy, steps=STEPS if strategy == "blue-green" else [],
                        by=BY, now=now())


def first_live(record, version, now):
    begin(record, version, now)
    record.stack_ready(version, by=BY, now=now())
    record.go_live(version, by=BY, now=now())


def canary_through(record, version, now, *, upto=2):
    """Steps 0..upto of `version`'s canary, each moved, watched and passed."""
    for step in range(upto + 1):
        record.shift(version, step, by=BY, now=now())
        record.watching(version, step, by=BY, now=now())
        record.step_passed(version, step, watched_seconds=360, by=BY, now=now(360))


def promoted(record, version, now, keep=True):
    begin(record, version, now)
    record.stack_ready(version, by=BY, now=now())
    canary_through(record, version, now)
    previous = record.promote(version, by=BY, now=now())
    if previous is not None:
        record.retired(previous.version, kept=keep, by=BY, now=now())


@pytest.fixture
def record():
    return ReleaseRecord(env="production", app="web")


def states(record):
    return {r.version: r.state for r in record.releases}


# -- the path of a deploy --------------------------------------------------------------------

def test_the_first_release_goes_live_once_its_stack_is_made(record, now):
    begin(record, "v1", now)
    assert states(record) == {"v1": "deploying"} and record.candidate().version == "v1"
    with pytest.raises(RefusedTransition, match="stack is not made yet"):
        record.go_live("v1", by=BY, now=now())
    record.stack_ready("v1", by=BY, now=now())
    record.go_live("v1", by=BY, now=now())
    assert states(record) == {"v1": "live"} and record.live().ever_live
    assert record.candidate() is None and record.unfinished() == []


def test_a_canary_records_each_step_moved_watched_and_passed(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    record.stack_ready("v2", by=BY, now=now())
    record.shift("v2", 0, by=BY, now=now())
    v2 = record.get("v2")
    assert (v2.state, v2.step, v2.step_phase, v2.share) == ("canary", 0, "shifting", 10.0)
    assert "moving to step 1/3 (10% of traffic), not yet watched" in v2.describe()
    started = now()
    record.watching("v2", 0, by=BY, now=started)
    assert v2.step_started == started and v2.step_phase == "watching"
    record.step_passed("v2", 0, watched_seconds=360, by=BY, now=now(360))
    assert [(j.step, j.percent, j.started, j.outcome) for j in v2.judged] == [(0, 10.0, started, "passed")]
    for step in (1, 2):
        record.shift("v2", step, by=BY, now=now())
        record.watching("v2", step, by=BY, now=now())
        record.step_passed("v2", step, watched_seconds=360, by=BY, now=now(360))
    previous = record.promote("v2", by=BY, now=now())
    assert previous.version == "v1"
    assert states(record) == {"v1": "retiring", "v2": "live"}
    assert [r.version for r in record.unfinished()] == ["v1"]
    record.retired("v1", kept=True, by=BY, now=now())
    assert states(record) == {"v1": "kept", "v2": "live"}


def test_a_manual_canary_pauses_after_a_passed_step_and_resumes_at_the_next(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    record.stack_ready("v2", by=BY, now=now())
    canary_through(record, "v2", now, upto=1)
    record.pause("v2", by=BY, now=now())
    assert record.get("v2").state == "paused" and record.candidate().version == "v2"
    assert "paused at step 2/3 (50% of traffic)" in record.get("v2").describe()
    with pytest.raises(RefusedTransition, match="traffic never moves back"):
        record.shift("v2", 0, by=BY, now=now())
    record.shift("v2", 2, by=BY, now=now())
    assert record.get("v2").state == "canary"


def test_an_interrupted_step_is_watched_again_from_its_start(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    record.stack_ready("v2", by=BY, now=now())
    record.shift("v2", 0, by=BY, now=now())
    record.watching("v2", 0, by=BY, now=now())
    # The command died during the watch; the next one moves the same step again (weights
    # are set, not added) and watches it afresh.
    record.shift("v2", 0, by=BY, now=now(3600))
    assert record.get("v2").step_phase == "shifting" and record.get("v2").step_started is None
    resumed = now()
    record.watching("v2", 0, by=BY, now=resumed)
    assert record.get("v2").step_started == resumed


# -- refused transitions -------------------------------------------------------------------

def test_refused_transitions(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    with pytest.raises(RefusedTransition, match="v2 is being deployed"):
        begin(record, "v3", now)  # one candidate at a time
    with pytest.raises(RefusedTransition, match="stack is not made yet"):
        record.shift("v2", 0, by=BY, now=now())
    record.stack_ready("v2", by=BY, now=now())
    with pytest.raises(RefusedTransition, match="must go through a canary"):
        record.go_live("v2", by=BY, now=now())
    with pytest.raises(RefusedTransition, match="has not passed its watch"):
        record.shift("v2", 1, by=BY, now=now())  # skipping step 1
    record.shift("v2", 0, by=BY, now=now())
    with pytest.raises(RefusedTransition, match="not being watched"):
        record.step_passed("v2", 0, watched_seconds=1, by=BY, now=now())
    with pytest.raises(RefusedTransition, match="has not passed its watch"):
        record.shift("v2", 1, by=BY, now=now())
    with pytest.raises(RefusedTransition, match="has not passed its last step"):
        record.promote("v2", by=BY, now=now())
    with pytest.raises(RefusedTransition, match="can pause only after a step that passed"):
        record.pause("v2", by=BY, now=now())
    with pytest.raises(RefusedTransition, match="has no step 4"):
        record.shift("v2", 3, by=BY, now=now())
    with pytest.raises(RefusedTransition, match="is live, not deploying"):
        record.fail("v1", why="x", by=BY, now=now())
    with pytest.raises(RefusedTransition, match="has no v9"):
        record.roll_back("v9", why="x", by=BY, now=now())


def test_a_live_version_is_not_begun_again(record, now):
    first_live(record, "v1", now)
    with pytest.raises(RefusedTransition, match="v1 is already live"):
        begin(record, "v1", now)


def test_a_canary_cannot_start_without_a_live_release(record, now):
    begin(record, "v1", now)
    record.stack_ready("v1", by=BY, now=now())
    with pytest.raises(RefusedTransition, match="no release is live"):
        record.shift("v1", 0, by=BY, now=now())


# -- rolled back, failed, aborted -----------------------------------------------------------

def test_an_alarm_rolls_the_canary_back_with_what_it_was_judged_on(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    record.stack_ready("v2", by=BY, now=now())
    record.shift("v2", 0, by=BY, now=now())
    started = now()
    record.watching("v2", 0, by=BY, now=started)
    record.roll_back("v2", why="alarm errors in ALARM", by=BY, now=started + 120)
    v2 = record.get("v2")
    assert v2.state == "rolling-back" and [r.version for r in record.unfinished()] == ["v2"]
    assert [(j.outcome, j.watched_seconds, j.problems) for j in v2.judged] == \
        [("failed", 120, ["alarm errors in ALARM"])]
    record.roll_back("v2", why="again", by=BY, now=now())  # finishing an undo records nothing new
    record.rolled_back("v2", by=BY, now=now())
    assert states(record) == {"v1": "live", "v2": "rolled-back"} and v2.why == "alarm errors in ALARM"
    with pytest.raises(RefusedTransition):
        record.shift("v2", 0, by=BY, now=now())


def test_a_failed_stack_never_took_traffic_and_the_version_can_be_tried_again(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    record.fail("v2", why="CloudFormation rolled back", by=BY, now=now())
    assert states(record) == {"v1": "live", "v2": "failed"} and record.candidate() is None
    begin(record, "v2", now)
    v2 = record.get("v2")
    assert v2.state == "deploying" and [e.state for e in v2.events][:2] == ["deploying", "failed"]


# -- rollback ---------------------------------------------------------------------------------

def test_rollback_goes_to_the_release_that_served_last_never_one_rolled_back_from(record, now):
    first_live(record, "v1", now)
    promoted(record, "v2", now)
    promoted(record, "v3", now)
    # Kept by creation order would say v2; by when it served last it is v2 too, until v1 is
    # deployed again (a roll forward to an old version): then v1 served last.
    promoted(record, "v1", now)
    assert record.live().version == "v1"
    assert record.rollback_target().version == "v3"
    rolled = record.start_rollback("v3", why="rolled back by ana", by=BY, now=now())
    assert (rolled.version, rolled.state, record.get("v3").state) == ("v1", "rolling-back", "restoring")
    with pytest.raises(RefusedTransition, match="has not taken all traffic yet"):
        record.rolled_back("v1", by=BY, now=now())
    record.restored("v3", by=BY, now=now())
    assert states(record)["v3"] == "live" and states(record)["v1"] == "rolled-back"
    # Twice: to v2 (v1 was rolled back from), never back to v1.
    assert record.rollback_target().version == "v2"
    record.start_rollback("v2", why="again", by=BY, now=now())
    record.restored("v2", by=BY, now=now())
    assert states(record) == {"v1": "rolled-back", "v2": "live", "v3": "rolled-back"}
    assert record.rollback_target() is None  # both others were rolled back from


def test_rollback_refuses_releases_that_never_served(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    record.stack_ready("v2", by=BY, now=now())
    record.shift("v2", 0, by=BY, now=now())
    record.watching("v2", 0, by=BY, now=now())
    record.roll_back("v2", why="alarm", by=BY, now=now())
    record.rolled_back("v2", by=BY, now=now())
    begin(record, "v3", now)
    record.fail("v3", why="bad template", by=BY, now=now())
    assert record.rollback_target() is None
    with pytest.raises(RefusedTransition, match="cannot be rolled back to"):
        record.start_rollback("v2", why="x", by=BY, now=now())


def test_a_rollback_that_cannot_bring_the_release_back_leaves_the_live_one_live(record, now):
    first_live(record, "v1", now)
    promoted(record, "v2", now, keep=False)
    record.start_rollback("v1", why="rolled back by ana", by=BY, now=now())
    record.restore_failed("v1", why="stack failed", by=BY, now=now())
    assert states(record) == {"v1": "retired", "v2": "live"}


def test_a_rolling_update_replaces_the_live_version_in_place(record, now):
    begin(record, "v1", now, strategy="rolling")
    record.stack_ready("v1", by=BY, now=now())
    record.go_live("v1", by=BY, now=now())
    begin(record, "v2", now, strategy="rolling")
    record.stack_ready("v2", by=BY, now=now())
    replaced = record.go_live("v2", by=BY, now=now())
    assert replaced.version == "v1" and states(record) == {"v1": "retired", "v2": "live"}
    assert record.rollback_target().version == "v1"


def test_destroy_retires_every_release_and_keeps_the_history(record, now):
    first_live(record, "v1", now)
    promoted(record, "v2", now)
    record.destroyed(by=BY, now=now())
    assert states(record) == {"v1": "retired", "v2": "retired"} and record.live() is None


# -- stored form ------------------------------------------------------------------------------

def test_the_record_round_trips_through_json(record, now):
    first_live(record, "v1", now)
    begin(record, "v2", now)
    record.stack_ready("v2", by=BY, now=now())
    canary_through(record, "v2", now, upto=1)
    again = ReleaseRecord.from_json(record.to_json(), revision=7)
    assert again.revision == 7 and again.to_json() == record.to_json()
    summary = again.summary()
    assert [r["version"] for r in summary] == ["v2", "v1"]
    assert [s["outcome"] for s in summary[0]["steps"]] == ["passed", "passed"]


# -- signals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_and_sighup_unwind_like_ctrl_c(name, code):
    """The handler raises where the command is, so every `finally` runs (the lock is
    released, the record left as written) and the exit code is 128 + the signal."""
    import os
    import signal

    from wimpy_cli.interrupts import Interrupted, graceful_signals

    unwound, before = [], signal.getsignal(getattr(signal, name))
    with pytest.raises(Interrupted) as interrupted:
        with graceful_signals():
            try:
                os.kill(os.getpid(), getattr(signal, name))
                for _ in range(1000):  # the handler runs between bytecodes, here
                    pass
            finally:
                unwound.append(True)
    assert unwound == [True] and interrupted.value.code == code
    assert isinstance(interrupted.value, KeyboardInterrupt)
    assert signal.getsignal(getattr(signal, name)) is before  # restored afterwards
