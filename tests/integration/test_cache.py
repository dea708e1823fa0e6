"""cache get / list / delete and inspect-cache against the real redis-server."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from typing import Any

import pytest

from tests.conftest import CliResult, ok

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]


def produce(cli: Cli, value: str, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(cli("produce", value, "--json", *args)).stdout)
    return data


def produce_batch(cli: Cli, n: int, *args: str) -> None:
    lines = "".join(f"v{i}\n" for i in range(n))
    summary = json.loads(ok(cli("produce", "--file", "-", "--json", *args, input=lines)).stdout)
    assert summary["cached"] == n


def test_cache_get_by_id_msg_key_full_key_and_latest(cli: Cli, topic: str, prefix: str) -> None:
    sent = produce(cli, "look me up", "-k", "k", "-H", "h=v")
    message_id = sent["id"]
    shapes = [
        json.loads(ok(cli("cache", "get", key, "--json")).stdout)
        for key in (message_id, f"msg:{message_id}", f"{prefix}:msg:{message_id}")
    ]
    assert all(s["record"] == shapes[0]["record"] for s in shapes)
    data = shapes[0]
    assert set(data) == {"key", "type", "ttl_s", "record"}
    assert data["key"] == f"{prefix}:msg:{message_id}"
    assert data["type"] == "string" and 3500 < data["ttl_s"] <= 3600
    record = data["record"]
    assert set(record) == {
        "id",
        "topic",
        "partition",
        "offset",
        "key",
        "value",
        "headers",
        "sent_at",
        "delivered_at",
        "consumed_at",
        "latency_ms",
        "status",
    }
    assert record["id"] == message_id and record["topic"] == topic
    assert (record["partition"], record["offset"]) == (sent["partition"], sent["offset"])
    assert (record["key"], record["value"]) == ("k", "look me up")
    assert record["headers"] == [{"name": "h", "value": "v"}]
    assert record["status"] == "verified"
    assert record["sent_at"] == sent["sent_at"] and record["delivered_at"] == sent["delivered_at"]
    assert isinstance(record["consumed_at"], int) and isinstance(record["latency_ms"], float)

    newer = produce(cli, "newer")
    latest = json.loads(ok(cli("cache", "get", f"latest:{topic}", "--json")).stdout)
    assert latest["via"] == f"{prefix}:latest:{topic}"
    assert latest["record"]["id"] == newer["id"] and latest["record"]["value"] == "newer"

    table = ok(cli("cache", "get", f"latest:{topic}")).stdout
    for fragment in (
        f"{prefix}:msg:{newer['id']}",
        f"{prefix}:latest:{topic}",
        "newer",
        "verified",
        "T",  # ISO 8601 times
        "+00:00",
    ):
        assert fragment in table


def test_cache_get_missing_is_exit_6(cli: Cli, prefix: str) -> None:
    result = cli("cache", "get", "01900000-0000-7000-8000-000000000000")
    assert result.exit_code == 6
    assert result.stderr.strip() == (
        f"kafkaredis: error: no key {prefix}:msg:01900000-0000-7000-8000-000000000000"
    )
    assert result.stdout == ""


def test_cache_list_with_pattern_topic_and_limit(cli: Cli, topic: str, prefix: str) -> None:
    produce_batch(cli, 7)
    produce_batch(cli, 2, "-t", f"{topic}-other")

    everything = json.loads(ok(cli("cache", "list", "--json")).stdout)
    assert len(everything) == 7 + 2 + 2  # the records and two latest pointers
    messages = json.loads(ok(cli("cache", "list", "--pattern", "msg:*", "--json")).stdout)
    assert len(messages) == 9
    for entry in messages:
        assert entry["key"].startswith(f"{prefix}:msg:")
        assert entry["type"] == "string" and 0 < entry["ttl_s"] <= 3600
        assert isinstance(entry["partition"], int) and isinstance(entry["offset"], int)
        assert entry["status"] == "verified"
    assert [e["key"] for e in messages] == sorted(e["key"] for e in messages)

    limited = json.loads(ok(cli("cache", "list", "--pattern", "msg:*", "-n", "3", "--json")).stdout)
    assert len(limited) == 3
    assert {e["key"] for e in limited} <= {e["key"] for e in messages}

    of_topic = json.loads(
        ok(cli("cache", "list", "--pattern", "msg:*", "--topic", f"{topic}-other", "--json")).stdout
    )
    assert len(of_topic) == 2 and {e["topic"] for e in of_topic} == {f"{topic}-other"}
    assert sorted(e["offset"] for e in of_topic) == [0, 1]

    pointers = json.loads(ok(cli("cache", "list", "--pattern", "latest:*", "--json")).stdout)
    assert {(e["topic"], e["type"]) for e in pointers} == {
        (topic, "string"),
        (f"{topic}-other", "string"),
    }
    assert all(e["id"] in {m["key"].rsplit(":", 1)[1] for m in messages} for e in pointers)

    table = ok(cli("cache", "list", "--pattern", "msg:*", "--limit", "4")).stdout
    assert table.rstrip().endswith("4 key(s)")
    rows = [line for line in table.splitlines() if f"{prefix}:msg:" in line]
    assert len(rows) == 4
    for row in rows:  # whole keys on one line each, with their place and status
        assert any(e["key"] in row for e in messages)
        assert topic in row and "verified" in row


def test_cache_list_of_an_empty_prefix(cli: Cli) -> None:
    assert json.loads(ok(cli("cache", "list", "--json")).stdout) == []
    assert ok(cli("cache", "list")).stdout.rstrip().endswith("0 key(s)")


def test_cache_delete_by_id_and_by_pattern(
    cli: Cli, topic: str, prefix: str, redis_client: Any
) -> None:
    first = produce(cli, "one")
    produce_batch(cli, 4)
    deleted = json.loads(ok(cli("cache", "delete", first["id"], "nope", "--json")).stdout)
    assert deleted == {"deleted": 1, "asked": 2}
    assert cli("cache", "get", first["id"]).exit_code == 6
    assert not redis_client.exists(first["cache_key"])

    text = ok(cli("cache", "delete", "--pattern", "msg:*", "--yes"))
    assert "deleted 4 of 4 key(s)" in text.stderr
    assert list(redis_client.scan_iter(match=f"{prefix}:msg:*")) == []
    assert redis_client.exists(f"{prefix}:latest:{topic}")  # the pattern spared it


def test_inspect_cache(cli: Cli, topic: str, prefix: str) -> None:
    produce_batch(cli, 5)
    produce(cli, "short", "--ttl", "100")
    data = json.loads(ok(cli("inspect-cache", "--json")).stdout)
    assert data["prefix"] == prefix
    assert data["keys"] == 7
    assert data["by_kind"] == {"msg": 6, "latest": 1}
    assert data["with_ttl"] == 7 and data["without_ttl"] == 0
    assert 0 < data["min_ttl_s"] <= 100 < data["max_ttl_s"] <= 3600
    assert data["memory_bytes"] > 0 and data["server_memory_bytes"] > data["memory_bytes"]
    assert data["server_version"].count(".") == 2

    table = ok(cli("inspect-cache")).stdout
    assert f"{prefix}:" in table and "msg" in table and "latest" in table
    assert "without TTL" in table and "memory (keys)" in table


def test_records_kept_as_hashes_by_earlier_versions_are_still_read_and_marked(
    cli: Cli, prefix: str, redis_client: Any
) -> None:
    import uuid

    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.domain.ports import ConsumedUpdate
    from kafkaredis_cli.domain.records import MessageRecord, Status
    from kafkaredis_cli.keys import KeySpace
    from kafkaredis_cli.settings import load_settings

    record = MessageRecord(str(uuid.uuid4()), "legacy", 1, 7, b"k", b"v", (), 1000, 1001)
    key = f"{prefix}:msg:{record.id}"
    redis_client.hset(key, mapping=record.to_hash())
    redis_client.expire(key, 100)

    got = json.loads(ok(cli("cache", "get", record.id, "--json")).stdout)
    assert got["type"] == "hash" and got["record"] == record.to_json()
    listed = json.loads(ok(cli("cache", "list", "--json")).stdout)
    assert [(e["topic"], e["offset"], e["status"]) for e in listed] == [("legacy", 7, "delivered")]
    settings = load_settings()
    with closing(RedisStore(settings.redis, KeySpace(prefix))) as store:
        update = ConsumedUpdate(record.id, 2000, 999.0, Status.CONSUMED)
        assert store.mark_consumed([update]) == 1
    assert redis_client.hmget(key, "status", "consumed_at") == [b"consumed", b"2000"]


def test_one_mark_with_shared_and_distinct_state_lines_writes_each_record_its_own(
    env: dict[str, str], prefix: str
) -> None:
    """The store makes each distinct state line once: records that share a consumed time
    and latency but not a status, or not a latency, still get their own line."""
    import uuid

    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.domain.ports import ConsumedUpdate
    from kafkaredis_cli.domain.records import MessageRecord, Status
    from kafkaredis_cli.keys import KeySpace
    from kafkaredis_cli.settings import load_settings

    records = [
        MessageRecord(str(uuid.uuid4()), "t", 0, i, None, b"v", (), 1000, 1001) for i in range(4)
    ]
    updates = [
        ConsumedUpdate(records[0].id, 2000, 5.0, Status.CONSUMED),
        ConsumedUpdate(records[1].id, 2000, 5.0, Status.VERIFIED),
        ConsumedUpdate(records[2].id, 2000, 7.0, Status.CONSUMED),
        ConsumedUpdate(records[3].id, 2000, 5.0, Status.CONSUMED),
    ]
    settings = load_settings()
    with closing(RedisStore(settings.redis, KeySpace(prefix))) as store:
        store.save(records, 100)
        assert store.mark_consumed(updates) == 4
        got = [store.get(f"{prefix}:msg:{r.id}") for r in records]
    seen = [(e.record.status, e.record.consumed_at_ms, e.record.latency_ms) for e in got if e]
    assert seen == [
        (Status.CONSUMED, 2000, 5.0),
        (Status.VERIFIED, 2000, 5.0),
        (Status.CONSUMED, 2000, 7.0),
        (Status.CONSUMED, 2000, 5.0),
    ]
