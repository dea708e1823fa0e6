"""The timer's loop: one ProduceMessage per tick through the mediator, on a fixed grid.

Each tick sends a probe (producer id, per-topic and per-partition sequence, send time)
to the next partition of the rotation (placement.py) by the same handler path as
`produce` (produce, wait for the delivery report, cache, read *this* message back),
then counts what happened, per partition and per broker (the partition's leader).
Between ticks it takes what the independent consumer read (every probe on the canary
topics: duplicates, gaps, late arrivals). One producer, one read-back consumer and one
independent consumer serve the whole run. Failures (broker down, Redis down or slow)
are counted with their reason and the loop carries on; only bad configuration ends it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from kafkaredis_cli.canary.arrivals import count_arrivals
from kafkaredis_cli.canary.figures import UNKNOWN_BROKER, NoSink, Sink, Where
from kafkaredis_cli.canary.placement import Rotation, TopicLayout
from kafkaredis_cli.canary.ports import TopicFollower, TopicLayouts
from kafkaredis_cli.canary.probe import Probe
from kafkaredis_cli.canary.reports import Arrival, RunReport, TickListener, TickReport, TimerOptions
from kafkaredis_cli.canary.schedule import Grid, Slot
from kafkaredis_cli.canary.signals import Stopper
from kafkaredis_cli.canary.statistics import RunStatistics
from kafkaredis_cli.domain.commands import ProduceMessage, ProduceResult
from kafkaredis_cli.domain.messages import now_ms
from kafkaredis_cli.domain.ports import MessageProducer, MessageStore
from kafkaredis_cli.errors import ConfigError, KafkaRedisError, UsageError
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.mediator import Mediator

STATS_TTL_MIN_S = 60


class Canary:
    def __init__(
        self,
        *,
        mediator: Mediator,
        producer: MessageProducer,
        store: MessageStore,
        keys: KeySpace,
        options: TimerOptions,
        stats_ttl_s: int,
        listener: TickListener,
        layouts: TopicLayouts | None = None,
        follower: TopicFollower | None = None,
        sink: Sink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mediator = mediator
        self._producer = producer
        self._store = store
        self._options = options
        self._listener = listener
        self._layouts = layouts
        self._follower = follower if options.independent_consumer else None
        self._clock = clock
        self._stats_ttl_s = max(stats_ttl_s, STATS_TTL_MIN_S)
        self.stats_key = keys.timer(options.producer_id)
        self.stats = RunStatistics(options.producer_id)
        self.stats.sink = sink or NoSink()
        self._sink = self.stats.sink
        self._seqs: dict[str, int] = dict.fromkeys(options.topics, 0)
        self._partition_seqs: dict[tuple[str, int], int] = {}
        self._rotation = Rotation()
        self.layouts: dict[str, TopicLayout] = {}
        self._started_at_ms = now_ms()
        self._stats_error: str | None = None
        self.follower_error: str | None = None if options.independent_consumer else "off"
        self._in_flight: tuple[Where, int] | None = None

    # -- before the grid starts -----------------------------------------------------------
    def warm_up(self) -> None:
        """Every topic laid out (created with a partition led by each broker when missing;
        leadership moved back with --rebalance-leaders), its metadata, the independent
        consumer at the end of every partition and the Redis connection, so the first
        tick measures the path, not the setup. Failures here are left to the ticks to
        count; only bad configuration ends the run."""
        for topic in self._options.topics:
            try:
                if self._layouts is not None:
                    self.layouts[topic] = self._layouts.ensure(
                        topic, rebalance=self._options.rebalance_leaders
                    )
                self._rotation.set(topic, self._partitions_of(topic))
            except (ConfigError, UsageError):
                raise
            except KafkaRedisError as exc:
                self.stats.record_error(f"setting up topic {topic!r}: {exc}")
                break  # the broker is down: every tick will say so
        if self._follower is not None:
            try:
                self._follower.start(self._options.topics)
            except (ConfigError, UsageError):
                raise
            except KafkaRedisError as exc:
                self.follower_error = str(exc)
                self._follower = None
        for topic in self._options.topics:
            for partition in range(self._rotation.partitions.get(topic, 0)):
                self._sink_prepare(self._where(topic, partition))
        self._save_stats("running")

    def _partitions_of(self, topic: str) -> int:
        """The topic's partition count as the producer sees it; partitions just added
        (--rebalance-leaders) take a moment to reach every broker's metadata."""
        count = self._producer.check_topic(topic)
        layout = self.layouts.get(topic)
        expected = len(layout.partitions) if layout is not None else 0
        deadline = self._clock() + self._options.timeout_s
        while count < expected and self._clock() < deadline:
            time.sleep(0.1)
            self._producer.forget_topic(topic)
            count = self._producer.check_topic(topic)
        return count

    def _sink_prepare(self, where: Where) -> None:
        prepare = getattr(self._sink, "prepare", None)
        if prepare is not None:
            prepare(where)

    def _where(self, topic: str, partition: int | None) -> Where:
        """The probe's topic, partition and the partition's last known leader."""
        if partition is None:
            return Where(topic, -1, UNKNOWN_BROKER)
        leader: int | None = None
        if self._follower is not None:
            leader = self._follower.leaders().get((topic, partition))
        if leader is None and topic in self.layouts:
            placement = self.layouts[topic].partitions.get(partition)
            leader = placement.leader if placement is not None else None
        return Where(topic, partition, UNKNOWN_BROKER if leader is None or leader < 0 else leader)

    def _missing_brokers(self) -> list[int]:
        """Brokers of the topics' layout that the cluster's metadata no longer lists
        (a dead broker, once the controller has fenced it); counted per tick."""
        current = self._follower.brokers() if self._follower is not None else None
        if current is None:
            return []
        known = {b for layout in self.layouts.values() for b in layout.brokers}
        missing = sorted(known - current)
        self.stats.record_missing_brokers(missing)
        return missing

    def _take_arrivals(self) -> tuple[Arrival, ...]:
        """Count what the independent consumer read since the last call."""
        if self._follower is None:
            return ()
        return count_arrivals(self._follower.take(), self.stats, self._where)

    def _finish_reading(self) -> None:
        """At the end: what is still in flight delivered (or given up), then the
        independent consumer reads up to the partitions' ends, so a probe that landed
        late is counted late, not lost."""
        with contextlib.suppress(KafkaRedisError):
            self._producer.flush(self._options.timeout_s)
        if self._follower is not None:
            self._follower.catch_up(self._options.timeout_s)
            self._take_arrivals()

    # -- the loop -------------------------------------------------------------------------
    def run(self, stopper: Stopper) -> RunReport:
        grid = Grid(self._options.interval_s, clock=self._clock)
        wall_start_ms = now_ms()
        stopped_by = "count"
        number = 0
        try:
            while self._options.count is None or number < self._options.count:
                if stopper.stopped:
                    break
                now = self._clock()
                slot = grid.next_slot(now)
                late = number > 0 and slot.due < now  # the previous tick overran into it
                if not late and stopper.wait(slot.due - self._clock()):
                    break
                number += 1
                scheduled_ms = wall_start_ms + round(slot.index * self._options.interval_s * 1000)
                report = self._tick(number, slot, grid, scheduled_ms, late)
                self._listener.tick(report, self.stats)
        except KeyboardInterrupt:
            stopped_by = "abort"
            if self._in_flight is not None:  # counted once, like every other probe
                self.stats.record_lost(*self._in_flight, "interrupted before it was read back")
        if stopped_by != "abort" and stopper.stopped:
            stopped_by = stopper.signal_name or "stop"
        elapsed = self._clock() - grid.start
        if stopped_by != "abort":
            try:
                self._finish_reading()
            except KeyboardInterrupt:  # a second Ctrl-C: do not wait for stragglers
                stopped_by = "abort"
        self._save_stats("finished" if stopped_by == "count" else "stopped")
        return RunReport(
            options=self._options,
            stats=self.stats,
            stats_key=self.stats_key,
            started_at_ms=self._started_at_ms,
            elapsed_s=elapsed,
            stopped_by=stopped_by,
            stats_error=self._stats_error,
            layouts=self.layouts,
            follower_error=self.follower_error,
        )

    def _next_partition(self, topic: str) -> int | None:
        if topic not in self._rotation.partitions:  # the broker was down at the start
            try:
                self._rotation.set(topic, self._producer.check_topic(topic))
            except (ConfigError, UsageError):
                raise
            except KafkaRedisError:
                return None
        return self._rotation.next(topic)

    def _tick(
        self, number: int, slot: Slot, grid: Grid, scheduled_ms: int, late: bool
    ) -> TickReport:
        options = self._options
        topic = options.topics[(number - 1) % len(options.topics)]
        seq = self._seqs[topic]
        self._seqs[topic] = seq + 1
        started = self._clock()
        partition = self._next_partition(topic)
        partition_seq: int | None = None
        if partition is not None:
            partition_seq = self._partition_seqs.get((topic, partition), 0)
            self._partition_seqs[(topic, partition)] = partition_seq + 1
        where = self._where(topic, partition)
        started_ms = now_ms()
        probe = Probe(
            producer_id=options.producer_id,
            topic=topic,
            seq=seq,
            sent_at_ms=started_ms,
            partition=partition,
            partition_seq=partition_seq,
        )
        self.stats.record_sent(where)
        self._in_flight = (where, seq)
        result: ProduceResult | None = None
        error: str | None = None
        try:
            result = self._mediator.send(
                ProduceMessage(topic=topic, message=probe.to_message(), timeout_s=options.timeout_s)
            )
        except (ConfigError, UsageError):
            raise
        except KafkaRedisError as exc:
            error = str(exc)
            self.stats.record_produce_failed(where, error)

        verified = bool(result is not None and result.verified)
        cache_error = result.cache_error if result is not None else None
        if result is not None:
            if partition is None and result.partition >= 0:  # the partitioner chose
                where = self._where(topic, result.partition)
            self.stats.record_delivered(where, result.delivery_ms)
            if verified:
                self.stats.record_verified(where, result.round_trip_ms)
            else:
                error = result.verify_error or "not read back"
        missing = self._missing_brokers()
        if not verified:
            error = error or "not read back"
            notes = []
            if where.broker != UNKNOWN_BROKER:
                notes.append(f"partition {where.partition} led by broker {where.broker}")
            if missing:
                notes.append(f"broker(s) {', '.join(map(str, missing))} missing from the cluster")
            if notes:
                error = f"{error} ({'; '.join(notes)})"
            self.stats.record_lost(where, seq, error)
        if cache_error is not None:
            self.stats.record_cache_failure(where, cache_error)
        self._in_flight = None
        arrivals = self._take_arrivals()
        finished = self._clock()
        overrun_s = grid.overrun_s(slot, finished)
        report = TickReport(
            tick=number,
            slot=slot.index,
            scheduled_at_ms=scheduled_ms,
            started_at_ms=started_ms,
            late_ms=max(0.0, (started - slot.due) * 1000),
            late=late,
            skipped=slot.skipped,
            topic=topic,
            seq=seq,
            id=result.id if result is not None else None,
            partition=result.partition if result is not None else partition,
            offset=result.offset if result is not None else None,
            broker=None if where.broker == UNKNOWN_BROKER else where.broker,
            partition_seq=partition_seq,
            missing_brokers=tuple(missing),
            delivered=result is not None,
            verified=verified,
            cached=bool(result is not None and result.cached),
            delivery_ms=result.delivery_ms if result is not None else None,
            round_trip_ms=result.round_trip_ms if verified and result is not None else None,
            error=None if verified else error,
            cache_error=cache_error,
            duration_ms=(finished - started) * 1000,
            overrun_ms=overrun_s * 1000,
            arrivals=arrivals,
            figures=self.stats.figures_at(where),
        )
        self.stats.record_tick(
            ok=report.ok,
            round_trip_ms=report.round_trip_ms,
            skipped=slot.skipped,
            late=late,
            overran=overrun_s > 0,
        )
        if cache_error is None:  # Redis just failed this tick: do not wait on it twice
            self._save_stats("running")
        return report

    # -- statistics in Redis, for inspect-cache and other terminals -----------------------
    def snapshot(self, status: str) -> dict[str, Any]:
        return {
            "producer_id": self._options.producer_id,
            "status": status,
            "started_at": self._started_at_ms,
            "updated_at": now_ms(),
            "interval_s": self._options.interval_s,
            "timeout_s": self._options.timeout_s,
            "topics": list(self._options.topics),
            "max_loss": str(self._options.max_loss),
            **self.stats.to_json(),
            "layout": {t: layout.to_json() for t, layout in self.layouts.items()},
        }

    def _save_stats(self, status: str) -> None:
        try:
            self._store.put_json(self.stats_key, self.snapshot(status), self._stats_ttl_s)
            self._stats_error = None
        except KafkaRedisError as exc:
            self._stats_error = str(exc)
