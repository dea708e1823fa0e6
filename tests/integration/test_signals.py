"""Signals: a bounded read cut short exits 128 + the signal (130 Ctrl-C, 143 SIGTERM); a
second signal forces a stuck batch out with its summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.conftest import CliResult, OwnStack, kafkaredis_process, ok, wait_for
from tests.integration.test_faults import LineReader, feed, finish, stack_env
from tests.topics import create_topic, read_topic

Cli = Callable[..., CliResult]


@pytest.mark.parametrize(
    ("sig", "status"),
    [(signal.SIGINT, ExitStatus.INTERRUPTED), (signal.SIGTERM, ExitStatus.TERMINATED)],
)
def test_a_bounded_consume_cut_short_exits_128_plus_the_signal(
    cli: Cli, env: dict[str, str], sig: int, status: int
) -> None:
    for i in range(3):
        ok(cli("produce", f"m{i}", "--no-verify"))
    proc = kafkaredis_process(
        ["consume", "--from", "beginning", "--no-group", "--count", "100", "-f", "raw"], env
    )
    try:
        lines = LineReader(proc).read(3, timeout=60)
        assert lines == [b"m0", b"m1", b"m2"]
        proc.send_signal(sig)
        code, _out, err = finish(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == status, err
    assert "consumed 3 message(s)" in err
    assert "kafkaredis: error: interrupted before the end of the read" in err


@pytest.mark.slow
def test_second_sigterm_forces_a_stuck_batch_out(
    own_stack: Callable[..., OwnStack], env: dict[str, str], topic: str
) -> None:
    stack = own_stack(redis=True)
    create_topic(stack.bootstrap, topic)
    run_env = stack_env(env, stack.bootstrap, stack.redis_url)
    proc = kafkaredis_process(
        ["produce", "--json", "--timeout", "120"], run_env, stdin=subprocess.PIPE
    )
    broker = int(Path(stack.dir, "kafka.pid").read_text().split()[0])
    try:
        feed(proc, [f"a{i}" for i in range(50)])
        wait_for(lambda: len(read_topic(stack.bootstrap, topic, 5)) == 50, 60, what="50 in")
        os.kill(broker, signal.SIGSTOP)  # deliveries now hang until the 120 s timeout
        # More than a pipe holds (64 KiB): when this returns, the process has read (and
        # sent into the paused broker) thousands of them.
        feed(proc, [f"b{i:09d}" for i in range(20_000)])
        proc.send_signal(signal.SIGTERM)  # first: stop reading, wait for what is in flight
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.0)  # still waiting for the paused broker
        proc.send_signal(signal.SIGTERM)  # second: leave now
        code, out, err = finish(proc, timeout=30)
    finally:
        os.kill(broker, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert code == ExitStatus.TERMINATED, err
    assert "kafkaredis: error: stopped at once by a second SIGTERM" in err
    assert "still undelivered at close: unknown outcome" in err
    # The summary still comes, and adds up: what was in flight is of unknown outcome.
    summary = json.loads(out)
    assert summary["interrupted"] is True and summary["read"] >= 50
    assert summary["delivered"] >= 50 and summary["unknown_outcome"] > 0
    outcomes = ("delivered", "failed", "unknown_outcome", "not_sent")
    assert sum(summary[k] for k in outcomes) == summary["read"]
