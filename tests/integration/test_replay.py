"""cache replay against the real broker and redis-server, checked with confluent-kafka and
redis-py."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from kafkaredis_cli.domain.messages import ID_HEADER, SENT_AT_HEADER
from kafkaredis_cli.domain.replay import REPLAY_HEADER
from tests.conftest import CliResult, Services, ok
from tests.integration.test_produce import raw_value, stored_record
from tests.topics import read_topic

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
BINARY = b"\x00\xff\xfe binary \n value"


def user_headers(msg: Any) -> list[tuple[str, bytes | None]]:
    return [h for h in msg.headers() or [] if h[0] not in (ID_HEADER, SENT_AT_HEADER)]


def replay(cli: Cli, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(cli("cache", "replay", *args, "--json")).stdout)
    return data


def check_replayed(
    services: Services, redis_client: Any, prefix: str, original: Any, result: dict[str, Any]
) -> Any:
    """The replay is on the broker where it says, with the original's key, value and
    headers plus the replay header, and its own record in Redis."""
    new_id = result["id"]
    assert result["verified"] is True and result["cached"] is True
    [copy] = [
        m
        for m in read_topic(services.bootstrap, result["topic"])
        if (m.partition(), m.offset()) == (result["partition"], result["offset"])
    ]
    original_id = dict(original.headers())[ID_HEADER].decode()
    assert result["replay_of"] == original_id != new_id
    assert (copy.key(), copy.value()) == (original.key(), original.value())
    assert user_headers(copy) == [
        *[h for h in user_headers(original) if h[0] != REPLAY_HEADER],
        (REPLAY_HEADER, original_id.encode()),
    ]
    assert dict(copy.headers())[ID_HEADER] == new_id.encode()

    key = f"{prefix}:msg:{new_id}"
    assert redis_client.exists(key) and 0 < redis_client.ttl(key) <= 3600
    assert original.value() in raw_value(redis_client, key)
    record = stored_record(new_id)
    assert (record.topic, record.partition, record.offset) == (
        result["topic"],
        result["partition"],
        result["offset"],
    )
    assert (record.key, record.value) == (original.key(), original.value())
    assert record.headers[-1] == (REPLAY_HEADER, original_id.encode())
    assert record.status.value == "verified"
    return copy


def test_replay_of_a_single_message_and_of_a_replay(
    cli: Cli, services: Services, topic: str, prefix: str, redis_client: Any
) -> None:
    produced = json.loads(
        ok(cli("produce", "order 42", "-k", "order-42", "-H", "source=shop", "--json")).stdout
    )
    [original] = read_topic(services.bootstrap, topic)
    first = replay(cli, produced["id"])
    assert (first["topic"], first["offset"]) == (topic, 1)
    copy = check_replayed(services, redis_client, prefix, original, first)
    assert user_headers(copy) == [
        ("source", b"shop"),
        (REPLAY_HEADER, produced["id"].encode()),
    ]
    # A replay of the replay names the replay, once (the older header is replaced).
    second = replay(cli, first["id"])
    again = check_replayed(services, redis_client, prefix, copy, second)
    assert [h for h in user_headers(again) if h[0] == REPLAY_HEADER] == [
        (REPLAY_HEADER, first["id"].encode())
    ]
    # The original's record is untouched; latest:<topic> now names the newest copy.
    assert stored_record(produced["id"]).offset == 0
    assert redis_client.get(f"{prefix}:latest:{topic}") == second["id"].encode()
    table = ok(cli("cache", "replay", f"latest:{topic}")).stdout
    assert f"replay of  {second['id']}" in table


def test_replay_of_a_batch_record_with_binary_key_value_headers_elsewhere(
    cli: Cli,
    services: Services,
    topic: str,
    prefix: str,
    redis_client: Any,
    make_topic: Callable[..., str],
) -> None:
    line = json.dumps(
        {
            "key": base64.b64encode(b"\xfe\xffk").decode(),
            "value": base64.b64encode(BINARY).decode(),
            "encoding": {"key": "base64", "value": "base64"},
            "headers": [
                {
                    "name": "bin",
                    "value": base64.b64encode(b"\x80\x00").decode(),
                    "encoding": "base64",
                },
                {"name": "dup", "value": "1"},
                {"name": "dup", "value": "2"},
            ],
        }
    )
    ok(cli("produce", "--file", "-", "--input-format", "json", input=f"{line}\n{line}\n"))
    originals = read_topic(services.bootstrap, topic)
    assert len(originals) == 2
    other = make_topic(f"{topic}-other", 3)
    original_id = dict(originals[1].headers())[ID_HEADER].decode()
    result = replay(cli, original_id, "-t", other, "--partition", "2")
    assert (result["topic"], result["partition"], result["offset"]) == (other, 2, 0)
    check_replayed(services, redis_client, prefix, originals[1], result)


def test_replay_of_an_unknown_or_expired_id_exits_6(
    cli: Cli, services: Services, topic: str, prefix: str
) -> None:
    unknown = cli("cache", "replay", "01a00000-0000-7000-8000-000000000000")
    assert unknown.exit_code == 6
    assert "no cached message '01a00000-0000-7000-8000-000000000000' to replay" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    produced = json.loads(ok(cli("produce", "gone soon", "--json")).stdout)
    ok(cli("cache", "delete", produced["id"]))  # as if its TTL had run out
    expired = cli("cache", "replay", produced["id"])
    assert expired.exit_code == 6 and "its record expired" in expired.stderr
    assert len(read_topic(services.bootstrap, topic)) == 1  # nothing was produced
    no_latest = cli("cache", "replay", f"latest:{topic}-nothing")
    assert no_latest.exit_code == 6
