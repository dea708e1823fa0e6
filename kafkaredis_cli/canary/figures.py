"""The figures a run keeps for each scope (the run, a topic, a partition, a broker),
where a tick ran (Where), and the sink that mirrors the counts (metrics.py)."""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Protocol

from kafkaredis_cli.canary.histogram import LogHistogram
from kafkaredis_cli.formatting import ms_json

UNKNOWN_BROKER = -1

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
    rank = -(-p * len(sorted_values) // 100)
    return sorted_values[min(max(int(rank), 1), len(sorted_values)) - 1]


class Where(NamedTuple):
    """Where a probe went: its topic, partition and that partition's leader."""

    topic: str
    partition: int  # -1: not known (the producer's partitioner chose)
    broker: int  # UNKNOWN_BROKER: no leader known


class Sink(Protocol):
    """Told of every count as it happens (the Prometheus exporter)."""

    def count(self, figure: str, where: Where) -> None: ...

    def observe(self, figure: str, where: Where, ms: float) -> None: ...

    def succeeded(self, where: Where) -> None: ...


class NoSink:
    def count(self, figure: str, where: Where) -> None:
        pass

    def observe(self, figure: str, where: Where, ms: float) -> None:
        pass

    def succeeded(self, where: Where) -> None:
        pass


class Figures:
    """The counts of one scope (the run, a topic, a partition or a broker)."""

    __slots__ = (
        "cache_failed",
        "delivered",
        "delivery",
        "duplicated",
        "last_error",
        "last_success_ms",
        "late",
        "lost",
        "produce_failed",
        "round_trip",
        "sent",
        "verified",
    )

    def __init__(self) -> None:
        self.sent = 0
        self.delivered = 0
        self.produce_failed = 0  # no delivery report within --timeout, or an error one
        self.verified = 0
        self.lost = 0  # not read back within --timeout, and not read since
        self.late = 0  # not read back within --timeout, read by the consumer later
        self.duplicated = 0
        self.cache_failed = 0
        self.round_trip = LogHistogram()
        self.delivery = LogHistogram()
        self.last_error: str | None = None
        self.last_success_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        rt_p50, rt_p99 = self.round_trip.percentiles(50, 99)
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "produce_failed": self.produce_failed,
            "verified": self.verified,
            "lost": self.lost,
            "late": self.late,
            "duplicated": self.duplicated,
            "cache_failed": self.cache_failed,
            "round_trip_p50_ms": ms_json(rt_p50),
            "round_trip_p99_ms": ms_json(rt_p99),
            "last_error": self.last_error,
        }
