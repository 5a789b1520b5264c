"""The canary judge: at each step, the new release against the live one over the same
window, on what CloudWatch has for both target groups.

Errors: the share of requests the release's targets answered 5xx (4xx are the client's
doing and do not count). The test is Fisher's exact test, one-sided: given how many 5xx
the two releases gave together, how likely is it that the canary got at least as many of
them as it did if both had the same rate? It is exact at any sample size, so a step with
few requests is judged at the confidence it claims, never more. A degradation fails the
step only when it is both significant (p below 1 - confidence) and larger than a margin
(percentage points): with enough traffic any difference is significant, and a 0.1 point
change is not worth a rollback.

Latency: Kayenta's way, a Mann-Whitney U test (one-sided, normal approximation with ties
corrected) on the per-period average response times of the two releases, with a margin
on the ratio of their medians. CloudWatch holds no single request's time, only each
period's statistics, so the samples are periods, not requests: it needs at least
`min_latency_points` periods on each side (10 s periods on the local target, 60 s on
AWS), and says so instead of guessing when there are fewer.

A comparison with too little traffic is inconclusive, not a pass or a failure: the fixed
alarms still guard the step. bench/judge.py measures the false failures (identical
releases) and the detection rate (2 points more 5xx) of these settings by simulation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

PASS, FAIL, INCONCLUSIVE = "passed", "failed", "inconclusive"


@dataclass(frozen=True)
class JudgeSettings:
    confidence: float = 0.99            # one-sided, per metric and step
    error_margin_points: float = 0.5    # percentage points of 5xx worse than the live release
    latency_margin_percent: float = 20  # median response time worse than the live release's
    min_requests: int = 500             # on each release in the window
    min_latency_points: int = 8         # periods with requests, on each release

    @classmethod
    def from_config(cls, config) -> "JudgeSettings":
        """From wimpy.yml's deploy.canary.judge (wimpy_domain.config.model.JudgeConfig)."""
        return cls(confidence=config.confidence_percent / 100,
                   error_margin_points=config.max_error_increase_points,
                   latency_margin_percent=config.max_latency_increase_percent,
                   min_requests=config.min_requests)


@dataclass(frozen=True)
class Sample:
    """One release's traffic over the window."""

    requests: int
    errors: int                        # 5xx answered by its targets
    latencies: tuple[float, ...] = ()  # average response time (s) of each period with requests

    @property
    def error_percent(self) -> float:
        return 100.0 * self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Comparison:
    metric: str           # "5xx" | "latency"
    outcome: str          # PASS | FAIL | INCONCLUSIVE
    canary: float         # 5xx percent, or median latency in ms
    live: float
    p_value: float | None
    detail: str


@dataclass(frozen=True)
class Verdict:
    comparisons: tuple[Comparison, ...] = field(default_factory=tuple)

    @property
    def outcome(self) -> str:
        outcomes = {c.outcome for c in self.comparisons}
        return FAIL if FAIL in outcomes else PASS if PASS in outcomes else INCONCLUSIVE

    @property
    def failures(self) -> list[str]:
        return [c.detail for c in self.comparisons if c.outcome == FAIL]

    def summary(self) -> str:
        return "; ".join(c.detail for c in self.comparisons)

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "comparisons": [asdict(c) for c in self.comparisons]}


def judge(canary: Sample, live: Sample, settings: JudgeSettings = JudgeSettings()) -> Verdict:
    return Verdict((compare_errors(canary, live, settings), compare_latency(canary, live, settings)))


def compare_errors(canary: Sample, live: Sample, settings: JudgeSettings) -> Comparison:
    rates = f"5xx {canary.error_percent:.2f}% of {canary.requests} vs live {live.error_percent:.2f}% of {live.requests}"
    if min(canary.requests, live.requests) < settings.min_requests:
        return Comparison("5xx", INCONCLUSIVE, canary.error_percent, live.error_percent, None,
                          f"{rates}: too few requests to compare (at least {settings.min_requests} each)")
    p = fisher_greater(canary.errors, canary.requests, live.errors, live.requests)
    worse_by = canary.error_percent - live.error_percent
    failed = p < 1 - settings.confidence and worse_by > settings.error_margin_points
    verdict = (f"worse by {worse_by:.2f} points (p={p:.4f})" if failed
               else f"no significant increase beyond {settings.error_margin_points:g} points (p={p:.4f})")
    return Comparison("5xx", FAIL if failed else PASS, canary.error_percent, live.error_percent, p,
                      f"{rates}: {verdict}")


def compare_latency(canary: Sample, live: Sample, settings: JudgeSettings) -> Comparison:
    points = min(len(canary.latencies), len(live.latencies))
    canary_ms = 1000 * _median(canary.latencies) if canary.latencies else 0.0
    live_ms = 1000 * _median(live.latencies) if live.latencies else 0.0
    medians = f"median response {canary_ms:.1f} ms vs live {live_ms:.1f} ms"
    if points < settings.min_latency_points:
        return Comparison("latency", INCONCLUSIVE, canary_ms, live_ms, None,
                          f"{medians}: too few periods to compare ({points}; at least "
                          f"{settings.min_latency_points} each)")
    p = mann_whitney_greater(canary.latencies, live.latencies)
    slower = canary_ms > live_ms * (1 + settings.latency_margin_percent / 100)
    failed = p < 1 - settings.confidence and slower
    verdict = (f"slower beyond {settings.latency_margin_percent:g}% (p={p:.4f})" if failed
               else f"not slower beyond {settings.latency_margin_percent:g}% (p={p:.4f})")
    return Comparison("latency", FAIL if failed else PASS, canary_ms, live_ms, p, f"{medians}: {verdict}")


# -- the tests -------------------------------------------------------------------------------

def fisher_greater(errors_a: int, n_a: int, errors_b: int, n_b: int) -> float:
    """One-sided p-value that A's error rate is greater than B's: the hypergeometric
    probability of A holding `errors_a` or more of the errors, given the totals."""
    total, errors = n_a + n_b, errors_a + errors_b
    if errors == 0:
        return 1.0
    low, high = max(errors_a, 0), min(n_a, errors)

    def log_probability(k: int) -> float:
        return (_log_comb(errors, k) + _log_comb(total - errors, n_a - k) - _log_comb(total, n_a))
    terms = [log_probability(k) for k in range(low, high + 1)]
    if not terms:
        return 0.0
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _log_comb(n: int, k: int) -> float:
    if k < 0 or k > n:
        return float("-inf")
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def mann_whitney_greater(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided p-value that values of A tend to be greater than B's (normal approximation
    with continuity and tie corrections)."""
    n_a, n_b = len(a), len(b)
    ranked = sorted([(value, 0) for value in a] + [(value, 1) for value in b])
    ranks = [0.0] * len(ranked)
    ties = 0.0
    index = 0
    while index < len(ranked):
        end = index
        while end + 1 < len(ranked) and ranked[end + 1][0] == ranked[index][0]:
            end += 1
        for position in range(index, end + 1):
            ranks[position] = (index + end) / 2 + 1
        size = end - index + 1
        ties += size ** 3 - size
        index = end + 1
    rank_sum_a = sum(rank for rank, (_, group) in zip(ranks, ranked) if group == 0)
    u = rank_sum_a - n_a * (n_a + 1) / 2
    n = n_a + n_b
    variance = n_a * n_b / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = (u - n_a * n_b / 2 - 0.5) / math.sqrt(variance)
    return 0.5 * math.erfc(z / math.sqrt(2))


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
