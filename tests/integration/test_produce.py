"""produce against the real broker and redis-server: single messages and a 10,000-line batch.

Each test has its own topic and key prefix. What the CLI reports is checked against
what really is on the broker (read with a plain confluent-kafka consumer) and in Redis
(read with a plain redis-py client).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from contextlib import closing
from typing import Any

import pytest

from kafkaredis_cli.domain.messages import ID_HEADER, SENT_AT_HEADER
from kafkaredis_cli.domain.records import MessageRecord
from tests.conftest import CliResult, Services, ok
from tests.topics import read_topic

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
BINARY = b"\xff\xfe\x00\x80 not utf-8 \xc3\x28"


def stored_record(message_id: str) -> MessageRecord:
    """The record as the store reads it back (whatever form it is kept in)."""
    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.keys import KeySpace
    from kafkaredis_cli.settings import load_settings

    settings = load_settings()
    with closing(RedisStore(settings.redis, KeySpace(settings.redis.key_prefix))) as store:
        entry = store.get(message_id)
    assert entry is not None and entry.record is not None, f"no record of {message_id}"
    return entry.record


def raw_value(redis_client: Any, key: str) -> bytes:
    """Every byte Redis holds under `key` (a hash's field values, or a string)."""
    if redis_client.type(key) == b"hash":
        return b"".join(redis_client.hvals(key))
    value: bytes = redis_client.get(key)
    return value


def headers_of(msg: Any) -> dict[str, bytes | None]:
    return dict(msg.headers() or [])


def test_single_produce_round_trip_text(
    cli: Cli, services: Services, topic: str, prefix: str, redis_client: Any
) -> None:
    result = ok(cli("produce", "hello kafkaredis", "-k", "order-42", "-H", "source=shop"))
    lines = result.stdout.splitlines()
    assert lines[0] == f"delivered  {topic} partition 0 offset 0"
    message_id = lines[1].split()[-1]
    assert lines[3] == f"cached     {prefix}:msg:{message_id}"
    assert lines[4].startswith("verified   read back in ") and lines[4].endswith(" ms")

    [msg] = read_topic(services.bootstrap, topic)
    assert (msg.key(), msg.value()) == (b"order-42", b"hello kafkaredis")
    assert headers_of(msg)["source"] == b"shop"
    assert headers_of(msg)[ID_HEADER] == message_id.encode()

    # One record format: a single message is stored as a batch's are, one string.
    stored = MessageRecord.from_blob(redis_client.get(f"{prefix}:msg:{message_id}"))
    assert stored.status == "verified"
    assert stored.value == b"hello kafkaredis" and stored.key == b"order-42"
    assert stored.offset == 0 and stored.topic == topic
    assert stored.consumed_at_ms is not None and stored.delivered_at_ms is not None
    assert stored.consumed_at_ms >= stored.delivered_at_ms >= stored.sent_at_ms
    assert stored.latency_ms is not None and stored.latency_ms >= 0
    assert 3500 < redis_client.ttl(f"{prefix}:msg:{message_id}") <= 3600
    assert redis_client.get(f"{prefix}:latest:{topic}") == message_id.encode()


def test_single_produce_key_headers_and_binary_value_through_json_input(
    cli: Cli, services: Services, topic: str, prefix: str, redis_client: Any
) -> None:
    """The CLI takes str arguments: a non-UTF-8 value goes in as base64 JSON."""
    line = json.dumps(
        {
            "key": "k-bin",
            "value": base64.b64encode(BINARY).decode(),
            "encoding": {"value": "base64"},
            "headers": [
                {"name": "trace", "value": "abc"},
                {
                    "name": "raw",
                    "value": base64.b64encode(b"\x00\xff").decode(),
                    "encoding": "base64",
                },
            ],
        }
    )
    summary = json.loads(
        ok(cli("produce", "--file", "-", "--input-format", "json", "--json", input=line)).stdout
    )
    assert (summary["delivered"], summary["cached"], summary["verified"]) == (1, 1, 1)

    [msg] = read_topic(services.bootstrap, topic)
    assert msg.value() == BINARY and msg.key() == b"k-bin"
    assert headers_of(msg)["raw"] == b"\x00\xff" and headers_of(msg)["trace"] == b"abc"
    message_id = headers_of(msg)[ID_HEADER].decode()

    record_in_redis = stored_record(message_id)
    assert record_in_redis.value == BINARY  # bytes in Redis, unchanged
    assert record_in_redis.key == b"k-bin"
    assert record_in_redis.headers == (("trace", b"abc"), ("raw", b"\x00\xff"))
    assert record_in_redis.status.value == "verified"
    assert BINARY in raw_value(redis_client, f"{prefix}:msg:{message_id}")

    shown = json.loads(ok(cli("cache", "get", message_id, "--json")).stdout)
    record = shown["record"]
    assert base64.b64decode(record["value"]) == BINARY
    assert record["encoding"] == {"value": "base64"}
    assert record["key"] == "k-bin" and record["status"] == "verified"
    assert record["headers"] == [
        {"name": "trace", "value": "abc"},
        {"name": "raw", "value": "AP8=", "encoding": "base64"},
    ]
    assert (record["topic"], record["partition"], record["offset"]) == (topic, 0, msg.offset())
    table = ok(cli("cache", "get", message_id)).stdout
    assert f"base64:{base64.b64encode(BINARY).decode()}" in table
    assert "verified" in table


def test_single_produce_binary_value_through_the_mediator(
    env: dict[str, str], services: Services, topic: str, prefix: str, cli: Cli
) -> None:
    from kafkaredis_cli.bootstrap import build_app
    from kafkaredis_cli.domain.commands import ProduceMessage
    from kafkaredis_cli.domain.messages import OutgoingMessage
    from kafkaredis_cli.settings import load_settings

    app = build_app(load_settings())
    try:
        result = app.mediator.send(
            ProduceMessage(
                topic=topic,
                message=OutgoingMessage(
                    value=bytes(range(256)), key=b"\x80\x81", headers=(("bin", b"\xff"),)
                ),
            )
        )
    finally:
        app.close()
    assert result.verified is True and result.cached is True
    assert result.round_trip_ms is not None and result.round_trip_ms > 0

    record = json.loads(ok(cli("cache", "get", result.id, "--json")).stdout)["record"]
    assert base64.b64decode(record["value"]) == bytes(range(256))
    assert base64.b64decode(record["key"]) == b"\x80\x81"
    assert record["encoding"] == {"key": "base64", "value": "base64"}
    assert record["offset"] == result.offset and record["status"] == "verified"


def test_produce_json_output_and_read_back_finds_this_message(
    cli: Cli, services: Services, topic: str, prefix: str, redis_client: Any
) -> None:
    # Others' messages before ours: the read-back must find ours at its offset.
    ok(cli("produce", "--file", "-", "--no-verify", "--no-cache", input="x\ny\nz\n"))
    data = json.loads(ok(cli("produce", "mine", "--json")).stdout)
    assert data["topic"] == topic
    assert (data["partition"], data["offset"]) == (0, 3)
    assert data["verified"] is True and data["cached"] is True
    assert data["cache_key"] == f"{prefix}:msg:{data['id']}"
    assert data["round_trip_ms"] >= data["delivery_ms"] >= 0
    uuid.UUID(data["id"])  # a real UUID (v7)
    assert uuid.UUID(data["id"]).version == 7

    messages = read_topic(services.bootstrap, topic)
    at = {(m.partition(), m.offset()): m for m in messages}
    ours = at[(data["partition"], data["offset"])]
    assert ours.value() == b"mine"
    assert headers_of(ours)[ID_HEADER] == data["id"].encode()
    assert int(headers_of(ours)[SENT_AT_HEADER] or b"0") == data["sent_at"]
    assert MessageRecord.from_blob(redis_client.get(data["cache_key"])).offset == 3


def test_produce_to_an_explicit_partition_and_no_cache_no_verify(
    cli: Cli,
    services: Services,
    make_topic: Callable[..., str],
    topic: str,
    redis_client: Any,
    prefix: str,
) -> None:
    make_topic(topic, 3)
    data = json.loads(ok(cli("produce", "p2", "-p", "2", "--json")).stdout)
    assert (data["partition"], data["offset"], data["verified"]) == (2, 0, True)
    bare = json.loads(ok(cli("produce", "bare", "--no-cache", "--no-verify", "--json")).stdout)
    assert (bare["cached"], bare["verified"], bare["cache_key"]) == (False, None, None)
    assert not redis_client.exists(f"{prefix}:msg:{bare['id']}")
    assert sorted(m.value() for m in read_topic(services.bootstrap, topic)) == [b"bare", b"p2"]


def test_produce_ttl(cli: Cli, topic: str, prefix: str, redis_client: Any) -> None:
    data = json.loads(ok(cli("produce", "short", "--ttl", "60", "--json")).stdout)
    assert 0 < redis_client.ttl(data["cache_key"]) <= 60
    assert 0 < redis_client.ttl(f"{prefix}:latest:{topic}") <= 60


def test_batch_of_10000_lines_from_stdin(
    cli: Cli,
    services: Services,
    make_topic: Callable[..., str],
    topic: str,
    prefix: str,
    redis_client: Any,
) -> None:
    make_topic(topic, 3)
    n = 10_000
    lines = [f"k{i % 97}:message {i}" for i in range(n)]
    result = ok(cli("produce", "--file", "-", "-K", ":", "--json", input="\n".join(lines) + "\n"))
    summary = json.loads(result.stdout)
    assert summary["sent"] == summary["delivered"] == n
    assert summary["cached"] == summary["verified"] == n
    assert summary["failed"] == summary["cache_failed"] == 0
    assert summary["errors"] == [] and summary["input_error"] is None

    # Every message is on the broker, once, with its key, and its id names a Redis record.
    messages = read_topic(services.bootstrap, topic)
    assert len(messages) == n
    assert sorted((m.key(), m.value()) for m in messages) == sorted(
        (line.split(":", 1)[0].encode(), line.split(":", 1)[1].encode()) for line in lines
    )
    ids = [headers_of(m)[ID_HEADER].decode() for m in messages]
    assert len(set(ids)) == n

    # Every record is in Redis, verified, and says where its message is.
    keys = sum(1 for _ in redis_client.scan_iter(match=f"{prefix}:msg:*", count=1000))
    assert keys == n
    listed = json.loads(
        ok(cli("cache", "list", "--pattern", "msg:*", "--limit", str(2 * n), "--json")).stdout
    )
    assert {e["key"] for e in listed} == {f"{prefix}:msg:{i}" for i in ids}
    assert {e["status"] for e in listed} == {"verified"}
    assert {(e["partition"], e["offset"]) for e in listed} == {
        (m.partition(), m.offset()) for m in messages
    }
    for msg in messages[:: n // 20]:  # and a sample in full, as stored
        record = stored_record(headers_of(msg)[ID_HEADER].decode())
        assert (record.key, record.value) == (msg.key(), msg.value())
        assert (record.partition, record.offset) == (msg.partition(), msg.offset())
        assert record.consumed_at_ms is not None and record.latency_ms is not None

    # And every one can be read back through the CLI.
    consumed = ok(cli("consume", "--from", "beginning", "-e", "--no-group", "-f", "raw"))
    assert sorted(consumed.stdout.splitlines()) == sorted(line.split(":", 1)[1] for line in lines)
    assert f"consumed {n} message(s), {n} Redis record(s) updated" in consumed.stderr


def test_batch_from_a_file_with_text_summary(
    cli: Cli, services: Services, topic: str, tmp_path: Any
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\n\ntwo\r\n\xff\xfe three\n")
    result = ok(cli("produce", "--file", str(path), "-H", "batch=1"))
    assert result.stdout.startswith(
        "sent 3  delivered 3  failed 0  unknown outcome 0  cached 3  cache failed 0  verified 3  ("
    )
    messages = read_topic(services.bootstrap, topic)
    assert [m.value() for m in messages] == [b"one", b"two", b"\xff\xfe three"]
    assert all(headers_of(m)["batch"] == b"1" for m in messages)
