"""Faults: brokers and redis-servers that die, consumers killed, producers told to stop.

Each case runs on services of its own (the `own_stack` fixture, or this module's
`calm_stack` for the cases that do not damage it), drives a real `python -m
kafkaredis_cli` process where signals are involved, and checks the outcome against
what the broker and Redis really hold. Waits are conditions with deadlines.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest
import redis
from confluent_kafka import Consumer, KafkaException, TopicPartition
from pydantic import SecretStr

from kafkaredis_cli.adapters.redis import RedisStore
from kafkaredis_cli.domain.messages import ID_HEADER
from kafkaredis_cli.errors import ExitStatus
from kafkaredis_cli.handlers.consume import FETCH_MAX
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.settings import RedisSettings
from tests.conftest import OwnStack, kafkaredis_process, running_stack, wait_for
from tests.topics import create_topic, read_topic, topic_count

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Position = tuple[int, int]  # (partition, offset)


# -- reading what the broker and Redis hold ----------------------------------------------------
def readable(bootstrap: str, topic: str) -> bool:
    """The broker answers for every partition of the topic (after a restart it takes a while)."""
    try:
        topic_count(bootstrap, topic, timeout=1.0)
    except (KafkaException, AssertionError):
        return False
    return True


def topic_messages(
    bootstrap: str, topic: str, timeout: float = 30.0
) -> dict[Position, tuple[bytes, str | None]]:
    """Every message of the topic, by (partition, offset): its value and kafkaredis id."""
    found: dict[Position, tuple[bytes, str | None]] = {}
    for msg in read_topic(bootstrap, topic, timeout):
        ids = [v.decode() for k, v in msg.headers() or [] if k == ID_HEADER]
        found[(msg.partition(), msg.offset())] = (msg.value(), ids[0] if ids else None)
    return found


def committed_total(bootstrap: str, group: str, topic: str) -> int:
    """Sum of the group's committed offsets over the topic's partitions (0 where none)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        tps = [TopicPartition(topic, p) for p in meta.partitions]
        return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10))
    finally:
        consumer.close()


def records(redis_url: str, prefix: str) -> list[dict[str, Any]]:
    """Every message record kafkaredis keeps under `prefix`: id, partition, offset, status.

    Read with the project's own store, which knows both record layouts (a hash for a
    single message, a compact string for a batch's).
    """
    settings = RedisSettings(url=SecretStr(redis_url), key_prefix=prefix)
    keys = KeySpace(prefix)
    with closing(RedisStore(settings, keys)) as store:
        return [
            {"id": entry.key.rsplit(":", 1)[-1], **(entry.value or {})}
            for entry in store.scan(pattern="msg:*")
        ]


def count_records(client: redis.Redis, prefix: str) -> int:
    return sum(1 for _ in client.scan_iter(match=f"{prefix}:msg:*", count=1000))


# -- driving the real process ---------------------------------------------------------------------
def stack_env(env: dict[str, str], bootstrap: str, redis_url: str) -> dict[str, str]:
    return {
        **env,
        "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "KAFKAREDIS_REDIS__URL": redis_url,
    }


def feed(proc: subprocess.Popen[bytes], lines: list[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("".join(line + "\n" for line in lines).encode())
    proc.stdin.flush()


def finish(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, str, str]:
    """Read stdout and stderr to their end (stdin left as it is), then the exit status."""
    assert proc.stdout is not None and proc.stderr is not None
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    selector = selectors.DefaultSelector()
    for fd in chunks:
        selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    open_fds = set(chunks)
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            proc.wait()
            raise AssertionError(f"the process did not end within {timeout}s")
        for key, _ in selector.select(remaining):
            data = os.read(key.fd, 65536)
            if data:
                chunks[key.fd].append(data)
            else:
                selector.unregister(key.fd)
                open_fds.discard(key.fd)
    selector.close()
    proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    out = b"".join(chunks[proc.stdout.fileno()]).decode()
    err = b"".join(chunks[proc.stderr.fileno()]).decode()
    assert "Traceback" not in out + err, err
    return proc.returncode, out, err


class LineReader:
    """Lines from a process's stdout, each read with a deadline (never blocks forever)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self._buffer = b""
        self.eof = False

    def read(self, count: int, timeout: float) -> list[bytes]:
        lines: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(lines) < count and not self.eof:
            while b"\n" in self._buffer and len(lines) < count:
                line, self._buffer = self._buffer.split(b"\n", 1)
                lines.append(line)
            if len(lines) >= count:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"only {len(lines)} of {count} lines within {timeout}s")
            if self._selector.select(remaining):
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    self.eof = True
                self._buffer += chunk
        return lines

    def rest(self, timeout: float) -> list[bytes]:
        """Every whole line up to end of file (the process must be ending). A process
        killed while blocked on its full pipe can leave half a line (its buffer goes out
        in pipe-sized pieces): that piece is not a line and is not returned."""
        lines = self.read(10**9, timeout) if not self.eof else []
        whole = [ln for ln in self._buffer.split(b"\n")[:-1] if ln]
        self._buffer = b""
        return lines + whole


@pytest.fixture
def reaper() -> Iterator[Callable[[subprocess.Popen[bytes]], subprocess.Popen[bytes]]]:
    """Remember the processes a test starts; kill whatever is left at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def keep(proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        started.append(proc)
        return proc

    yield keep
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def calm_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStack]:
    """A broker and redis-server shared by the cases that leave them healthy."""
    with running_stack(tmp_path_factory.mktemp("calm-stack")) as stack:
        yield stack


# -- fault 2: the broker goes down during a batch ----------------------------------------------
def test_broker_down_during_batch_produce(
    own_stack: Callable[..., OwnStack],
    env: dict[str, str],
    topic: str,
    prefix: str,
    reaper: Any,
) -> None:
    stack = own_stack()
    create_topic(stack.bootstrap, topic)
    proc = reaper(
        kafkaredis_process(
            # Delivery gives up after 4 s (-X wins over the batch's own 30 s).
            ["-X", "message.timeout.ms=4000", "produce", "--file", "-", "--json", "--no-verify"],
            stack_env(env, stack.bootstrap, stack.redis_url),
            stdin=subprocess.PIPE,
        )
    )
    feed(proc, [f"before-{i}" for i in range(50)])
    wait_for(lambda: topic_count(stack.bootstrap, topic) == 50, 30, what="50 messages in")
    stack.down(only="kafka", kill=True)
    feed(proc, [f"after-{i}" for i in range(50)])
    assert proc.stdin is not None
    proc.stdin.close()
    status, out, err = finish(proc, timeout=90)

    assert status == ExitStatus.UNKNOWN_OUTCOME, err
    summary = json.loads(out)
    # Every message is delivered, failed or of unknown outcome (its delivery timed out:
    # librdkafka cannot say whether the broker has it), and all are counted.
    assert summary["read"] == 100
    assert summary["delivered"] + summary["failed"] + summary["unknown_outcome"] == 100
    assert summary["unknown_outcome"] >= 50  # at least everything sent while it was down
    assert f"{summary['unknown_outcome']} of 100 messages with an unknown outcome" in err
    assert any("_MSG_TIMED_OUT" in e for e in summary["errors"]), summary["errors"]

    # Nothing claimed delivered that the broker does not have: every cached record
    # (one per delivered message) is on the broker at its partition and offset.
    stack.up(only="kafka")
    wait_for(lambda: readable(stack.bootstrap, topic), 60, what="the restarted broker to lead")
    held = topic_messages(stack.bootstrap, topic)
    cached = records(stack.redis_url, prefix)
    assert len(cached) == summary["delivered"] == summary["cached"]
    for record in cached:
        _value, held_id = held[(record["partition"], record["offset"])]
        assert held_id == record["id"]
    assert not [v for v, _id in held.values() if v.startswith(b"after-")]


# -- fault 3: Redis goes down during a batch -----------------------------------------------------
def test_redis_down_during_batch_produce(
    own_stack: Callable[..., OwnStack],
    services: Any,
    env: dict[str, str],
    topic: str,
    prefix: str,
    reaper: Any,
) -> None:
    stack = own_stack(kafka=False, redis=True)  # the shared broker, a redis-server of its own
    client = redis.Redis.from_url(stack.redis_url)
    proc = reaper(
        kafkaredis_process(
            ["produce", "--file", "-", "--json"],
            stack_env(env, services.bootstrap, stack.redis_url),
            stdin=subprocess.PIPE,
        )
    )
    # Feed until a first chunk of records is in Redis (the batch caches in chunks).
    fed = 0
    while not client.exists(f"{prefix}:latest:{topic}"):
        assert fed < 9000, "no chunk of records reached Redis"
        feed(proc, [f"m-{fed + i}" for i in range(1000)])
        fed += 1000
        try:
            wait_for(lambda: client.exists(f"{prefix}:latest:{topic}"), 1.5, what="a chunk")
        except AssertionError:
            continue
    cached_before = count_records(client, prefix)
    client.close()
    stack.down(only="redis")
    feed(proc, [f"m-{fed + i}" for i in range(1000)])
    fed += 1000
    assert proc.stdin is not None
    proc.stdin.close()
    status, out, err = finish(proc, timeout=120)

    assert status == ExitStatus.REDIS, err
    summary = json.loads(out)
    # The Kafka deliveries stand and are reported ...
    assert summary["read"] == summary["delivered"] == fed
    assert summary["failed"] == 0
    assert summary["verified"] == fed
    # ... and the records that could not be cached are counted and reported.
    assert summary["cached"] == cached_before > 0
    assert summary["cache_failed"] == fed - cached_before > 0
    assert f"{fed - cached_before} delivered messages could not be cached" in err
    assert any(e.startswith("cache:") and "unreachable" in e for e in summary["errors"])
    assert topic_count(services.bootstrap, topic) == fed


# -- fault 4: a consumer in a group is SIGKILLed midway and restarted ----------------------------
def test_consume_killed_midway_and_restarted_skips_nothing(
    calm_stack: OwnStack, env: dict[str, str], topic: str, prefix: str, reaper: Any, tmp_path: Any
) -> None:
    stack = calm_stack
    # Enough that the consumer is killed mid-stream: after it handled (and committed) at
    # least one fetch of up to FETCH_MAX records, long before it could print them all.
    total = 2 * FETCH_MAX + 1000
    create_topic(stack.bootstrap, topic, partitions=3)
    lines = tmp_path / "in.txt"
    lines.write_text("".join(f"k{i}:v{i}\n" for i in range(total)))
    run_env = stack_env(env, stack.bootstrap, stack.redis_url)
    produced = reaper(
        kafkaredis_process(
            ["produce", "--file", str(lines), "-K", ":", "--no-verify", "--json"], run_env
        )
    )
    status, out, err = finish(produced, timeout=120)
    assert status == 0, err
    assert json.loads(out)["delivered"] == total

    group = f"g-{uuid.uuid4().hex[:8]}"
    # A short session, so the restarted member does not wait 45 s for the dead one.
    args = ["-X", "session.timeout.ms=6000", "consume", "--group", group, "--format", "json"]
    first = reaper(kafkaredis_process(args, run_env))
    reader = LineReader(first)
    # Read slowly: the consumer blocks on its full stdout pipe mid-batch. A line past the
    # first FETCH_MAX belongs to a later fetch, printed only after the first was committed.
    seen = reader.read(FETCH_MAX + 200, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    seen += reader.rest(timeout=10)
    committed = committed_total(stack.bootstrap, group, topic)
    assert 0 < committed < total  # killed midway: some committed, not all

    second = reaper(kafkaredis_process([*args, "--exit-at-end"], run_env))
    status, out, err = finish(second, timeout=120)
    assert status == 0, err
    again = out.splitlines()
    # The restart resumes exactly at the committed offsets ...
    assert len(again) == total - committed
    values = {json.loads(line)["value"] for line in [*seen, *again] if line.strip()}
    # ... and every message is seen at least once: none skipped.
    assert values == {f"v{i}" for i in range(total)}
    assert committed_total(stack.bootstrap, group, topic) == total
    # Each Redis record was updated (before its offset was committed).
    kept = records(stack.redis_url, prefix)
    assert len(kept) == total
    assert {r["status"] for r in kept} == {"consumed"}


# -- fault 5: SIGTERM during a batch --------------------------------------------------------------
def batch_produce_from_stdin(
    stack: OwnStack, env: dict[str, str], topic: str
) -> subprocess.Popen[bytes]:
    """A real `produce --file - --json` process on a fresh topic, fed through its stdin."""
    create_topic(stack.bootstrap, topic)
    return kafkaredis_process(
        ["produce", "--file", "-", "--json"],
        stack_env(env, stack.bootstrap, stack.redis_url),
        stdin=subprocess.PIPE,
    )


def test_sigterm_while_waiting_for_input_flushes_and_reports(
    calm_stack: OwnStack, env: dict[str, str], topic: str, prefix: str, reaper: Any
) -> None:
    stack = calm_stack
    proc = reaper(batch_produce_from_stdin(stack, env, topic))
    feed(proc, [f"m-{i}" for i in range(500)])
    wait_for(lambda: topic_count(stack.bootstrap, topic) == 500, 30, what="500 messages in")
    proc.send_signal(signal.SIGTERM)  # stdin stays open: the process waits for more input
    status, out, err = finish(proc, timeout=60)

    assert status == ExitStatus.TERMINATED, err
    assert "kafkaredis: error: interrupted" in err
    summary = json.loads(out)
    assert summary["interrupted"] is True
    assert summary["read"] == summary["delivered"] == summary["cached"] == 500
    assert summary["failed"] == 0
    client = redis.Redis.from_url(stack.redis_url)
    try:
        assert count_records(client, prefix) == 500
    finally:
        client.close()


def test_sigterm_mid_stream_flushes_every_message_read(
    calm_stack: OwnStack, env: dict[str, str], topic: str, prefix: str, reaper: Any
) -> None:
    stack = calm_stack
    proc = reaper(batch_produce_from_stdin(stack, env, topic))
    writing = threading.Event()
    writing.set()

    def writer() -> None:  # input that never ends: SIGTERM arrives mid-stream
        n = 0
        try:
            while writing.is_set():
                feed(proc, [f"m-{n + i:07d}" for i in range(200)])
                n += 200
        except OSError:  # BrokenPipeError once the process is gone
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_for(lambda: topic_count(stack.bootstrap, topic) >= 2000, 30, what="2000 in")
        proc.send_signal(signal.SIGTERM)  # messages are being produced and in flight
        status, out, err = finish(proc, timeout=60)
    finally:
        writing.clear()
        thread.join(timeout=10)

    assert status == ExitStatus.TERMINATED, err
    assert "interrupted" in err
    summary = json.loads(out)
    assert summary["interrupted"] is True
    # Every message read was flushed: delivered, cached, and on the broker exactly once,
    # in input order, with nothing beyond what was counted.
    read = summary["read"]
    assert read >= 2000
    assert summary["delivered"] == summary["cached"] == read
    assert summary["failed"] == summary["cache_failed"] == 0
    held = topic_messages(stack.bootstrap, topic)
    assert [held[(0, o)][0] for o in range(len(held))] == [
        f"m-{i:07d}".encode() for i in range(read)
    ]
    client = redis.Redis.from_url(stack.redis_url)
    try:
        assert count_records(client, prefix) == read
    finally:
        client.close()
