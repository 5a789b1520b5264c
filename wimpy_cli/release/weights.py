"""Weights for a traffic share. Route53 weighted records take 0-255 and a listener's
forward action 0-999; a share is weight / (sum of weights), so not every share is
reachable: pick the pair that comes closest and report the share it really gives."""

from __future__ import annotations

import functools
from dataclasses import dataclass

DNS_MAX_WEIGHT = 255
LISTENER_MAX_WEIGHT = 999
MAX_WEIGHT = DNS_MAX_WEIGHT


@dataclass(frozen=True)
class Split:
    new: int
    old: int

    @property
    def share(self) -> float:
        """The new release's real share of answers, in percent."""
        return 100.0 * self.new / (self.new + self.old)


@functools.cache
def split_for(percent: float, most: int = DNS_MAX_WEIGHT) -> Split:
    """Weights (new, old), each at most `most`, whose share is as close to `percent` as
    weights allow; among equally close pairs, the one with the largest total. A share
    strictly between 0 and 100 keeps both weights nonzero: a 0.1% step must send some
    traffic, not none."""
    if not 0 <= percent <= 100:
        raise ValueError(f"a traffic share must be between 0 and 100 percent, got {percent}")
    if percent == 100:
        return Split(most, 0)
    if percent == 0:
        return Split(0, most)
    best: tuple[float, int, Split] | None = None
    for new in range(1, most + 1):
        # For each new weight, the old weights nearest the exact ratio are the only
        # candidates: the error grows on either side of them.
        exact = new * (100.0 - percent) / percent
        for old in {max(1, min(most, int(exact))), max(1, min(most, int(exact) + 1))}:
            error = abs(100.0 * new / (new + old) - percent)
            candidate = (error, -(new + old), Split(new, old))
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    assert best is not None
    return best[2]
