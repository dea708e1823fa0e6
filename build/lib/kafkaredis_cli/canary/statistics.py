"""What a run counts: sent, delivered, verified, lost, duplicated, and latency percentiles.

Loss and duplicates come from sequence numbers per topic, as Xinfra Monitor counts them:
a sequence read back twice is a duplicate; a sequence skipped over (a gap) or never read
back within the tick's timeout is lost. A lost sequence that turns up later is no longer
lost (it counts as late), so `sent = verified + lost` holds, and nothing counts twice.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLES = 100_000  # beyond this, a uniform reservoir keeps the percentiles honest
RECENT = 60  # ticks the sparkline shows
WINDOW = 10_000  # sequences per topic kept one by one

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_WHERE = re.compile(r"\[\d+\]@\d+")


def reason_of(text: str) -> str:
    """An error message without its ids and offsets, so the same cause counts together."""
    reason = _UUID.sub("<id>", text)
    reason = _WHERE.sub("", reason)
    return reason.strip()


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of ascending values (None when there are none)."""
    if not sorted_values:
        return None
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


class Latency:
    """Latency samples (ms): p50 / p95 / p99 and max; a reservoir past MAX_SAMPLES."""

    def __init__(self, cap: int = MAX_SAMPLES, seed: int | None = None) -> None:
        self._cap = cap
        self._samples: list[float] = []
        self._sorted: list[float] | None = []
        self._random = random.Random(seed)
        self.count = 0
        self.max: float | None = None

    def add(self, ms: float) -> None:
        self.count += 1
        self.max = ms if self.max is None else max(self.max, ms)
        if len(self._samples) < self._cap:
            self._samples.append(ms)
        else:
            slot = self._random.randrange(self.count)
            if slot < self._cap:
                self._samples[slot] = ms
        self._sorted = None

    def percentile(self, p: float) -> float | None:
        if self._sorted is None:
            self._sorted = sorted(self._samples)
        return percentile(self._sorted, p)

    def summary(self) -> dict[str, float | int | None]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "p50": r(self.percentile(50)),
            "p95": r(self.percentile(95)),
            "p99": r(self.percentile(99)),
            "max": r(self.max),
            "count": self.count,
        }


@dataclass
class TopicStats:
    """One topic's sequence numbers. Only the last WINDOW sequences are kept one by one
    (for duplicates and late arrivals); older ones live on as counts, so a canary can
    run for weeks in bounded memory."""

    window: int = WINDOW
    sent: int = 0
    delivered: int = 0
    duplicated: int = 0
    late: int = 0
    verified: int = 0
    seen: set[int] = field(default_factory=set)  # read back, within the window
    lost_seqs: set[int] = field(default_factory=set)  # lost, within the window
    lost_before: int = 0  # lost, older than the window (final)
    floor: int = 0  # sequences below this are out of the window
    next_expected: int = 0  # the sequence after the highest one read back
    last_offset: int | None = None
    last_partition: int | None = None

    @property
    def lost(self) -> int:
        return len(self.lost_seqs) + self.lost_before

    def read_back(self, seq: int) -> bool:
        """False when `seq` is a duplicate, or too old to tell (out of the window)."""
        if seq < self.floor or seq in self.seen:
            self.duplicated += seq >= self.floor
            return False
        self.seen.add(seq)
        self.verified += 1
        if seq in self.lost_seqs:  # given up on, then found after all
            self.lost_seqs.discard(seq)
            self.late += 1
        if seq > self.next_expected:  # a gap: what was skipped over is lost
            self.lost_seqs.update(s for s in range(self.next_expected, seq) if s not in self.seen)
        self.next_expected = max(self.next_expected, seq + 1)
        self._prune()
        return True

    def lose(self, seq: int) -> None:
        if seq >= self.floor and seq not in self.seen:
            self.lost_seqs.add(seq)
            self._prune()

    def _prune(self) -> None:
        if len(self.seen) + len(self.lost_seqs) <= 2 * self.window:
            return
        self.floor = max(self.next_expected, max(self.lost_seqs, default=0) + 1) - self.window
        self.seen = {s for s in self.seen if s >= self.floor}
        old = {s for s in self.lost_seqs if s < self.floor}
        self.lost_before += len(old)
        self.lost_seqs -= old

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "verified": self.verified,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "late": self.late,
            "last_partition": self.last_partition,
            "last_offset": self.last_offset,
        }


class RunStatistics:
    def __init__(self, recent: int = RECENT, window: int = WINDOW) -> None:
        self.window = window
        self.topics: dict[str, TopicStats] = {}
        self.delivery = Latency()
        self.round_trip = Latency()
        self.recent: deque[float | None] = deque(maxlen=recent)  # round trip; None: failed
        self.errors: Counter[str] = Counter()
        self.last_error: str | None = None
        self.ticks = 0
        self.failed = 0  # ticks with any error (lost, or cache write failed)
        self.cache_failed = 0
        self.overruns = 0
        self.skipped = 0
        self.late_ticks = 0

    def topic(self, name: str) -> TopicStats:
        stats = self.topics.get(name)
        if stats is None:
            stats = self.topics[name] = TopicStats(window=self.window)
        return stats

    # -- what happens to one sequence number ----------------------------------------------
    def record_sent(self, topic: str, seq: int) -> None:
        self.topic(topic).sent += 1

    def record_delivered(
        self, topic: str, seq: int, delivery_ms: float, partition: int = -1, offset: int = -1
    ) -> None:
        stats = self.topic(topic)
        stats.delivered += 1
        stats.last_partition, stats.last_offset = partition, offset
        self.delivery.add(delivery_ms)

    def record_read_back(self, topic: str, seq: int, round_trip_ms: float | None = None) -> bool:
        """A sequence read back; False when it is a duplicate (seen before)."""
        fresh = self.topic(topic).read_back(seq)
        if fresh and round_trip_ms is not None:
            self.round_trip.add(round_trip_ms)
        return fresh

    def record_lost(self, topic: str, seq: int, reason: str) -> None:
        """This sequence was not read back within its tick (produce failed, or no read-back)."""
        self.topic(topic).lose(seq)
        self.record_error(reason)

    def record_cache_failure(self, reason: str) -> None:
        self.cache_failed += 1
        self.record_error(reason)

    def record_error(self, reason: str) -> None:
        self.errors[reason_of(reason)] += 1
        self.last_error = reason

    # -- what happens to one tick ---------------------------------------------------------
    def record_tick(
        self,
        *,
        ok: bool,
        round_trip_ms: float | None,
        skipped: int = 0,
        late: bool = False,
        overran: bool = False,
    ) -> None:
        self.ticks += 1
        if not ok:
            self.failed += 1
        self.recent.append(round_trip_ms if ok else None)
        self.skipped += skipped
        self.late_ticks += int(late)
        self.overruns += int(overran)

    # -- totals -----------------------------------------------------------------------------
    @property
    def sent(self) -> int:
        return sum(t.sent for t in self.topics.values())

    @property
    def delivered(self) -> int:
        return sum(t.delivered for t in self.topics.values())

    @property
    def verified(self) -> int:
        return sum(t.verified for t in self.topics.values())

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.topics.values())

    @property
    def duplicated(self) -> int:
        return sum(t.duplicated for t in self.topics.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "ticks": self.ticks,
            "sent": self.sent,
            "delivered": self.delivered,
            "verified": self.verified,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "failed": self.failed,
            "cache_failed": self.cache_failed,
            "overruns": self.overruns,
            "skipped_slots": self.skipped,
            "late_ticks": self.late_ticks,
            "latency_ms": {
                "round_trip": self.round_trip.summary(),
                "delivery": self.delivery.summary(),
            },
            "per_topic": {name: stats.to_json() for name, stats in self.topics.items()},
            "errors": dict(self.errors.most_common(10)),
            "last_error": self.last_error,
        }
