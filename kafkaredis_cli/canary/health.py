"""`/healthz` of `timer --metrics-port`: is the canary verifying right now?

Healthy (200) when a probe was verified within the last few intervals (STALE_INTERVALS
intervals plus a --timeout, at least MIN_STALE_S seconds) and no partition's latest
probe failed and no broker is missing from the cluster. Otherwise 503, and the JSON body
says why: the failing topic/partition, its leader and the error, the missing brokers,
or how long ago the last probe was verified. Before the first tick: 503 "starting".

Updated by the timer's thread (HealthListener sits in front of the view), read by the
HTTP server's thread: one lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kafkaredis_cli.canary.reports import TickListener, TickReport
from kafkaredis_cli.canary.statistics import RunStatistics

STALE_INTERVALS = 3
MIN_STALE_S = 10.0


class Health:
    def __init__(
        self,
        interval_s: float,
        timeout_s: float,
        producer_id: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stale_after_s = max(STALE_INTERVALS * interval_s + timeout_s, MIN_STALE_S)
        self._producer_id = producer_id
        self._clock = clock
        self._lock = threading.Lock()
        self._ticks = 0
        self._last_verified: float | None = None
        self._failing: dict[tuple[str, int | None], dict[str, Any]] = {}
        self._missing: tuple[int, ...] = ()
        self._cache_error: str | None = None

    def tick(self, report: TickReport) -> None:
        now = self._clock()
        with self._lock:
            self._ticks += 1
            self._missing = report.missing_brokers
            self._cache_error = report.cache_error
            key = (report.topic, report.partition)
            if report.verified:
                self._last_verified = now
                self._failing.pop(key, None)
                self._failing.pop((report.topic, None), None)  # its metadata is back
            else:
                self._failing[key] = {
                    "topic": report.topic,
                    "partition": report.partition,
                    "broker": report.broker,
                    "error": report.error or "not read back",
                    "since": self._failing.get(key, {}).get("since", now),
                }

    def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON body)."""
        now = self._clock()
        with self._lock:
            body: dict[str, Any] = {"producer_id": self._producer_id, "ticks": self._ticks}
            reasons: list[str] = []
            age = None if self._last_verified is None else now - self._last_verified
            body["last_verified_age_s"] = None if age is None else round(age, 3)
            if self._ticks == 0:
                reasons.append("starting: no tick has run yet")
            elif age is None:
                reasons.append("no probe verified yet")
            elif age > self.stale_after_s:
                reasons.append(
                    f"no probe verified for {age:.1f}s (more than {self.stale_after_s:g}s)"
                )
            failing = [{**f, "for_s": round(now - f["since"], 3)} for f in self._failing.values()]
            for f in failing:
                del f["since"]
                where = f"topic {f['topic']}"
                if f["partition"] is not None:
                    where += f" partition {f['partition']}"
                if f["broker"] is not None:
                    where += f" (leader broker {f['broker']})"
                reasons.append(f"{where}: {f['error']}")
            if self._missing:
                reasons.append(
                    f"broker(s) {', '.join(map(str, self._missing))} missing from the cluster"
                )
            if failing:
                body["failing"] = failing
            if self._missing:
                body["missing_brokers"] = list(self._missing)
            if self._cache_error is not None:
                body["cache_error"] = self._cache_error  # Redis: reported, not failing
        healthy = not reasons
        body["status"] = "ok" if healthy else "failing"
        if reasons:
            body["reasons"] = reasons
        return healthy, body


class HealthListener:
    """The timer's listener: tells Health of each tick, then the view."""

    def __init__(self, health: Health, view: TickListener) -> None:
        self._health = health
        self._view = view

    def tick(self, report: TickReport, stats: RunStatistics) -> None:
        self._health.tick(report)
        self._view.tick(report, stats)
