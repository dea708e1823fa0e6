"""The fixed grid ticks run on: slot k is due at start + k * interval, never "sleep after work".

A tick that ends after the next slot was due has overrun. The next tick then runs at the
first slot that is not yet due, or at one overdue by no more than a grace (half an
interval), run at once and reported late; the slots passed over are reported as skipped.
So every tick starts on a grid point (or a little after it, and says so), and a slow tick
never shifts the ticks after it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

GRACE_FRACTION = 0.5


@dataclass(frozen=True, kw_only=True, slots=True)
class Slot:
    index: int  # k: due at start + k * interval
    due: float  # on the grid's (monotonic) clock
    skipped: int  # slots passed over since the previous tick (it overran)


class Grid:
    def __init__(
        self,
        interval_s: float,
        *,
        start: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        grace_fraction: float = GRACE_FRACTION,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the interval must be positive")
        self.interval_s = interval_s
        self.clock = clock
        self.start = clock() if start is None else start
        self.grace_s = interval_s * grace_fraction
        self._next = 0

    def due(self, index: int) -> float:
        return self.start + index * self.interval_s  # never accumulated: no drift

    def next_slot(self, now: float | None = None) -> Slot:
        """The slot the next tick runs in (slots overdue by more than the grace are skipped)."""
        now = self.clock() if now is None else now
        index = self._next
        if now - self.due(index) > self.grace_s:
            # the first slot overdue by no more than the grace (or not due yet)
            first_ok = math.ceil((now - self.grace_s - self.start) / self.interval_s - 1e-9)
            index = max(index, first_ok)
        skipped = index - self._next
        self._next = index + 1
        return Slot(index=index, due=self.due(index), skipped=skipped)

    def overrun_s(self, slot: Slot, finished: float) -> float:
        """How far a tick that started in `slot` ran past the next slot's due time."""
        return max(0.0, finished - self.due(slot.index + 1))
