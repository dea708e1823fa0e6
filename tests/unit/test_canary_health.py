"""/healthz: healthy while probes verify, 503 naming the failing partition, a missing
broker or a stale loop; the metrics port serves /metrics, /healthz and 404 otherwise."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from kafkaredis_cli.canary.figures import Where
from kafkaredis_cli.canary.health import MIN_STALE_S, Health, HealthListener
from kafkaredis_cli.canary.metrics import PrometheusSink
from kafkaredis_cli.canary.reports import TickReport
from kafkaredis_cli.canary.statistics import RunStatistics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def report(
    tick: int,
    *,
    verified: bool = True,
    partition: int | None = 0,
    broker: int | None = 1,
    error: str | None = None,
    missing: tuple[int, ...] = (),
    cache_error: str | None = None,
) -> TickReport:
    return TickReport(
        tick=tick,
        slot=tick - 1,
        scheduled_at_ms=0,
        started_at_ms=0,
        late_ms=0.0,
        late=False,
        skipped=0,
        topic="t",
        seq=tick - 1,
        id=None,
        partition=partition,
        offset=None,
        broker=broker,
        missing_brokers=missing,
        delivered=verified,
        verified=verified,
        cached=verified and cache_error is None,
        delivery_ms=1.0 if verified else None,
        round_trip_ms=2.0 if verified else None,
        error=None if verified else error,
        cache_error=cache_error,
        duration_ms=3.0,
        overrun_ms=0.0,
    )


def test_starting_then_healthy_then_stale():
    clock = Clock()
    health = Health(interval_s=1.0, timeout_s=2.0, producer_id="p", clock=clock)
    healthy, body = health.check()
    assert not healthy and body["status"] == "failing"
    assert body["reasons"] == ["starting: no tick has run yet"]
    health.tick(report(1))
    healthy, body = health.check()
    assert healthy, body
    assert body == {
        "status": "ok",
        "producer_id": "p",
        "ticks": 1,
        "last_verified_age_s": 0.0,
    }
    assert health.stale_after_s == MIN_STALE_S  # 3 x 1 s + 2 s is under the floor
    clock.now += MIN_STALE_S + 0.5
    healthy, body = health.check()
    assert not healthy
    assert body["reasons"] == [f"no probe verified for {MIN_STALE_S + 0.5:.1f}s (more than 10s)"]


def test_a_failing_partition_is_named_until_it_verifies_again():
    clock = Clock()
    health = Health(interval_s=5.0, timeout_s=5.0, clock=clock)
    assert health.stale_after_s == 20.0
    health.tick(report(1))
    health.tick(report(2, verified=False, partition=1, broker=2, error="timed out"))
    clock.now += 1.5
    healthy, body = health.check()
    assert not healthy
    assert body["failing"] == [
        {"topic": "t", "partition": 1, "broker": 2, "error": "timed out", "for_s": 1.5}
    ]
    assert body["reasons"] == ["topic t partition 1 (leader broker 2): timed out"]
    health.tick(report(3, partition=0))  # another partition verifies: 1 still failing
    assert not health.check()[0]
    health.tick(report(4, partition=1, broker=2))
    assert health.check()[0]


def test_a_missing_broker_and_no_metadata_are_failing_redis_is_only_reported():
    health = Health(interval_s=1.0, timeout_s=1.0)
    health.tick(report(1, verified=False, partition=None, broker=None, error="no metadata"))
    healthy, body = health.check()
    assert not healthy
    assert "no probe verified yet" in body["reasons"]
    assert "topic t: no metadata" in body["reasons"]
    health.tick(report(2, missing=(3,)))
    healthy, body = health.check()
    assert not healthy
    assert body["missing_brokers"] == [3]
    assert body["reasons"] == ["broker(s) 3 missing from the cluster"]
    health.tick(report(3, cache_error="Redis at 127.0.0.1:1 is unreachable"))
    healthy, body = health.check()
    assert healthy and body["cache_error"].startswith("Redis at")


def test_the_listener_tells_health_then_the_view():
    seen: list[int] = []

    class View:
        def tick(self, report: TickReport, stats: RunStatistics) -> None:
            seen.append(report.tick)

    health = Health(interval_s=1.0, timeout_s=1.0)
    HealthListener(health, View()).tick(report(7), RunStatistics("p"))
    assert seen == [7] and health.check()[0]


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


@pytest.fixture
def served() -> Any:
    sink = PrometheusSink("me")
    sink.prepare(Where("t", 0, 1))
    health = Health(interval_s=1.0, timeout_s=1.0, producer_id="me")
    sink.serve("127.0.0.1", 0, health.check)
    assert sink._server is not None
    port = sink._server.server_address[1]
    yield f"http://127.0.0.1:{port}", health
    sink.close()


def test_the_port_serves_metrics_healthz_and_404(served):
    base, health = served
    status, content_type, body = get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    assert b'kafkaredis_canary_produced_total{broker="1",partition="0",topic="t"} 0.0' in body
    status, content_type, body = get(f"{base}/healthz")
    assert (status, content_type) == (503, "application/json")
    assert json.loads(body)["reasons"] == ["starting: no tick has run yet"]
    health.tick(report(1))
    status, _, body = get(f"{base}/healthz?verbose=1")
    assert status == 200 and json.loads(body)["status"] == "ok"
    for path in ("/", "/metrics/", "/health", "/favicon.ico"):
        status, _, body = get(f"{base}{path}")
        assert status == 404, path
        assert b"kafkaredis_canary" not in body
