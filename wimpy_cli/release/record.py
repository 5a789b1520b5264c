"""The release record: every release of one application in one environment and the state
it is in, as a state machine with no I/O. Commands read it first and act from it; each
transition is written (wimpy_cli/release/session.py) before the action it announces and again
once the action is done, so a command killed anywhere leaves a record that says exactly
what was under way.

States of a release, and what moves it (anything else is refused):

    deploying --stack_ready--> deploying (stack made, no traffic)
    deploying --go_live--> live                       (first release, or rolling strategy)
    deploying --shift(k)--> canary step k "shifting"  (weights being set)
    canary    --watching(k)--> canary step k "watching" (the watch starts now)
    canary    --step_passed(k)--> canary step k "passed"
    canary    --pause--> paused --shift(k+1)--> canary
    canary    --promote--> live  (the previous live release: retiring --retired--> kept | retired)
    deploying|canary|paused --roll_back(why)--> rolling-back --rolled_back--> rolled-back
    deploying --fail(why)--> failed                   (its stack never took traffic)
    live --start_rollback(to)--> rolling-back, and `to` (kept|retired) --> restoring
    restoring --restored--> live, and the release rolled back from --> rolled-back

Times are seconds since the epoch, passed in by the caller (a fake clock in tests)."""

from __future__ import annotations

import copy
import datetime
import json
from dataclasses import asdict, dataclass, field
from typing import Any

DEPLOYING, CANARY, PAUSED, LIVE = "deploying", "canary", "paused", "live"
RETIRING, KEPT, RETIRED = "retiring", "kept", "retired"
ROLLING_BACK, ROLLED_BACK, FAILED, RESTORING = "rolling-back", "rolled-back", "failed", "restoring"

# A release in one of these has work under way that a command was doing: the next command
# must finish it, resume it or undo it before starting anything else.
UNFINISHED = (DEPLOYING, CANARY, PAUSED, RETIRING, ROLLING_BACK, RESTORING)
# Traffic has not been handed to it for good: `abort` can still pull it back.
NOT_PROMOTED = (DEPLOYING, CANARY, PAUSED)
# A finished state: nothing is left to do for the release.
SETTLED = (LIVE, KEPT, RETIRED, ROLLED_BACK, FAILED)

SHIFTING, WATCHING, PASSED = "shifting", "watching", "passed"
MAX_RELEASES = 30  # the oldest settled releases beyond this are dropped from the record


class RefusedTransition(Exception):
    """A transition the release's state does not allow; the record is unchanged."""


def when(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass
class StepJudgement:
    """One canary step: its share, when its watch started and for how long it was watched,
    and what it was judged on (the problems seen; none when it passed)."""

    step: int
    percent: float
    started: float
    watched_seconds: float
    outcome: str  # "passed" | "failed"
    problems: list[str] = field(default_factory=list)
    # The judge's comparison with the live release (wimpy_cli/release/judge.py Verdict.as_dict).
    comparison: dict[str, Any] | None = None


@dataclass
class Event:
    at: float
    state: str
    by: str
    why: str = ""


@dataclass
class Release:
    version: str
    image: str
    stack: str
    strategy: str  # "blue-green" | "rolling"
    state: str
    created: float
    by: str
    steps: list[float] = field(default_factory=list)  # the canary's shares, ending at 100
    stack_ready: bool = False
    step: int = -1  # index into steps of the step traffic is at (or being moved to)
    step_phase: str = ""  # SHIFTING | WATCHING | PASSED while a canary runs
    step_started: float | None = None
    judged: list[StepJudgement] = field(default_factory=list)
    live_at: float | None = None  # when it last became fully live
    ever_live: bool = False
    why: str = ""  # why it is rolled back, failed or retired
    rollback_to: str = ""  # rolling-back from live: the version taking its place
    events: list[Event] = field(default_factory=list)

    @property
    def share(self) -> float:
        """The share of traffic this release was last sent (0 before any step)."""
        if self.state == LIVE:
            return 100.0
        if self.state in (CANARY, PAUSED) and self.step >= 0:
            return self.steps[self.step]
        return 0.0

    def describe(self) -> str:
        if self.state in (CANARY, PAUSED):
            where = f"step {self.step + 1}/{len(self.steps)} ({self.steps[self.step]:g}% of traffic)"
            if self.state == PAUSED:
                return f"{self.version} is a canary paused at {where}"
            if self.step_phase == SHIFTING:
                return f"{self.version} is a canary moving to {where}, not yet watched"
            if self.step_phase == WATCHING:
                return f"{self.version} is a canary at {where}, being watched"
            return f"{self.version} is a canary at {where}, which passed its watch"
        if self.state == DEPLOYING:
            return f"{self.version} is being deployed ({'stack made' if self.stack_ready else 'stack being made'}, no traffic)"
        if self.state == ROLLING_BACK:
            return f"{self.version} is being rolled back ({self.why})"
        if self.state == RESTORING:
            return f"{self.version} is being brought back to take all traffic"
        if self.state == RETIRING:
            return f"{self.version} is being retired (no traffic)"
        return f"{self.version} is {self.state}" + (f" ({self.why})" if self.why else "")


@dataclass
class ReleaseRecord:
    env: str
    app: str
    releases: list[Release] = field(default_factory=list)
    revision: int = 0  # bumped by every write; writes are conditional on it

    # -- reading -------------------------------------------------------------------------

    def find(self, version: str) -> Release | None:
        return next((r for r in self.releases if r.version == version), None)

    def get(self, version: str) -> Release:
        found = self.find(version)
        if found is None:
            raise RefusedTransition(f"the release record of {self.app} in {self.env} has no {version}")
        return found

    def live(self) -> Release | None:
        return next((r for r in self.releases if r.state == LIVE), None)

    def unfinished(self) -> list[Release]:
        return [r for r in self.releases if r.state in UNFINISHED]

    def candidate(self) -> Release | None:
        """The release being deployed or canaried (at most one at a time)."""
        return next((r for r in self.releases if r.state in NOT_PROMOTED), None)

    def rollback_target(self, *, exclude: tuple[str, ...] = ()) -> Release | None:
        """The release that served all traffic last before the live one, never rolled back
        from and not failed: what `wimpy rollback` returns to."""
        current = self.live()
        candidates = [r for r in self.releases
                      if r.ever_live and r.state in (KEPT, RETIRED) and r is not current
                      and r.version not in exclude]
        return max(candidates, key=lambda r: r.live_at or 0.0) if candidates else None

    # -- transitions ---------------------------------------------------------------------

    def begin(self, *, version: str, image: str, stack: str, strategy: str, steps: list[float],
              by: str, now: float) -> Release:
        """Record a new deploy of `version` (a version deployed before starts afresh, its
        earlier story kept in its events)."""
        under_way = [r for r in self.unfinished() if r.version != version or r.state != DEPLOYING]
        if under_way:
            raise RefusedTransition(f"{under_way[0].describe()}; it must be finished or undone first")
        existing = self.find(version)
        if existing is not None and existing.state == LIVE:
            raise RefusedTransition(f"{version} is already live")
        events = existing.events if existing is not None else []
        release = Release(version=version, image=image, stack=stack, strategy=strategy,
                          state=DEPLOYING, created=now, by=by, steps=list(steps),
                          ever_live=existing.ever_live if existing is not None else False,
                          live_at=existing.live_at if existing is not None else None,
                          events=events)
        if existing is not None:
            self.releases.remove(existing)
        self.releases.append(release)
        self._event(release, DEPLOYING, by, now)
        self._trim()
        return release

    def stack_ready(self, version: str, *, by: str, now: float) -> None:
        release = self._expect(version, DEPLOYING)
        release.stack_ready = True
        self._event(release, DEPLOYING, by, now, "stack made")

    def go_live(self, version: str, *, by: str, now: float) -> Release | None:
        """A release takes all traffic at once: the first one, or a rolling update that
        replaced the live version in place. Returns the release it replaced, now retired."""
        release = self._expect(version, DEPLOYING)
        if not release.stack_ready:
            raise RefusedTransition(f"{version}'s stack is not made yet")
        previous = self.live()
        if previous is not None:
            if release.strategy != "rolling" and previous.strategy != "rolling":
                raise RefusedTransition(f"{previous.version} is live: {version} must go through a canary")
            self._settle(previous, RETIRED if previous.stack == release.stack else RETIRING,
                         by, now, f"replaced by {version}")
        self._make_live(release, by, now)
        return previous

    def shift(self, version: str, step: int, *, by: str, now: float) -> None:
        release = self._get_any(version, (DEPLOYING, CANARY, PAUSED))
        if release.state == DEPLOYING and not release.stack_ready:
            raise RefusedTransition(f"{version}'s stack is not made yet")
        if self.live() is None:
            raise RefusedTransition(f"no release is live to canary {version} against")
        if not 0 <= step < len(release.steps):
            raise RefusedTransition(f"{version} has no step {step + 1} (its canary has {len(release.steps)})")
        if step < release.step:
            raise RefusedTransition(f"{version} is at step {release.step + 1}; traffic never moves back a step")
        if step > release.step + 1 or (step == release.step + 1 and release.step >= 0
                                       and release.step_phase != PASSED):
            raise RefusedTransition(f"{version}'s step {release.step + 1} has not passed its watch")
        release.state, release.step, release.step_phase, release.step_started = CANARY, step, SHIFTING, None
        self._event(release, CANARY, by, now, f"step {step + 1}/{len(release.steps)}: "
                                              f"moving to {release.steps[step]:g}%")

    def watching(self, version: str, step: int, *, by: str, now: float) -> None:
        release = self._expect(version, CANARY)
        if release.step != step:
            raise RefusedTransition(f"{version} is at step {release.step + 1}, not {step + 1}")
        release.step_phase, release.step_started = WATCHING, now
        self._event(release, CANARY, by, now, f"step {step + 1}: watched from now")

    def step_passed(self, version: str, step: int, *, watched_seconds: float, by: str, now: float,
                    comparison: dict[str, Any] | None = None) -> None:
        release = self._expect(version, CANARY)
        if release.step != step or release.step_phase != WATCHING or release.step_started is None:
            raise RefusedTransition(f"{version}'s step {step + 1} is not being watched")
        release.judged.append(StepJudgement(step=step, percent=release.steps[step],
                                            started=release.step_started,
                                            watched_seconds=watched_seconds, outcome="passed",
                                            comparison=comparison))
        release.step_phase = PASSED
        self._event(release, CANARY, by, now, f"step {step + 1} passed after {watched_seconds:.0f}s")

    def pause(self, version: str, *, by: str, now: float) -> None:
        release = self._expect(version, CANARY)
        if release.step_phase != PASSED or release.step >= len(release.steps) - 1:
            raise RefusedTransition(f"{version} can pause only after a step that passed, before the last")
        release.state = PAUSED
        self._event(release, PAUSED, by, now)

    def promote(self, version: str, *, by: str, now: float) -> Release | None:
        """The canary passed its last step: it is live; the release it replaced is retiring."""
        release = self._expect(version, CANARY)
        if release.step != len(release.steps) - 1 or release.step_phase != PASSED:
            raise RefusedTransition(f"{version} has not passed its last step")
        previous = self.live()
        if previous is not None:
            self._settle(previous, RETIRING, by, now, f"replaced by {version}")
        self._make_live(release, by, now)
        return previous

    def retired(self, version: str, *, kept: bool, by: str, now: float) -> None:
        release = self._expect(version, RETIRING)
        self._settle(release, KEPT if kept else RETIRED, by, now, release.why)

    def drop_kept(self, version: str, *, by: str, now: float) -> None:
        """A kept release no longer among the newest kept: its stack is deleted."""
        release = self._expect(version, KEPT)
        self._settle(release, RETIRED, by, now, "no longer kept for rollback")

    def destroyed(self, *, by: str, now: float) -> None:
        """`wimpy destroy` deleted every stack of the application in the environment."""
        for release in self.releases:
            if release.state not in (RETIRED, ROLLED_BACK, FAILED):
                self._settle(release, RETIRED, by, now, "destroyed")

    def roll_back(self, version: str, *, why: str, by: str, now: float) -> None:
        """A release not yet promoted is being pulled back (alarm, abort, failed deploy)."""
        release = self._get_any(version, (*NOT_PROMOTED, ROLLING_BACK))
        if release.state == ROLLING_BACK:
            return  # already recorded: the undo is being finished
        if release.state == CANARY and release.step_phase == WATCHING and release.step_started is not None:
            release.judged.append(StepJudgement(step=release.step, percent=release.steps[release.step],
                                                started=release.step_started,
                                                watched_seconds=max(0.0, now - release.step_started),
                                                outcome="failed", problems=[why]))
        release.state, release.why = ROLLING_BACK, why
        self._event(release, ROLLING_BACK, by, now, why)

    def rolled_back(self, version: str, *, by: str, now: float) -> None:
        release = self._expect(version, ROLLING_BACK)
        restoring = next((r for r in self.releases if r.state == RESTORING), None)
        if release.rollback_to and restoring is not None:
            raise RefusedTransition(f"{restoring.version} has not taken all traffic yet")
        self._settle(release, ROLLED_BACK, by, now, release.why)

    def fail(self, version: str, *, why: str, by: str, now: float) -> None:
        release = self._expect(version, DEPLOYING)
        self._settle(release, FAILED, by, now, why)

    def start_rollback(self, to_version: str, *, why: str, by: str, now: float) -> Release:
        """The live release is rolled back from, and `to_version` brought back."""
        current = self.live()
        if current is None:
            raise RefusedTransition(f"no release of {self.app} is live in {self.env}")
        target = self.get(to_version)
        if target is current or not target.ever_live or target.state not in (KEPT, RETIRED):
            raise RefusedTransition(f"{to_version} cannot be rolled back to ({target.describe()})")
        current.state, current.why, current.rollback_to = ROLLING_BACK, why, to_version
        self._event(current, ROLLING_BACK, by, now, why)
        target.state = RESTORING
        self._event(target, RESTORING, by, now, f"rollback from {current.version}")
        return current

    def restored(self, version: str, *, by: str, now: float) -> None:
        release = self._expect(version, RESTORING)
        self._make_live(release, by, now)
        rolled = next((r for r in self.releases if r.state == ROLLING_BACK and r.rollback_to == version), None)
        if rolled is not None:
            self._settle(rolled, ROLLED_BACK, by, now, rolled.why)

    def restore_failed(self, version: str, *, why: str, by: str, now: float) -> None:
        """A rollback that could not bring `version` back: it goes back to where it was and
        the release rolled back from is live again (it never stopped serving)."""
        release = self._expect(version, RESTORING)
        self._settle(release, RETIRED, by, now, why)
        rolled = next((r for r in self.releases if r.state == ROLLING_BACK and r.rollback_to == version), None)
        if rolled is not None:
            rolled.rollback_to, rolled.why = "", ""
            rolled.state = LIVE
            self._event(rolled, LIVE, by, now, f"rollback to {version} failed: {why}")

    # -- pieces --------------------------------------------------------------------------

    def _expect(self, version: str, state: str) -> Release:
        return self._get_any(version, (state,))

    def _get_any(self, version: str, states: tuple[str, ...]) -> Release:
        release = self.get(version)
        if release.state not in states:
            raise RefusedTransition(f"{release.describe()}, not {' or '.join(states)}")
        return release

    def _make_live(self, release: Release, by: str, now: float) -> None:
        release.state, release.why, release.rollback_to = LIVE, "", ""
        release.step_phase, release.live_at, release.ever_live = "", now, True
        self._event(release, LIVE, by, now)

    def _settle(self, release: Release, state: str, by: str, now: float, why: str) -> None:
        release.state, release.why, release.step_phase = state, why, ""
        self._event(release, state, by, now, why)

    @staticmethod
    def _event(release: Release, state: str, by: str, now: float, why: str = "") -> None:
        release.events.append(Event(at=now, state=state, by=by, why=why))
        del release.events[:-50]

    def _trim(self) -> None:
        settled = [r for r in self.releases if r.state in (RETIRED, ROLLED_BACK, FAILED)]
        while len(self.releases) > MAX_RELEASES and settled:
            self.releases.remove(settled.pop(0))

    # -- storage -------------------------------------------------------------------------

    def copy(self) -> ReleaseRecord:
        return copy.deepcopy(self)

    def to_json(self) -> str:
        return json.dumps({"env": self.env, "app": self.app,
                           "releases": [asdict(r) for r in self.releases]}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, revision: int) -> ReleaseRecord:
        data = json.loads(text)
        releases = []
        for raw in data.get("releases", []):
            raw = dict(raw)
            raw["judged"] = [StepJudgement(**j) for j in raw.get("judged", [])]
            raw["events"] = [Event(**e) for e in raw.get("events", [])]
            releases.append(Release(**raw))
        return cls(env=data["env"], app=data["app"], releases=releases, revision=revision)

    def summary(self) -> list[dict[str, Any]]:
        """The record for `wimpy releases` and --json: newest first."""
        return [{"version": r.version, "state": r.state, "stack": r.stack, "image": r.image,
                 "strategy": r.strategy, "share": r.share, "by": r.by, "created": when(r.created),
                 "live_at": when(r.live_at) if r.live_at else None, "why": r.why,
                 "describe": r.describe(),
                 "steps": [{"step": j.step + 1, "percent": j.percent, "started": when(j.started),
                            "watched_seconds": round(j.watched_seconds, 1), "outcome": j.outcome,
                            "problems": j.problems, "comparison": j.comparison} for j in r.judged],
                 "events": [{"at": when(e.at), "state": e.state, "by": e.by, "why": e.why}
                            for e in r.events]}
                for r in reversed(self.releases)]
