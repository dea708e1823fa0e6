"""The timer under trouble, on services of the test's own: Redis stopped and started, the
broker stopped and restarted, Redis slowed down. The canary keeps ticking on its grid,
counts what failed with the reason, and recovers."""

from __future__ import annotations

import json
import signal
import uuid
from typing import Any

import pytest
import redis
from confluent_kafka import Consumer, TopicPartition

from kafkaredis_cli.canary.probe import PRODUCER_HEADER, SEQ_HEADER
from kafkaredis_cli.errors import ExitStatus
from tests.integration.test_timer import TimerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INTERVAL_MS = 200
TIMER_ARGS = ["--interval", "0.2", "--timeout", "1"]


def after(ticks: list[dict[str, Any]], tick: int) -> list[dict[str, Any]]:
    return [t for t in ticks if t["tick"] > tick]


def assert_on_grid(ticks: list[dict[str, Any]]) -> None:
    """Every tick starts at start + k * interval (late only within half an interval)."""
    first = ticks[0]
    slots = [t["slot"] for t in ticks]
    assert slots == sorted(set(slots))
    for tick in ticks:
        assert abs(tick["scheduled_at"] - (first["scheduled_at"] + tick["slot"] * INTERVAL_MS)) <= 1
        assert tick["late_ms"] <= INTERVAL_MS / 2 + 100
        assert tick["started_at"] >= tick["scheduled_at"] - 2


def canary_sequences(bootstrap: str, topic: str, producer_id: str) -> list[tuple[int, int]]:
    """(offset, sequence number) of this run's probes the topic holds."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
        consumer.assign([TopicPartition(topic, 0, 0)])
        seqs: list[tuple[int, int]] = []
        position = 0
        while position < high:
            msg = consumer.poll(10)
            assert msg is not None, f"topic {topic} not read to {high}"
            if msg.error() is not None:
                continue
            position = msg.offset() + 1
            headers = dict(msg.headers() or [])
            if headers.get(PRODUCER_HEADER) == producer_id.encode():
                seqs.append((msg.offset(), int(headers[SEQ_HEADER])))
        return seqs
    finally:
        consumer.close()


def test_redis_stopped_and_started_failed_ticks_counted_then_verified(own_stack, env):
    stack = own_stack(kafka=False, redis=True)
    timer = TimerProcess(TIMER_ARGS, {**env, "KAFKAREDIS_REDIS__URL": stack.redis_url})
    try:
        timer.wait_ticks(lambda ticks: sum(t["cached"] for t in ticks) >= 2, what="2 cached")
        stack.down(only="redis")
        stopped_at = len(timer.ticks)
        timer.wait_ticks(
            lambda ticks: sum(t["cache_error"] is not None for t in after(ticks, stopped_at)) >= 2,
            what="2 ticks failing on Redis",
        )
        stack.up(only="redis")
        started_at = len(timer.ticks)
        timer.wait_ticks(
            lambda ticks: sum(t["cached"] for t in after(ticks, started_at)) >= 2,
            what="2 cached ticks after Redis came back",
        )
        code = timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
    assert code == ExitStatus.OK, timer.stderr  # nothing lost: Kafka was up throughout
    ticks, summary = timer.ticks, timer.summary
    failed = [t for t in ticks if t["cache_error"] is not None]
    assert len(failed) >= 2
    assert all(f"127.0.0.1:{stack.redis_port}" in t["cache_error"] for t in failed)
    assert all(t["verified"] for t in ticks)  # the Kafka side stood
    assert summary["cache_failed"] == len(failed) == summary["failed"]
    assert any("Redis at" in reason for reason in summary["errors"])
    assert ticks[-1]["cached"] and ticks[-1]["cache_error"] is None
    assert (summary["sent"], summary["verified"], summary["lost"]) == (len(ticks), len(ticks), 0)
    # once back, the statistics are in Redis again
    client = redis.Redis.from_url(stack.redis_url)
    try:
        saved = json.loads(client.get(summary["stats_key"]))
    finally:
        client.close()
    assert saved["status"] == "stopped" and saved["cache_failed"] == len(failed)
    assert "Traceback" not in timer.stderr


def test_broker_stopped_and_restarted_outage_ticks_lost_then_verified(own_stack, env, topic):
    stack = own_stack(kafka=True, redis=False)
    timer = TimerProcess(
        TIMER_ARGS, {**env, "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": stack.bootstrap}
    )
    try:
        timer.wait_ticks(lambda ticks: sum(t["verified"] for t in ticks) >= 3, what="3 verified")
        stack.down(only="kafka")
        stopped_at = len(timer.ticks)
        timer.wait_ticks(
            lambda ticks: sum(t["status"] == "lost" for t in after(ticks, stopped_at)) >= 2,
            what="2 lost ticks while the broker is down",
        )
        stack.up(only="kafka")
        started_at = len(timer.ticks)
        timer.wait_ticks(
            lambda ticks: sum(t["verified"] for t in after(ticks, started_at)) >= 3,
            timeout=120,
            what="3 verified ticks after the restart",
        )
        code = timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
    ticks, summary = timer.ticks, timer.summary
    lost = [t for t in ticks if t["status"] == "lost"]
    verified = [t for t in ticks if t["verified"]]
    assert code == ExitStatus.FAILED, timer.stderr  # something was lost: --max-loss 0
    assert f"lost {summary['lost']} of {len(ticks)} test messages" in timer.stderr
    # every tick counted once: verified, or lost by its tick and then late or still lost
    assert [t["seq"] for t in ticks] == list(range(len(ticks)))
    assert summary["sent"] == len(ticks) == summary["verified"] + summary["late"] + summary["lost"]
    assert summary["verified"] == len(verified)
    assert summary["late"] + summary["lost"] == len(lost)
    assert summary["duplicated"] == 0
    assert len(lost) >= 2 and all(t["error"] for t in lost)
    assert sum(summary["errors"].values()) >= len(lost)
    assert ticks[-1]["verified"]
    # what the broker holds: every verified probe, each at the offset its tick reported;
    # of the ticks lost in their time, exactly those counted late
    held = canary_sequences(stack.bootstrap, topic, summary["producer_id"])
    held_seqs = {seq for _offset, seq in held}
    assert {t["seq"] for t in verified} <= held_seqs
    assert {(t["offset"], t["seq"]) for t in verified} <= set(held)
    assert len({t["seq"] for t in lost} & held_seqs) == summary["late"]
    assert "Traceback" not in timer.stderr


def test_slow_redis_ticks_time_out_counted_and_the_grid_holds(own_stack, env):
    stack = own_stack(kafka=False, redis=True)
    timer = TimerProcess(TIMER_ARGS, {**env, "KAFKAREDIS_REDIS__URL": stack.redis_url})
    client = redis.Redis.from_url(stack.redis_url)
    try:
        timer.wait_ticks(lambda ticks: sum(t["cached"] for t in ticks) >= 3, what="3 cached")
        paused_at = len(timer.ticks)
        client.execute_command("CLIENT", "PAUSE", "2000", "WRITE")
        timer.wait_ticks(
            lambda ticks: any(t["cache_error"] for t in after(ticks, paused_at)),
            what="a tick timing out on Redis",
        )
        timer.wait_ticks(
            lambda ticks: any(
                t["cached"] and t["tick"] > max(x["tick"] for x in ticks if x["cache_error"])
                for t in ticks
            ),
            what="a cached tick after the pause",
        )
        code = timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
        client.close()
    assert code == ExitStatus.OK, timer.stderr
    ticks, summary = timer.ticks, timer.summary
    slow = [t for t in ticks if t["cache_error"]]
    assert slow and all("timed out" in t["cache_error"] for t in slow)
    assert summary["cache_failed"] == len(slow)
    assert summary["lost"] == 0 and summary["verified"] == len(ticks)
    # a slow tick overran its slot: reported, and the ticks after it stay on the grid
    assert summary["overruns"] >= 1
    assert any(t["overrun_ms"] > 0 for t in slow)
    assert_on_grid(ticks)
    assert "Traceback" not in timer.stderr
