"""Consumed messages whose Redis record is not there yet: marked once it appears.

A consumer that follows a topic can be ahead of a batch `produce`, which writes its
records to Redis in chunks after their delivery. The update of a record that does not
exist changes nothing (a record is never resurrected as a stub), so such updates are
kept and tried again, for a while, until their records appear.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafkaredis_cli.domain.ports import ConsumedUpdate, MessageStore

RETRY_EVERY_S = 1.0  # how often the waiting updates are tried again
GRACE_S = 10.0  # how long an update waits for its record before it counts as "no record"
MAX_WAITING = 20_000  # updates kept waiting at most (beyond: counted at once)


@dataclass
class _Waiting:
    updates: Sequence[ConsumedUpdate]
    found: int  # how many of them had a record at the last try
    since: float


class LateRecords:
    """Marks records consumed; updates whose record is missing wait and are tried again.

    A store call tells how many records it updated, not which: a group of updates that
    found fewer than all is tried again whole (updating a record twice with the same
    values changes nothing) until every record is there or GRACE_S has passed.
    """

    def __init__(
        self,
        store: MessageStore,
        *,
        grace_s: float = GRACE_S,
        retry_every_s: float = RETRY_EVERY_S,
        max_waiting: int = MAX_WAITING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._grace_s = grace_s
        self._retry_every_s = retry_every_s
        self._max_waiting = max_waiting
        self._clock = clock
        self._waiting: list[_Waiting] = []
        self._waiting_count = 0
        self._last_retry = clock()
        self.given_up = 0  # updates whose record never appeared within the grace

    @property
    def no_record(self) -> int:
        """Consumed messages whose record is (still) missing."""
        return self.given_up + sum(len(w.updates) - w.found for w in self._waiting)

    def mark(self, updates: Sequence[ConsumedUpdate]) -> int:
        """Update the records of these messages; returns how many were updated now."""
        if not updates:
            return 0
        found = self._store.mark_consumed(updates)
        missing = len(updates) - found
        if missing:
            if self._waiting_count + len(updates) > self._max_waiting:
                self.given_up += missing
            else:
                self._waiting.append(_Waiting(updates, found, self._clock()))
                self._waiting_count += len(updates)
        return found

    def retry(self, *, now: bool = False) -> int:
        """Try the waiting updates again (at most every RETRY_EVERY_S unless `now`);
        returns how many records were updated for the first time."""
        if not self._waiting:
            return 0
        clock = self._clock()
        if not now and clock - self._last_retry < self._retry_every_s:
            return 0
        self._last_retry = clock
        newly = 0
        still: list[_Waiting] = []
        for waiting in self._waiting:
            found = self._store.mark_consumed(waiting.updates)
            newly += max(0, found - waiting.found)
            waiting.found = max(found, waiting.found)
            if waiting.found >= len(waiting.updates):
                self._waiting_count -= len(waiting.updates)
            elif clock - waiting.since >= self._grace_s:
                self.given_up += len(waiting.updates) - waiting.found
                self._waiting_count -= len(waiting.updates)
            else:
                still.append(waiting)
        self._waiting = still
        return newly
