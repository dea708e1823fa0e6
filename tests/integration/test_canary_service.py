"""The canary as a service: a real `timer --metrics-port` against the stack answers
/healthz 200 while it verifies and 503 naming the partition within seconds of its
broker going away or being unreachable; a real scrape passes `promtool check metrics`
and holds every kafkaredis_canary_* name the alert rules and the dashboard use."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.conftest import free_port, wait_for
from tests.deploy_files import exposed_names, run_promtool, used_metric_names
from tests.integration.test_timer import TimerProcess

pytestmark = pytest.mark.integration

FAST = ["--interval", "0.2", "--timeout", "1"]


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""  # not listening yet


def health(port: int) -> tuple[int, dict[str, Any]]:
    status, body = get(port, "/healthz")
    return status, json.loads(body) if status in (200, 503) else {}


def wait_health(port: int, status: int, timeout: float, what: str) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def check() -> dict[str, Any] | None:
        code, body = health(port)
        seen.append(body)
        return body if code == status else None

    try:
        return wait_for(check, timeout, interval=0.1, what=what)  # type: ignore[return-value]
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last /healthz: {seen[-1:]}") from None


def test_a_verifying_canary_is_healthy_and_its_scrape_lints_and_has_every_used_name(env):
    port = free_port()
    timer = TimerProcess([*FAST, "--metrics-port", str(port)], env)
    try:
        body = wait_health(port, 200, 60, "/healthz 200")
        assert body["status"] == "ok" and body["ticks"] >= 1
        assert body["last_verified_age_s"] < 5
        timer.wait_ticks(lambda ticks: sum(t["verified"] for t in ticks) >= 3, what="3 verified")
        status, scrape = get(port, "/metrics")
        assert status == 200
        for path in ("/", "/metrics/x", "/health", "/healthz/"):
            code, page = get(port, path)
            assert code == 404, path
            assert b"kafkaredis_canary" not in page
        code = timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
    assert code == 0, timer.stderr
    text = scrape.decode()
    assert 'kafkaredis_canary_verified_total{broker="' in text
    assert "kafkaredis_canary_broker_last_success_timestamp_seconds{" in text
    lint = run_promtool("check", "metrics", stdin=text)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    exposed = exposed_names(text)
    missing = {name: where for name, where in used_metric_names().items() if name not in exposed}
    assert not missing, f"named in deploy/ but not in a real scrape: {missing}"


def test_a_canary_whose_broker_goes_away_is_503_naming_the_partition_within_seconds(own_stack, env):
    stack = own_stack(kafka=True, redis=False)
    port = free_port()
    timer = TimerProcess(
        [*FAST, "--metrics-port", str(port)],
        {**env, "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": stack.bootstrap},
    )
    try:
        wait_health(port, 200, 60, "/healthz 200 before the broker stops")
        stack.down(only="kafka")
        stopped = time.monotonic()
        body = wait_health(port, 503, 15, "/healthz 503 after the broker stopped")
        took = time.monotonic() - stopped
        timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
    assert took < 15
    assert body["status"] == "failing"
    failing = body["failing"][0]
    assert failing["topic"] == env["KAFKAREDIS_KAFKA__TOPICS"]
    assert failing["partition"] == 0 and failing["broker"] == 1
    assert failing["error"]
    assert any("partition 0 (leader broker 1): " in r for r in body["reasons"]), body


def test_a_canary_with_an_unreachable_bootstrap_is_503_with_the_error(env):
    port = free_port()
    dead = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    timer = TimerProcess(
        [*FAST, "--metrics-port", str(port)], {**env, "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": dead}
    )
    try:
        body = wait_health(port, 503, 30, "/healthz 503")
        assert body["status"] == "failing"  # 503 from the start: nothing verified
        body = wait_for(
            lambda: (b := health(port)[1]).get("failing") and b, 30, what="a failing tick"
        )
        took = time.monotonic() - started
        code, _ = health(port)
        timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
    assert code == 503
    assert took < 30
    failing = body["failing"][0]  # type: ignore[index]
    assert failing["topic"] == env["KAFKAREDIS_KAFKA__TOPICS"] and failing["error"]
    assert body["ticks"] >= 1 and body["last_verified_age_s"] is None  # type: ignore[index]
