"""scripts/stack: up answers, down leaves nothing of its own, a second up reuses the jars;
scripts/quickstart does the README's round trip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from kafkaredis_cli.domain.messages import ID_HEADER
from tests.conftest import ROOT, OwnStack, free_port, run_stack
from tests.topics import read_topic

HELLO = b"hello from kafkaredis"

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _pid(path: Path) -> int:
    return int(path.read_text().split()[0])


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie waiting for its parent is no longer running


def test_up_down_leaves_nothing_and_reuses_cached_jars(tmp_path: Path) -> None:
    stack = OwnStack(dir=tmp_path / "s", kafka_port=free_port(pair=True), redis_port=free_port())
    args = [
        "--dir",
        str(stack.dir),
        "--kafka-port",
        str(stack.kafka_port),
        "--redis-port",
        str(stack.redis_port),
    ]
    first = run_stack("up", *args)
    try:
        assert first.returncode == 0, first.stderr
        status = run_stack("status", *args)
        assert status.returncode == 0, status.stdout + status.stderr
        pids = [_pid(stack.dir / "kafka.pid"), _pid(stack.dir / "redis.pid")]
        assert all(_running(p) for p in pids)
        env = run_stack("env", *args)
        assert f"KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:{stack.kafka_port}" in env.stdout
        assert f"redis://127.0.0.1:{stack.redis_port}" in env.stdout
    finally:
        down = run_stack("down", *args)
    assert down.returncode == 0, down.stderr
    assert not any(_running(p) for p in pids)
    assert not (stack.dir / "kafka.pid").exists()
    assert run_stack("status", *args).returncode != 0

    second = run_stack("up", *args)
    try:
        assert second.returncode == 0, second.stderr
        output = second.stdout + second.stderr
        assert "using cached Kafka jars" in output
        assert "Downloading" not in output and "mvn" not in output.lower().split("using")[0]
    finally:
        assert run_stack("down", "--wipe", *args).returncode == 0


def test_status_fails_when_nothing_runs(tmp_path: Path) -> None:
    result = run_stack(
        "status",
        "--dir",
        str(tmp_path / "none"),
        "--kafka-port",
        str(free_port(pair=True)),
        "--redis-port",
        str(free_port()),
    )
    assert result.returncode == 1
    assert "kafka: not running" in result.stdout
    assert "redis: not running" in result.stdout


def test_quickstart_runs_the_readme_round_trip(tmp_path: Path) -> None:
    """The README's first command, as a newcomer runs it (on ports and a state dir of
    this test's own): it exits 0, and what it says it did is on the broker and in Redis."""
    kafka_port, redis_port = free_port(pair=True), free_port()
    env = {
        **os.environ,
        "KAFKAREDIS_STACK_DIR": str(tmp_path / "qs"),
        "KAFKAREDIS_STACK_KAFKA_PORT": str(kafka_port),
        "KAFKAREDIS_STACK_CONTROLLER_PORT": str(kafka_port + 1),
        "KAFKAREDIS_STACK_REDIS_PORT": str(redis_port),
    }
    for name in [n for n in env if n.startswith("KAFKAREDIS_") and "STACK" not in n]:
        del env[name]  # the newcomer's shell: no settings of the test session
    try:
        done = subprocess.run(
            [str(ROOT / "scripts" / "quickstart")],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "timer summary: sent 5" in done.stdout and "verified 5" in done.stdout
        bootstrap = f"127.0.0.1:{kafka_port}"
        hello = [
            m for m in read_topic(bootstrap, "quickstart", 30) if m.value() == HELLO
        ]  # then the timer's 5 probes
        assert len(hello) == 1 and hello[0].key() == b"greeting"
        (message_id,) = [v.decode() for k, v in hello[0].headers() or [] if k == ID_HEADER]
        assert message_id in done.stdout  # produce and cache get showed it
        record = redis.Redis(port=redis_port).get(f"kafkaredis:msg:{message_id}")
        assert record is not None and record.endswith(b"greeting" + HELLO)
        assert record.startswith(b"consumed ")  # the quickstart's consume marked it
    finally:
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "stack"), "down", "--wipe"],
            env=env,
            capture_output=True,
            timeout=120,
        )
