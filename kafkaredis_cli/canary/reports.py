"""What a timer run reports: its options, each tick, the run's summary (JSON shapes too),
and the listener that shows the ticks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kafkaredis_cli.canary.max_loss_option import LossLimit
from kafkaredis_cli.canary.placement import TopicLayout
from kafkaredis_cli.canary.statistics import RunStatistics
from kafkaredis_cli.formatting import ms_json


@dataclass(frozen=True, kw_only=True, slots=True)
class TimerOptions:
    interval_s: float
    count: int | None
    topics: tuple[str, ...]
    timeout_s: float
    max_loss: LossLimit
    producer_id: str
    rebalance_leaders: bool = False
    independent_consumer: bool = True
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Arrival:
    """A probe of this run the independent consumer read, worth reporting: late (its
    tick had counted it lost) or a duplicate."""

    topic: str
    partition: int
    seq: int
    what: str  # late | duplicate

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "seq": self.seq}


@dataclass(frozen=True, kw_only=True, slots=True)
class TickReport:
    tick: int  # 1, 2, … (ticks run)
    slot: int  # grid slot k: scheduled at start + k * interval
    scheduled_at_ms: int
    started_at_ms: int
    late_ms: float  # started after its scheduled time by this much
    late: bool  # the slot was already due when the previous tick ended (it overran)
    skipped: int  # slots passed over before this tick
    topic: str
    seq: int
    id: str | None
    partition: int | None
    offset: int | None
    broker: int | None = None  # the partition's leader when the tick ran
    partition_seq: int | None = None
    missing_brokers: tuple[int, ...] = ()  # brokers gone from the cluster's metadata
    delivered: bool
    verified: bool
    cached: bool
    delivery_ms: float | None
    round_trip_ms: float | None
    error: str | None  # why the probe was lost
    cache_error: str | None
    duration_ms: float
    overrun_ms: float  # ran past the next slot's due time by this much
    arrivals: tuple[Arrival, ...] = ()  # late and duplicate probes read since the last tick
    figures: dict[str, Any] | None = None  # this partition's and this broker's running counts

    @property
    def ok(self) -> bool:
        return self.verified and self.cache_error is None

    @property
    def status(self) -> str:
        return "verified" if self.verified else "lost"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "tick",
            "tick": self.tick,
            "slot": self.slot,
            "scheduled_at": self.scheduled_at_ms,
            "started_at": self.started_at_ms,
            "late_ms": ms_json(self.late_ms),
            "late": self.late,
            "skipped": self.skipped,
            "topic": self.topic,
            "seq": self.seq,
            "id": self.id,
            "partition": self.partition,
            "partition_seq": self.partition_seq,
            "offset": self.offset,
            "broker": self.broker,
            "missing_brokers": list(self.missing_brokers),
            "status": self.status,
            "delivered": self.delivered,
            "verified": self.verified,
            "cached": self.cached,
            "delivery_ms": ms_json(self.delivery_ms),
            "round_trip_ms": ms_json(self.round_trip_ms),
            "error": self.error,
            "cache_error": self.cache_error,
            "duration_ms": ms_json(self.duration_ms),
            "overrun_ms": ms_json(self.overrun_ms),
            "arrived_late": [a.to_json() for a in self.arrivals if a.what == "late"],
            "duplicates": [a.to_json() for a in self.arrivals if a.what == "duplicate"],
            **({"figures": self.figures} if self.figures is not None else {}),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class RunReport:
    options: TimerOptions
    stats: RunStatistics
    stats_key: str
    started_at_ms: int
    elapsed_s: float
    stopped_by: str  # count | SIGINT | SIGTERM | abort
    stats_error: str | None = None  # the last failed write of the statistics to Redis
    layouts: dict[str, TopicLayout] | None = None
    follower_error: str | None = None  # why the independent consumer did not run

    @property
    def completed(self) -> bool:
        return self.stopped_by == "count"

    @property
    def interrupted(self) -> bool:
        return not self.completed

    @property
    def loss_ok(self) -> bool:
        return self.options.max_loss.allows(self.stats.lost, self.stats.sent)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "summary",
            "producer_id": self.options.producer_id,
            "stats_key": self.stats_key,
            "started_at": self.started_at_ms,
            "elapsed_s": round(self.elapsed_s, 3),
            "interval_s": self.options.interval_s,
            "timeout_s": self.options.timeout_s,
            "topics": list(self.options.topics),
            "count": self.options.count,
            "stopped_by": self.stopped_by,
            "interrupted": self.interrupted,
            **self.stats.to_json(),
            "max_loss": str(self.options.max_loss),
            "loss_ok": self.loss_ok,
            "stats_error": self.stats_error,
            "layout": {t: layout.to_json() for t, layout in (self.layouts or {}).items()},
            "independent_consumer": {
                "running": self.options.independent_consumer and self.follower_error is None,
                "error": self.follower_error,
            },
        }


class TickListener(Protocol):
    def tick(self, report: TickReport, stats: RunStatistics) -> None: ...


class TimerView(TickListener, Protocol):
    def start(self, options: TimerOptions, stats_key: str) -> None: ...

    def close(self) -> None:
        """The ticks are over (or failed): stop drawing."""

    def finish(self, report: RunReport) -> None: ...
