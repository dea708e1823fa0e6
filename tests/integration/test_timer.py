"""`kafkaredis timer` against the real broker and redis-server: counts, JSON, grid, signals."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import threading
from typing import Any

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.conftest import free_port, kafkaredis_process, wait_for

pytestmark = pytest.mark.integration

SUMMARY = re.compile(
    r"timer summary: sent (\d+)  delivered (\d+)  verified (\d+)  lost (\d+)  "
    r"late (\d+)  duplicated (\d+)  failed (\d+)  cache failed (\d+)"
)
LATENCY = r"p50 [\d.]+ ms  p95 [\d.]+ ms  p99 [\d.]+ ms  max [\d.]+ ms"
PRODUCER = re.compile(r"timer: producer id (\S+),")


class TimerProcess:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc: subprocess.Popen[bytes] = kafkaredis_process(["timer", "--json", *args], env)
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            self.raw.append(text)
            with contextlib.suppress(json.JSONDecodeError):
                self.lines.append(json.loads(text))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace"))

    @property
    def ticks(self) -> list[dict[str, Any]]:
        return [line for line in list(self.lines) if line.get("type") == "tick"]

    @property
    def summary(self) -> dict[str, Any]:
        found = [line for line in self.lines if line.get("type") == "summary"]
        assert len(found) == 1, f"expected one summary line, stdout: {self.raw}"
        return found[0]

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def wait_ticks(self, condition: Any, timeout: float = 60.0, what: str = "ticks") -> None:
        def check() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the timer ended early: {self.proc.returncode}\n{self.stderr}"
                )
            return bool(condition(self.ticks))

        wait_for(check, timeout, what=what)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout)
        for thread in self._threads:
            thread.join(10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def json_lines(stdout: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary"
    assert all(line["type"] == "tick" for line in lines[:-1])
    return lines[:-1], lines[-1]


def test_ten_ticks_all_verified_with_latency(cli, redis_client, prefix, topic):
    result = cli("timer", "--interval", "0.2", "--count", "10")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    ticks = [line for line in lines if line.startswith("tick ")]
    assert len(ticks) == 10
    assert all(" verified  round trip " in line for line in ticks)
    summary = next(line for line in lines if line.startswith("timer summary:"))
    assert SUMMARY.fullmatch(summary)
    assert SUMMARY.fullmatch(summary).groups() == ("10", "10", "10", "0", "0", "0", "0", "0")
    assert any(re.fullmatch(rf"round trip  {LATENCY}", line) for line in lines)
    assert any(re.fullmatch(rf"delivery    {LATENCY}", line) for line in lines)
    assert "Traceback" not in result.stderr

    # the run's statistics stay in Redis under the prefix, for inspect-cache and others
    producer_id = PRODUCER.search(result.stderr).group(1)
    saved = json.loads(redis_client.get(f"{prefix}:timer:{producer_id}"))
    assert (saved["status"], saved["sent"], saved["verified"]) == ("finished", 10, 10)
    assert saved["topics"] == [topic]
    assert redis_client.ttl(f"{prefix}:timer:{producer_id}") > 0
    inspect = cli("inspect-cache", "--json")
    assert inspect.exit_code == 0, inspect.stderr
    assert json.loads(inspect.stdout)["by_kind"]["timer"] == 1


def test_json_lines_add_up_to_the_summary(cli, topic):
    result = cli("timer", "--interval", "0.2", "--count", "10", "--json")
    assert result.exit_code == 0, result.stderr
    ticks, summary = json_lines(result.stdout)
    assert len(ticks) == summary["sent"] == summary["ticks"] == 10
    assert summary["verified"] == sum(t["verified"] for t in ticks) == 10
    assert summary["delivered"] == sum(t["delivered"] for t in ticks)
    assert summary["lost"] == sum(t["status"] == "lost" for t in ticks) == 0
    assert summary["duplicated"] == 0 and summary["loss_ok"] is True
    assert [t["seq"] for t in ticks] == list(range(10))
    assert [t["offset"] for t in ticks] == list(range(10))  # the test's own topic
    assert {t["topic"] for t in ticks} == {topic}
    for name in ("round_trip", "delivery"):
        latency = summary["latency_ms"][name]
        assert latency["count"] == 10
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert max(t["round_trip_ms"] for t in ticks) == summary["latency_ms"]["round_trip"]["max"]
    assert summary["per_topic"][topic]["verified"] == 10


def test_ticks_keep_to_the_grid(cli):
    interval_ms = 100
    result = cli("timer", "--interval", "0.1", "--count", "20", "--json")
    assert result.exit_code == 0, result.stderr
    ticks, summary = json_lines(result.stdout)
    timing = [(t["slot"], t["started_at"] - t["scheduled_at"], t["duration_ms"]) for t in ticks]
    assert len(ticks) == 20
    slots = [t["slot"] for t in ticks]
    assert slots == sorted(set(slots))
    first = ticks[0]
    for tick in ticks:
        expected = first["scheduled_at"] + tick["slot"] * interval_ms
        assert abs(tick["scheduled_at"] - expected) <= 1
        assert tick["started_at"] >= tick["scheduled_at"] - 2, timing  # never early
    # a slot is skipped only when a tick overran it (a loaded machine); it is reported
    assert summary["skipped_slots"] == slots[-1] - 19 <= 2, timing
    # 20 ticks at 0.1 s take 2 s, by the ticks' own timestamps: no drift
    span_s = (ticks[-1]["started_at"] - first["started_at"] + interval_ms) / 1000
    assert span_s == pytest.approx((slots[-1] + 1) * interval_ms / 1000, abs=0.1), timing
    if summary["skipped_slots"] == 0:
        assert span_s == pytest.approx(2.0, abs=0.1), timing


def test_topics_rotate_with_a_sequence_each(cli, topic):
    other = f"{topic}-b"
    result = cli(
        "timer", "--topic", topic, "--topic", other, "--interval", "0.2", "--count", "4", "--json"
    )
    assert result.exit_code == 0, result.stderr
    ticks, summary = json_lines(result.stdout)
    assert [(t["topic"], t["seq"]) for t in ticks] == [
        (topic, 0),
        (other, 0),
        (topic, 1),
        (other, 1),
    ]
    assert summary["per_topic"][topic]["verified"] == summary["per_topic"][other]["verified"] == 2


def test_unreachable_broker_every_tick_fails_and_the_run_ends_on_count(cli):
    port = free_port()
    result = cli(
        "-b",
        f"127.0.0.1:{port}",
        "timer",
        "--interval",
        "0.2",
        "--count",
        "3",
        "--timeout",
        "0.5",
    )
    assert result.exit_code == ExitStatus.FAILED, result.stderr
    lines = result.stdout.splitlines()
    ticks = [line for line in lines if line.startswith("tick ")]
    assert len(ticks) == 3
    assert all("LOST: " in line and f"127.0.0.1:{port}" in line for line in ticks)
    summary = next(line for line in lines if line.startswith("timer summary:"))
    assert SUMMARY.fullmatch(summary).groups() == ("3", "0", "0", "3", "0", "0", "3", "0")
    assert any(line.startswith("  error (x3): Kafka at 127.0.0.1:") for line in lines)
    errors = [line for line in result.stderr.splitlines() if line.startswith("kafkaredis: error:")]
    assert errors == ["kafkaredis: error: lost 3 of 3 test messages (--max-loss 0)"]
    assert "Traceback" not in result.stderr


def test_max_loss_lets_a_run_with_loss_pass(cli):
    result = cli(
        "-b",
        f"127.0.0.1:{free_port()}",
        "timer",
        "--interval",
        "0.1",
        "--count",
        "2",
        "--timeout",
        "0.3",
        "--max-loss",
        "100%",
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "lost 2" in result.stdout


def test_sigterm_stops_after_the_tick_in_flight_with_a_summary(env, redis_client, prefix):
    timer = TimerProcess(["--interval", "0.2"], env)
    try:
        timer.wait_ticks(lambda ticks: len(ticks) >= 3, what="3 ticks")
        producer_id = PRODUCER.search(timer.stderr).group(1)
        # another terminal sees the running canary in Redis
        saved = json.loads(redis_client.get(f"{prefix}:timer:{producer_id}"))
        assert saved["status"] == "running" and saved["verified"] >= 2
        code = timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
    assert code == ExitStatus.OK, timer.stderr
    summary = timer.summary
    assert summary["stopped_by"] == "SIGTERM" and summary["interrupted"] is True
    assert summary["sent"] == len(timer.ticks) == summary["verified"]
    assert summary["lost"] == 0
    assert "Traceback" not in timer.stderr
    saved = json.loads(redis_client.get(f"{prefix}:timer:{producer_id}"))
    assert (saved["status"], saved["sent"]) == ("stopped", summary["sent"])


def test_ctrl_c_before_count_is_done_exits_interrupted(env):
    timer = TimerProcess(["--interval", "0.2", "--count", "1000"], env)
    try:
        timer.wait_ticks(lambda ticks: len(ticks) >= 2, what="2 ticks")
        code = timer.stop(signal.SIGINT)
    finally:
        timer.kill()
    assert code == ExitStatus.INTERRUPTED, timer.stderr
    summary = timer.summary
    assert summary["stopped_by"] == "SIGINT" and summary["lost"] == 0
    assert summary["sent"] == len(timer.ticks) < 1000
    assert f"stopped by SIGINT after {summary['ticks']} of 1000 ticks" in timer.stderr
    assert "Traceback" not in timer.stderr


def test_a_metrics_port_in_use_is_a_one_line_usage_error(cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("timer", "--count", "1", "--metrics-port", str(port))
    assert result.exit_code == ExitStatus.USAGE, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("kafkaredis: error:")]
    assert errors == [
        f"kafkaredis: error: --metrics-port {port}: cannot listen on 127.0.0.1:{port} "
        "(Address already in use)"
    ]
    assert "Traceback" not in result.stderr
