"""consume --to (offsets, times, now, relative), relative --from, and the --filter-*
options, against the real broker and redis-server; checked with confluent-kafka."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tests.conftest import CliResult, Services, ok
from tests.integration.test_produce import stored_record

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
PARTITIONS = 3
BASE = 1_700_000_000_000  # message i of each partition is stamped BASE + i s
MINUTE = 60_000


def produce_stamped(services: Services, topic: str, stamps: list[int]) -> None:
    """On every partition, message i is `p-i` stamped stamps[i]."""
    producer = Producer({"bootstrap.servers": services.bootstrap})
    for partition in range(PARTITIONS):
        for i, stamp in enumerate(stamps):
            producer.produce(
                topic, f"{partition}-{i}".encode(), partition=partition, timestamp=stamp
            )
    assert producer.flush(30) == 0


def read(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = ok(cli("consume", "-f", "json", *args))
    return [json.loads(line) for line in result.stdout.splitlines()]


def positions(records: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(r["partition"], r["offset"]) for r in records}


def every(offsets: range, partitions: range = range(PARTITIONS)) -> set[tuple[int, int]]:
    return {(p, o) for p in partitions for o in offsets}


def committed(
    services: Services, group: str, topic: str, partitions: int = PARTITIONS
) -> dict[int, int]:
    reader = Consumer({"bootstrap.servers": services.bootstrap, "group.id": group})
    try:
        found = reader.committed([TopicPartition(topic, p) for p in range(partitions)], 10)
        return {tp.partition: tp.offset for tp in found}
    finally:
        reader.close()


@pytest.fixture
def stamped(services: Services, topic: str, make_topic: Callable[..., str]) -> str:
    make_topic(topic, PARTITIONS)
    produce_stamped(services, topic, [BASE + i * 1000 for i in range(10)])
    return topic


def test_to_an_offset_and_to_a_time_stop_every_partition_there(cli: Cli, stamped: str) -> None:
    begin = ("--from", "beginning", "--no-group")
    assert positions(read(cli, *begin, "--to", "3")) == every(range(4))
    assert positions(read(cli, *begin, "--to", "0", "-p", "2")) == {(2, 0)}
    assert positions(read(cli, *begin, "--to", "99")) == every(range(10))  # never waits
    # Up to the last message stamped at or before the time: message 4 (BASE + 4 s).
    assert positions(read(cli, *begin, "--to", f"@{BASE + 4500}")) == every(range(5))
    assert positions(read(cli, *begin, "--to", f"@{BASE + 4000}")) == every(range(5))
    iso = datetime.fromtimestamp((BASE + 2000) / 1000, tz=UTC).isoformat()
    assert positions(read(cli, *begin, "--to", iso)) == every(range(3))
    naive = datetime.fromtimestamp((BASE + 2000) / 1000, tz=UTC).replace(tzinfo=None)
    assert positions(read(cli, *begin, "--to", naive.isoformat())) == every(range(3))  # UTC
    window = read(cli, "--from", f"@{BASE + 2000}", "--to", f"@{BASE + 5999}", "--no-group")
    assert positions(window) == every(range(2, 6))
    assert read(cli, *begin, "--to", f"@{BASE - 1}") == []  # before everything: nothing
    assert positions(read(cli, *begin, "--to", "now")) == every(range(10))
    raw = ok(cli("consume", *begin, "--to", "1", "-p", "1", "-f", "raw")).stdout
    assert raw == "1-0\n1-1\n"


def test_relative_times_against_messages_stamped_relative_to_now(
    cli: Cli, services: Services, topic: str, make_topic: Callable[..., str]
) -> None:
    make_topic(topic, PARTITIONS)
    now = int(time.time() * 1000)
    ago = [180, 90, 30, 5]  # minutes before now: messages 0..3 of each partition
    produce_stamped(services, topic, [now - m * MINUTE for m in ago])
    assert positions(read(cli, "--from", "-2h", "--no-group", "-e")) == every(range(1, 4))
    assert positions(read(cli, "--from", "-2h", "--to", "-10m", "--no-group")) == every(range(1, 3))
    assert positions(read(cli, "--from", "-1d", "--to", "-1h", "--no-group")) == every(range(0, 2))
    assert positions(read(cli, "--from", "-1w", "--to", "-6000s", "--no-group")) == every(
        range(0, 1)
    )
    assert read(cli, "--from", "-1m", "--no-group", "-e") == []


def test_to_in_a_group_commits_up_to_the_bound_and_the_next_read_resumes_there(
    cli: Cli, services: Services, stamped: str
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    first = read(cli, "-g", group, "--from", "beginning", "--to", "3")
    assert positions(first) == every(range(4))
    assert committed(services, group, stamped) == {p: 4 for p in range(PARTITIONS)}
    rest = read(cli, "-g", group, "-e")
    assert positions(rest) == every(range(4, 10))


@pytest.fixture
def orders(cli: Cli, topic: str, make_topic: Callable[..., str]) -> list[dict[str, Any]]:
    """12 kafkaredis messages (records in Redis): orders and users, paid and refund,
    region eu or us; what `consume` shows of them, in produce order per partition."""
    make_topic(topic, 1)
    lines = [
        json.dumps(
            {
                "key": f"{'order' if i % 2 else 'user'}-{i}",
                "value": f"{'refund' if i % 3 == 0 else 'paid'} {i}",
                "headers": [{"name": "region", "value": "eu" if i < 6 else "us"}],
            }
        )
        for i in range(12)
    ]
    ok(cli("produce", "--file", "-", "--input-format", "json", input="\n".join(lines) + "\n"))
    everything = read(cli, "--from", "beginning", "-e", "--no-group", "--no-cache")
    assert len(everything) == 12
    return everything


def keys(records: list[dict[str, Any]]) -> list[str]:
    return [r["key"] for r in records]


def test_filters_on_keys_values_and_headers_all_must_match(
    cli: Cli, orders: list[dict[str, Any]]
) -> None:
    begin = ("--from", "beginning", "-e", "--no-group", "--no-cache")
    assert keys(read(cli, *begin, "--filter-key", "order-*")) == [
        f"order-{i}" for i in range(1, 12, 2)
    ]
    assert keys(read(cli, *begin, "--filter-value", "refund *")) == [
        f"{'order' if i % 2 else 'user'}-{i}" for i in (0, 3, 6, 9)
    ]
    assert keys(read(cli, *begin, "--filter-header", "region=u?")) == [
        f"{'order' if i % 2 else 'user'}-{i}" for i in range(6, 12)
    ]
    both = read(
        cli,
        *begin,
        "--filter-key",
        "order-*",
        "--filter-value",
        "refund*",
        "--filter-header",
        "region=eu",
    )
    assert keys(both) == ["order-3"]
    assert read(cli, *begin, "--filter-header", "region=eu", "--filter-header", "x=*") == []
    result = ok(cli("consume", *begin, "--filter-key", "user-1?"))
    assert "(11 more filtered out)" in result.stderr


def test_filtered_out_messages_are_committed_and_update_their_records(
    cli: Cli, services: Services, topic: str, orders: list[dict[str, Any]]
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    shown = read(cli, "-g", group, "--from", "beginning", "-e", "--filter-key", "order-*")
    assert len(shown) == 6
    assert committed(services, group, topic, 1) == {0: 12}  # the whole log, not only matches
    for record in orders:
        assert stored_record(record["id"]).status.value == "consumed", record["key"]
    assert read(cli, "-g", group, "-e") == []


def test_count_counts_matches_and_commits_no_further_than_the_last_one(
    cli: Cli, services: Services, topic: str, orders: list[dict[str, Any]]
) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    shown = read(
        cli, "-g", group, "--from", "beginning", "--count", "2", "--filter-value", "refund*"
    )
    assert keys(shown) == ["user-0", "order-3"]
    assert committed(services, group, topic, 1) == {0: 4}  # just after order-3, at offset 3
    assert stored_record(orders[4]["id"]).status.value != "consumed"  # not read yet
    rest = read(cli, "-g", group, "-e")
    assert [r["offset"] for r in rest] == list(range(4, 12))


def test_filters_match_bytes_that_are_not_utf8(cli: Cli, services: Services, topic: str) -> None:
    producer = Producer({"bootstrap.servers": services.bootstrap})
    for value in (b"a\xffc", b"abc", b"a\xff\xfec", None):
        producer.produce(topic, value, b"k")
    assert producer.flush(30) == 0
    got = read(cli, "--from", "beginning", "-e", "--no-group", "--filter-value", "a?c")
    assert [r["offset"] for r in got] == [0, 1]
    anything = read(cli, "--from", "beginning", "-e", "--no-group", "--filter-value", "*")
    assert [r["offset"] for r in anything] == [0, 1, 2]  # a null value matches nothing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--to", "soon"), "--to 'soon' is not an offset"),
        (("--to", "-5"), "--to '-5' is not an offset"),
        (("--from", "-15x"), "--from '-15x' is not"),
        (("--filter-header", "novalue"), "--filter-header 'novalue' is not NAME=GLOB"),
        (("--filter-header", "=x"), "--filter-header '=x' is not NAME=GLOB"),
    ],
)
def test_bad_bounds_and_filters_are_named(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("consume", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr
