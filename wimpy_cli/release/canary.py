"""The canary: move traffic to a new release step by step, watching its alarms during
every step, and stop at the first sign of trouble. Time comes from an injected clock, so
tests drive bake times without sleeping."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from .weights import Split


@dataclass(frozen=True)
class CanaryPlan:
    """Traffic shares (percent) to go through, the last being 100; how long to watch each
    step once clients can see it; and the DNS TTL clients may cache the old answer for."""

    steps: tuple[float, ...]
    bake_seconds: int
    ttl_seconds: int
    poll_seconds: int = 10

    def __post_init__(self) -> None:
        if not self.steps or self.steps[-1] != 100:
            raise ValueError(f"canary steps must end at 100 (all traffic), got {list(self.steps)}")
        if any(not 0 < s <= 100 for s in self.steps) or list(self.steps) != sorted(set(self.steps)):
            raise ValueError(f"canary steps must rise strictly within (0, 100], got {list(self.steps)}")
        if self.bake_seconds < 0 or self.ttl_seconds < 0 or self.poll_seconds <= 0:
            raise ValueError("bake, TTL and poll times must be positive")

    def wait_for(self, step: float) -> int:
        """Seconds a step is watched: until every client has seen the new weights (one TTL)
        and then the bake time. At 100% the old release still serves clients that cached
        the old answer, so wait two TTLs before it can be judged idle."""
        return self.ttl_seconds * (2 if step == 100 else 1) + self.bake_seconds


class Clock(Protocol):
    def now(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Traffic(Protocol):
    def set_split(self, split: Split) -> None: ...


class Watch(Protocol):
    def problems(self) -> list[str]:
        """What is wrong with the new release right now (alarms in ALARM, no healthy
        targets); empty when all is well."""
        ...

    def judge(self, start: float, end: float):
        """The new release against the live one over [start, end) (epoch seconds): a
        wimpy_cli.release.judge.Verdict, or None when there is nothing to compare with."""
        ...

    # Optional: how long after a window's end its metrics may still be arriving, and
    # whether those of [start, end) have all arrived (the judge waits for them, up to it).
    metrics_lag_seconds: float

    def window_complete(self, start: float, end: float) -> bool: ...


class CanaryFailed(Exception):
    def __init__(self, step: float, split: Split, problems: Sequence[str]):
        self.step, self.split, self.problems = step, split, tuple(problems)
        super().__init__(f"at {split.share:.1f}% of traffic: {'; '.join(problems)}")


@dataclass
class Canary:
    """One step at a time: `move` sets the step's weights, `watch` watches it for its whole
    time. The caller records each (wimpy_cli/release/bluegreen.py), so an interrupted canary
    resumes from the record."""

    plan: CanaryPlan
    traffic: Traffic
    watch_: Watch
    clock: Clock
    # Metrics are stamped with real time, whatever clock the waits go by.
    wall: Callable[[], float] = time.time
    verdict: object = field(default=None, init=False)  # the judge's, for the last step watched
    # Told the seconds left in the step at each look, for a countdown on screen.
    on_wait: Callable[[float], None] | None = None

    def move(self, split: Split) -> None:
        self.traffic.set_split(split)

    def watch(self, percent: float, split: Split) -> float:
        """Seconds watched; CanaryFailed at the first problem seen."""
        started, wall_started = self.clock.now(), self.wall()
        self.verdict = None
        deadline = started + self.plan.wait_for(percent)
        while True:
            problems = self.watch_.problems()
            if problems:
                raise CanaryFailed(percent, split, problems)
            remaining = deadline - self.clock.now()
            if self.on_wait is not None:
                self.on_wait(max(0.0, remaining))
            if remaining <= 0:
                break
            self.clock.sleep(min(self.plan.poll_seconds, remaining))
        # Judged once, on the whole step: looking again and again at a growing window would
        # give a difference by chance many chances to pass for a real one.
        judge = getattr(self.watch_, "judge", None)
        if judge is not None:
            wall_ended = self.wall()
            self._await_metrics(percent, split, wall_started, wall_ended)
            self.verdict = judge(wall_started, wall_ended)
        if self.verdict is not None and self.verdict.failures:
            raise CanaryFailed(percent, split, [f"worse than the live release: {failure}"
                                                for failure in self.verdict.failures])
        return self.clock.now() - started

    def _await_metrics(self, percent: float, split: Split, start: float, end: float) -> None:
        """The step's last period is published after it ends (a minute or two on AWS, the
        data plane's send interval locally): judging at once would leave it out, or count
        it half sent. Wait until both releases have it, up to the lag the watch allows,
        still stopping at the first problem."""
        complete = getattr(self.watch_, "window_complete", None)
        give_up = self.clock.now() + getattr(self.watch_, "metrics_lag_seconds", 0)
        while complete is not None and not complete(start, end):
            problems = self.watch_.problems()
            if problems:
                raise CanaryFailed(percent, split, problems)
            remaining = give_up - self.clock.now()
            if remaining <= 0:
                return  # judged on what arrived; a release with no traffic there has none
            self.clock.sleep(min(self.plan.poll_seconds, remaining))
