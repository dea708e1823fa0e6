"""scripts/stack: up answers, down leaves nothing of its own, a second up reuses the jars."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import OwnStack, free_port, run_stack

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
