"""Route53 weights for a traffic share. A weighted record gets weight / (sum of weights)
of the answers, with weights 0-255, so not every share is reachable: pick the pair that
comes closest and report the share it really gives."""

from __future__ import annotations

import functools
from dataclasses import dataclass

MAX_WEIGHT = 255


@dataclass(frozen=True)
class Split:
    new: int
    old: int

    @property
    def share(self) -> float:
        """The new release's real share of answers, in percent."""
        return 100.0 * self.new / (self.new + self.old)


@functools.cache
def split_for(percent: float) -> Split:
    """Weights (new, old) whose share is as close to `percent` as weights allow; among
    equally close pairs, the one with the largest total. A share strictly between 0 and 100
    keeps both weights nonzero: a 0.1% step must send some traffic, not none."""
    if not 0 <= percent <= 100:
        raise ValueError(f"a traffic share must be between 0 and 100 percent, got {percent}")
    if percent == 100:
        return Split(MAX_WEIGHT, 0)
    if percent == 0:
        return Split(0, MAX_WEIGHT)
    best: tuple[float, int, Split] | None = None
    for new in range(1, MAX_WEIGHT + 1):
        for old in range(1, MAX_WEIGHT + 1):
            error = abs(100.0 * new / (new + old) - percent)
            candidate = (error, -(new + old), Split(new, old))
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    assert best is not None
    return best[2]
