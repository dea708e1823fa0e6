"""Fewer garbage collections while a hot loop runs (a batch produce, a consume)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# The loops make several short-lived tuples a message at hundreds of thousands of
# messages a second; with the default threshold (700) the collector runs every few
# hundred messages and its older generations walk every message still queued. Nearly
# all of these objects are freed by reference counting, not by the collector. Measured
# on `produce --file` of 200,000 messages: 20-25 % less CPU.
GEN0_THRESHOLD = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds and freeze what start-up made; restored after."""
    old = gc.get_threshold()
    gc.freeze()  # the modules and objects of start-up: never walked again meanwhile
    gc.set_threshold(GEN0_THRESHOLD, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()
