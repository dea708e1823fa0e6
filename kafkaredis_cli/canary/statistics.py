"""What a run counts, in total and per topic, per partition and per broker.

A tick's verdict comes from its own read-back: verified (read back within --timeout)
or lost. The independent consumer (ledger.py) reads every probe on the canary topics
and adds what a read-back cannot see: a lost tick whose probe arrives after all is
moved from lost to late (so `sent = verified + late + lost`, each tick counted once),
and a probe read twice is duplicated. The broker of a tick is the leader of its
partition when the tick ran.

Everything is kept in fixed memory and updated in constant time per tick: latency in
log-bucketed histograms (histogram.py), lost ticks that may still arrive in a bounded
map, the last RECENT round trips for the live view.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kafkaredis_cli.canary.figures import (
    UNKNOWN_BROKER,
    Figures,
    NoSink,
    Sink,
    Where,
    percentile,
    reason_of,
)
from kafkaredis_cli.canary.histogram import LogHistogram
from kafkaredis_cli.canary.ledger import Ledger, Seen

RECENT = 60  # ticks the sparkline and the recent percentiles cover
MAX_PENDING = 10_000  # lost ticks remembered, in case their probe turns up late
MAX_NOTED = 100  # the latest late and duplicated probes, listed in the summary
MAX_REASONS = 100  # distinct error reasons counted one by one; the rest as "other"


T = TypeVar("T")


class _Total(Generic[T]):
    """A read-only attribute of the run that is the same-named field of its totals."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, run: RunStatistics, owner: type | None = None) -> T:
        value: T = getattr(run.totals, self._name)
        return value


class RunStatistics:
    def __init__(
        self,
        producer_id: str = "",
        recent: int = RECENT,
        max_pending: int = MAX_PENDING,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        from kafkaredis_cli.domain.messages import now_ms as wall_ms

        self.totals = Figures()
        self.topics: dict[str, Figures] = {}
        self.partitions: dict[tuple[str, int], Figures] = {}
        self.brokers: dict[int, Figures] = {}
        self.ledger = Ledger(producer_id)
        self.sink: Sink = NoSink()
        self.recent: deque[float | None] = deque(maxlen=recent)  # round trip; None: failed
        self.errors: Counter[str] = Counter()
        self.last_error: str | None = None
        self.ticks = 0
        self.failed = 0  # ticks with any error (lost, or cache write failed)
        self.overruns = 0
        self.skipped = 0
        self.late_ticks = 0  # ticks that started after their slot (the grid's "late")
        self._pending: OrderedDict[tuple[str, int], Where] = OrderedDict()
        self.missing_brokers: Counter[int] = Counter()  # ticks each broker was missing for
        self.noted: dict[str, deque[dict[str, Any]]] = {
            "late": deque(maxlen=MAX_NOTED),
            "duplicated": deque(maxlen=MAX_NOTED),
        }
        self._max_pending = max_pending
        self._now_ms = now_ms or wall_ms

    # -- scopes -----------------------------------------------------------------------------
    def _scopes(self, where: Where) -> tuple[Figures, Figures, Figures, Figures]:
        topic = self.topics.get(where.topic)
        if topic is None:
            topic = self.topics[where.topic] = Figures()
        key = (where.topic, where.partition)
        partition = self.partitions.get(key)
        if partition is None:
            partition = self.partitions[key] = Figures()
        broker = self.brokers.get(where.broker)
        if broker is None:
            broker = self.brokers[where.broker] = Figures()
        return self.totals, topic, partition, broker

    def topic(self, name: str) -> Figures:
        return self.topics.setdefault(name, Figures())

    # -- what happens to one probe ----------------------------------------------------------
    def record_sent(self, where: Where) -> None:
        for scope in self._scopes(where):
            scope.sent += 1
        self.sink.count("produced", where)

    def record_delivered(self, where: Where, delivery_ms: float) -> None:
        for scope in self._scopes(where):
            scope.delivered += 1
            scope.delivery.add(delivery_ms)
        self.sink.observe("delivery", where, delivery_ms)

    def record_produce_failed(self, where: Where, reason: str) -> None:
        for scope in self._scopes(where):
            scope.produce_failed += 1
        self.sink.count("produce_failed", where)

    def record_verified(self, where: Where, round_trip_ms: float | None) -> None:
        now = self._now_ms()
        for scope in self._scopes(where):
            scope.verified += 1
            scope.last_success_ms = now
            if round_trip_ms is not None:
                scope.round_trip.add(round_trip_ms)
        self.sink.count("verified", where)
        if round_trip_ms is not None:
            self.sink.observe("round_trip", where, round_trip_ms)
        self.sink.succeeded(where)

    def record_lost(self, where: Where, seq: int, reason: str) -> None:
        """This tick's probe was not read back within its tick: lost, unless it turns up."""
        for scope in self._scopes(where):
            scope.lost += 1
            scope.last_error = reason
        self.sink.count("lost", where)
        self._pending[(where.topic, seq)] = where
        if len(self._pending) > self._max_pending:
            self._pending.popitem(last=False)  # lost for good: too old to wait for
        self.record_error(reason)

    def record_cache_failure(self, where: Where, reason: str) -> None:
        for scope in self._scopes(where):
            scope.cache_failed += 1
            scope.last_error = reason
        self.sink.count("cache_failed", where)
        self.record_error(reason)

    def record_error(self, reason: str) -> None:
        key = reason_of(reason)
        if key not in self.errors and len(self.errors) >= MAX_REASONS:
            key = "other errors"
        self.errors[key] += 1
        self.last_error = reason

    # -- what the independent consumer reads ------------------------------------------------
    def record_arrival(
        self, producer_id: str, where: Where, seq: int, stream_seq: int
    ) -> Seen | None:
        """A probe the independent consumer read. Returns what it was to this run:
        FIRST (late, if its tick was counted lost), DUPLICATE, TOO_OLD; None for another
        producer's probe (kept in the ledger apart)."""
        seen = self.ledger.observe(producer_id, where.topic, where.partition, stream_seq)
        if not seen.own:
            return None
        set_gaps = getattr(self.sink, "set_gaps", None)
        if set_gaps is not None:
            stream = self.ledger.own_stream(where.topic, where.partition)
            set_gaps(where, 0 if stream is None else stream.gaps)
        probe = {"topic": where.topic, "partition": where.partition, "seq": seq}
        if seen.seen is Seen.DUPLICATE:
            for scope in self._scopes(where):
                scope.duplicated += 1
            self.sink.count("duplicated", where)
            self.noted["duplicated"].append(probe)
        elif seen.seen is Seen.FIRST:
            lost_at = self._pending.pop((where.topic, seq), None)
            if lost_at is not None:
                for scope in self._scopes(lost_at):
                    scope.lost -= 1
                    scope.late += 1
                self.sink.count("late", lost_at)
                self.noted["late"].append(probe)
        return seen.seen

    def record_missing_brokers(self, brokers: list[int]) -> None:
        self.missing_brokers.update(brokers)
        brokers_missing = getattr(self.sink, "brokers_missing", None)
        if brokers_missing is not None:
            brokers_missing(brokers)

    def is_pending(self, topic: str, seq: int) -> bool:
        return (topic, seq) in self._pending

    # -- what happens to one tick -----------------------------------------------------------
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

    # -- totals (the run's Figures, read as attributes of the run) ------------------------
    sent = _Total[int]()
    delivered = _Total[int]()
    verified = _Total[int]()
    lost = _Total[int]()
    late = _Total[int]()
    duplicated = _Total[int]()
    cache_failed = _Total[int]()
    round_trip = _Total[LogHistogram]()
    delivery = _Total[LogHistogram]()

    def figures_at(self, where: Where) -> dict[str, Any]:
        """The figures so far of the partition and the broker a tick went to (JSON)."""
        partition = self.partitions.get((where.topic, where.partition))
        broker = self.brokers.get(where.broker)
        return {
            "partition": partition.to_json() if partition is not None else None,
            "broker": broker.to_json() if broker is not None else None,
        }

    def recent_percentiles(self) -> tuple[float | None, float | None]:
        """p50 and p99 round trip of the last RECENT ticks (for the live view)."""
        values = sorted(v for v in self.recent if v is not None)
        return percentile(values, 50), percentile(values, 99)

    def brokers_failing(self) -> list[int]:
        """Brokers that led a partition when a probe to it was not read back in time
        (lost or late) or its produce failed."""
        return [
            broker
            for broker, figures in sorted(self.brokers.items())
            if broker != UNKNOWN_BROKER and (figures.lost or figures.late or figures.produce_failed)
        ]

    def to_json(self) -> dict[str, Any]:
        totals = self.totals
        return {
            "ticks": self.ticks,
            "sent": totals.sent,
            "delivered": totals.delivered,
            "produce_failed": totals.produce_failed,
            "verified": totals.verified,
            "lost": totals.lost,
            "late": totals.late,
            "duplicated": totals.duplicated,
            "gaps": self.ledger.gaps,
            "failed": self.failed,
            "cache_failed": totals.cache_failed,
            "overruns": self.overruns,
            "skipped_slots": self.skipped,
            "late_ticks": self.late_ticks,
            "latency_ms": {
                "round_trip": totals.round_trip.summary(),
                "delivery": totals.delivery.summary(),
            },
            "per_topic": {name: figures.to_json() for name, figures in self.topics.items()},
            "per_partition": {
                f"{topic}[{partition}]": self._partition_json(topic, partition, figures)
                for (topic, partition), figures in sorted(self.partitions.items())
            },
            "per_broker": {
                str(broker): figures.to_json() for broker, figures in sorted(self.brokers.items())
            },
            "brokers_failing": self.brokers_failing(),
            "brokers_missing": {str(b): n for b, n in sorted(self.missing_brokers.items())},
            "late_probes": list(self.noted["late"]),  # the latest MAX_NOTED of each
            "duplicated_probes": list(self.noted["duplicated"]),
            "other_producers": self.ledger.others_json(),
            "errors": dict(self.errors.most_common(10)),
            "last_error": self.last_error,
        }

    def _partition_json(self, topic: str, partition: int, figures: Figures) -> dict[str, Any]:
        stream = self.ledger.own_stream(topic, partition)
        return {
            "topic": topic,
            "partition": partition,
            **figures.to_json(),
            "read": 0 if stream is None else stream.read,
            "gaps": 0 if stream is None else stream.gaps,
        }
