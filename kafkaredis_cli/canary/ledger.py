"""The independent consumer's bookkeeping: every probe it reads, per stream.

A stream is one (producer id, topic, partition). Each probe carries its partition
sequence number (0, 1, 2, … per stream), so for every stream:

- a duplicate is a sequence number read twice;
- a gap is a sequence number not read while a later one of the same stream was (it
  stops being a gap if it turns up after all: out of order, not lost).

Only the last WINDOW sequence numbers of a stream are kept one by one; older gaps are
final and live on as a count, so memory is fixed however long the canary runs. The
run's own streams start at 0 (the consumer starts at the end of every partition before
the first tick); another producer's stream starts at the first of its probes read.
Other producers' streams are kept for the MAX_OTHER_STREAMS seen most recently.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from typing import Any

WINDOW = 4096  # sequence numbers per stream kept one by one
MAX_OTHER_STREAMS = 256

StreamKey = tuple[str, str, int]  # producer id, topic, partition


class Seen(Enum):
    FIRST = "first"  # this sequence number read for the first time
    DUPLICATE = "duplicate"
    TOO_OLD = "too old"  # below the window: cannot tell


class Stream:
    __slots__ = ("duplicated", "floor", "gaps_before", "missing", "next", "read", "seen")

    def __init__(self, start: int = 0) -> None:
        self.floor = start  # sequence numbers below this are out of the window
        self.next = start  # one past the highest sequence number read
        self.seen: set[int] = set()  # read, within the window
        self.missing: set[int] = set()  # not read while a later one was, within the window
        self.gaps_before = 0  # gaps that fell out of the window (final)
        self.read = 0
        self.duplicated = 0

    @property
    def gaps(self) -> int:
        return self.gaps_before + len(self.missing)

    def observe(self, seq: int) -> Seen:
        if seq < self.floor:
            return Seen.TOO_OLD
        if seq in self.seen:
            self.duplicated += 1
            return Seen.DUPLICATE
        self.seen.add(seq)
        self.read += 1
        if seq >= self.next:
            start = self.next
            if seq - WINDOW > start:  # a jump: what is that far behind is a final gap
                self.gaps_before += seq - WINDOW - start
                start = seq - WINDOW
            self.missing.update(range(start, seq))
            self.next = seq + 1
        else:
            self.missing.discard(seq)  # out of order: no longer a gap
        if self.next - self.floor > 2 * WINDOW:
            self._slide()
        return Seen.FIRST

    def _slide(self) -> None:
        """Forget all but the last WINDOW sequence numbers (amortised: once per WINDOW)."""
        floor = self.next - WINDOW
        old = {s for s in self.missing if s < floor}
        self.gaps_before += len(old)
        self.missing -= old
        self.seen = {s for s in self.seen if s >= floor}
        self.floor = floor

    def to_json(self) -> dict[str, int]:
        return {"read": self.read, "duplicated": self.duplicated, "gaps": self.gaps}


@dataclass(frozen=True, slots=True)
class Observation:
    key: StreamKey
    seen: Seen
    own: bool


class Ledger:
    def __init__(self, own_producer_id: str) -> None:
        self.own_producer_id = own_producer_id
        self.own: dict[StreamKey, Stream] = {}
        self.others: OrderedDict[StreamKey, Stream] = OrderedDict()
        self.not_probes = 0  # messages without the canary's headers (someone else's data)

    def observe(self, producer_id: str, topic: str, partition: int, seq: int) -> Observation:
        key = (producer_id, topic, partition)
        own = producer_id == self.own_producer_id
        if own:
            stream = self.own.get(key)
            if stream is None:
                stream = self.own[key] = Stream(0)
        else:
            stream = self.others.get(key)
            if stream is None:
                stream = self.others[key] = Stream(seq)
                if len(self.others) > MAX_OTHER_STREAMS:
                    self.others.popitem(last=False)
            else:
                self.others.move_to_end(key)
        return Observation(key, stream.observe(seq), own)

    def own_stream(self, topic: str, partition: int) -> Stream | None:
        return self.own.get((self.own_producer_id, topic, partition))

    @property
    def gaps(self) -> int:
        return sum(s.gaps for s in self.own.values())

    def others_json(self) -> dict[str, dict[str, int]]:
        """Other producers' figures, per producer id (summed over their streams)."""
        out: dict[str, dict[str, int]] = {}
        for (producer, _topic, _partition), stream in self.others.items():
            figures = out.setdefault(producer, {"read": 0, "duplicated": 0, "gaps": 0})
            for name, value in stream.to_json().items():
                figures[name] += value
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "gaps": self.gaps,
            "other_producers": self.others_json(),
            "not_probes": self.not_probes,
        }
