#!/usr/bin/env python3
"""The canary judge (wimpy_cli/release/judge.py), measured by simulation: both releases fed from
known distributions, the judge's verdict counted over many runs.

    bench/judge.py            # 400 runs per cell, about a minute
    bench/judge.py --runs 1000

Per cell (the live release's 5xx rate, the canary's requests in the step's window):

  A/A      both releases with the same 5xx rate and the same latency distribution: the
           share of runs the judge fails (a false failure; goal <= 2%).
  +2 pts   the canary with 2 percentage points more 5xx: the share of runs it fails
           (detection; goal >= 95%).

The canary gets a 10% step's traffic (the live release 9 times as many requests), and
latencies are 12 periods' averages (a 2-minute step at 10 s, 12 minutes at 60 s) drawn
from the same log-normal distribution for both releases. Results go to
bench/results/judge-<time>.json. Seeded: the same figures every run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wimpy_cli.release.judge import FAIL, JudgeSettings, Sample, judge  # noqa: E402

BASE_RATES = (0.001, 0.01, 0.05)
CANARY_REQUESTS = (250, 500, 1000, 2000, 4000)
LIVE_PER_CANARY = 9        # a 10% step
PERIODS = 12
DEGRADATION = 0.02         # 2 percentage points


def binomial(rng: random.Random, n: int, p: float) -> int:
    """An exact binomial draw by inversion of the geometric gaps between successes (fast for
    the small p of error rates)."""
    if p <= 0:
        return 0
    count, position, log_q = 0, 0, math.log(1 - p)
    while True:
        position += int(math.log(1 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


def latencies(rng: random.Random) -> tuple[float, ...]:
    return tuple(rng.lognormvariate(math.log(0.020), 0.3) for _ in range(PERIODS))


def failure_rate(rng: random.Random, runs: int, n: int, base: float, extra: float,
                 settings: JudgeSettings) -> float:
    failed = 0
    for _ in range(runs):
        canary = Sample(n, binomial(rng, n, base + extra), latencies(rng))
        live_n = n * LIVE_PER_CANARY
        live = Sample(live_n, binomial(rng, live_n, base), latencies(rng))
        failed += judge(canary, live, settings).outcome == FAIL
    return failed / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    args = parser.parse_args()
    settings = JudgeSettings()
    rng = random.Random(20261202)
    rows = []
    print(f"judge: confidence {settings.confidence:.0%}, margin {settings.error_margin_points} points, "
          f"min {settings.min_requests} requests; {args.runs} runs per cell; canary at a 10% step")
    print(f"{'live 5xx':>9} {'canary n':>9} {'A/A fails':>10} {'+2 pts caught':>14}")
    for base in BASE_RATES:
        for n in CANARY_REQUESTS:
            same = failure_rate(rng, args.runs, n, base, 0.0, settings)
            worse = failure_rate(rng, args.runs, n, base, DEGRADATION, settings)
            rows.append({"live_5xx": base, "canary_requests": n, "aa_false_failure": same,
                         "detection_2_points": worse})
            goals = ("ok" if same <= 0.02 else "A/A over 2%") + (", detects" if worse >= 0.95 else "")
            print(f"{base:>9.1%} {n:>9} {same:>10.1%} {worse:>14.1%}  {goals}")
    needed = {f"{base:.1%}": min((r["canary_requests"] for r in rows if r["live_5xx"] == base
                                  and r["aa_false_failure"] <= 0.02 and r["detection_2_points"] >= 0.95),
                                 default=None) for base in BASE_RATES}
    print("fewest canary requests per step meeting both goals:",
          ", ".join(f"{rate} live 5xx: {n or 'none tried'}" for rate, n in needed.items()))
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (results / f"judge-{stamp}.json").write_text(json.dumps(
        {"runs": args.runs, "settings": settings.__dict__, "rows": rows, "needed": needed}, indent=2))


if __name__ == "__main__":
    main()
