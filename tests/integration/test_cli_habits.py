"""Habits of kcat users: lines piped into `produce`, consume's --json, contradictions
refused, and signals: 130 for Ctrl-C, 143 for SIGTERM, a second signal forces the exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.conftest import CliResult, OwnStack, Services, kafkaredis_process, ok, wait_for
from tests.integration.test_faults import LineReader, feed, finish, stack_env
from tests.topics import create_topic, read_topic

Cli = Callable[..., CliResult]


def test_lines_piped_into_produce_are_a_batch(
    services: Services, env: dict[str, str], topic: str
) -> None:
    create_topic(services.bootstrap, topic)
    proc = kafkaredis_process(["produce", "--json"], env, stdin=subprocess.PIPE)
    try:
        feed(proc, ["one", "two", "three"])
        assert proc.stdin is not None
        proc.stdin.close()
        status, out, err = finish(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert status == 0, err
    summary = json.loads(out)
    assert summary["read"] == summary["delivered"] == summary["cached"] == 3
    assert [m.value() for m in read_topic(services.bootstrap, topic)] == [
        b"one",
        b"two",
        b"three",
    ]


def test_consume_json_is_format_json(cli: Cli) -> None:
    ok(cli("produce", "hello", "-k", "k1"))
    args = ("consume", "--from", "beginning", "-e", "--no-group")
    as_json = ok(cli(*args, "--json")).stdout
    as_format = ok(cli(*args, "--format", "json")).stdout
    assert [json.loads(line)["value"] for line in as_json.splitlines()] == ["hello"]
    assert as_json == as_format


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["consume", "--group", "g", "--no-group"], "--group and --no-group"),
        (["consume", "--json", "--format", "raw"], "--json and --format raw"),
    ],
)
def test_contradictory_options_are_usage_errors(cli: Cli, args: list[str], needle: str) -> None:
    result = cli(*args)
    assert result.exit_code == ExitStatus.USAGE, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_timer_count_is_dash_c(cli: Cli) -> None:
    result = ok(cli("timer", "-c", "2", "--interval", "0.1", "--json"))
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["sent"] == 2


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


def test_cache_commands_never_load_confluent_kafka(cli: Cli, env: dict[str, str]) -> None:
    produced = json.loads(ok(cli("produce", "hello", "--json")).stdout)
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('LOADED' if 'confluent_kafka' in sys.modules"
        " else 'NOT LOADED', file=sys.stderr))\n"
        "sys.argv = ['kafkaredis', *sys.argv[1:]]\n"
        "from kafkaredis_cli.cli.app import main\n"
        "main()\n"
    )
    for args in (["cache", "get", produced["id"]], ["cache", "list"], ["inspect-cache"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip().endswith("NOT LOADED"), (args, result.stderr)
    assert (
        produced["id"]
        in subprocess.run(
            [sys.executable, "-c", probe, "cache", "get", produced["id"]],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        ).stdout
    )
