"""groups, groups lag and groups reset against the real broker, checked with confluent-kafka."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.conftest import CliResult, Services, ok, wait_for

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
PARTITIONS = 3


def committed_offsets(services: Services, group: str, topic: str) -> dict[int, int | None]:
    """The group's committed offsets as the broker has them (None: no offset)."""
    reader = Consumer({"bootstrap.servers": services.bootstrap, "group.id": group})
    try:
        found = reader.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
        return {tp.partition: (tp.offset if tp.offset >= 0 else None) for tp in found}
    finally:
        reader.close()


def independent_lag(services: Services, group: str, topic: str) -> dict[int, int]:
    """Per partition: end offset - committed offset (the whole log without an offset)."""
    reader = Consumer({"bootstrap.servers": services.bootstrap, "group.id": group})
    try:
        committed = reader.committed(
            [TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10
        )
        lag = {}
        for tp in committed:
            low, high = reader.get_watermark_offsets(tp, timeout=10)
            lag[tp.partition] = high - (tp.offset if tp.offset >= 0 else low)
        return lag
    finally:
        reader.close()


def produce_spread(services: Services, topic: str, per_partition: int, base_ms: int) -> None:
    """`per_partition` messages on each partition; message i has timestamp base + i s."""
    producer = Producer({"bootstrap.servers": services.bootstrap})
    for partition in range(PARTITIONS):
        for i in range(per_partition):
            producer.produce(
                topic,
                f"p{partition}-{i}".encode(),
                key=f"k{i}".encode(),
                partition=partition,
                timestamp=base_ms + i * 1000,
            )
    assert producer.flush(30) == 0


@pytest.fixture
def group(topic: str) -> str:
    return f"g-{topic}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def consumed_40_of_100(
    cli: Cli, services: Services, topic: str, group: str, make_topic: Callable[..., str]
) -> str:
    """100 messages on 3 partitions (34, 33, 33); `group` has consumed 40 of them."""
    make_topic(topic, PARTITIONS)
    lines = "".join(f"m{i}\n" for i in range(100))
    for partition, count in enumerate((34, 33, 33)):
        start = sum((34, 33, 33)[:partition])
        chunk = "".join(lines.splitlines(keepends=True)[start : start + count])
        ok(cli("produce", "--file", "-", "-p", str(partition), "--no-verify", input=chunk))
    got = ok(cli("consume", "-g", group, "--from", "beginning", "--count", "40", "-f", "json"))
    assert len(got.stdout.splitlines()) == 40
    return group


def lag_json(cli: Cli, *args: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(ok(cli("groups", "lag", *args, "--json")).stdout)
    return data


def test_lag_of_a_group_that_consumed_40_of_100(
    cli: Cli, services: Services, topic: str, consumed_40_of_100: str
) -> None:
    group = consumed_40_of_100
    expected = independent_lag(services, group, topic)
    assert sum(expected.values()) == 60
    for args in ((group, "-t", topic), (group,)):  # named topic, or the group's own topics
        [found] = lag_json(cli, *args)
        assert found["group"] == group and found["lag"] == 60
        assert found["topics"] == {topic: 60}
        assert found["state"] == "Empty" and found["members"] == 0
        per_partition = {p["partition"]: p["lag"] for p in found["partitions"]}
        assert per_partition == expected
        committed = committed_offsets(services, group, topic)
        assert {p["partition"]: p["committed"] for p in found["partitions"]} == committed
        assert [p["end"] for p in found["partitions"]] == [34, 33, 33]

    table = ok(cli("groups", "lag", group)).stdout
    assert f"{group}: lag 60" in table
    assert ok(cli("groups", "lag")).stdout.count(f"{group}: lag 60") == 1  # every group

    over = cli("groups", "lag", group, "--max-lag", "59")
    assert over.exit_code == 1
    assert f"lag over --max-lag 59: {group} (60)" in over.stderr
    ok(cli("groups", "lag", group, "--max-lag", "60"))

    worst = max(expected.values())
    per = cli("groups", "lag", group, "--per-partition", "--max-lag", str(worst - 1))
    assert per.exit_code == 1 and "over --max-lag" in per.stderr
    ok(cli("groups", "lag", group, "--per-partition", "--max-lag", str(worst)))

    typo = ok(cli("groups", "lag", f"{group}-typo", "--max-lag", "0"))
    assert f"group {group}-typo has no members and no committed offsets" in typo.stderr


def test_groups_lists_state_members_and_topics(
    cli: Cli, services: Services, topic: str, consumed_40_of_100: str
) -> None:
    group = consumed_40_of_100
    listed = {g["group"]: g for g in json.loads(ok(cli("groups", "--json")).stdout)}
    assert listed[group] == {
        "group": group,
        "state": "Empty",
        "type": "classic",
        "members": 0,
        "topics": [topic],
        "assignor": "",
        "note": "",
        "protocol": "classic",
    }
    with active_member(services, group, topic):
        busy = {g["group"]: g for g in json.loads(ok(cli("groups", "--json")).stdout)}
        assert busy[group]["state"] == "Stable" and busy[group]["members"] == 1
        assert busy[group]["topics"] == [topic]
    [row] = [line for line in ok(cli("groups")).stdout.splitlines() if group in line]
    assert "Empty" in row and "classic" in row and topic in row


@contextmanager
def active_member(services: Services, group: str, topic: str) -> Iterator[Consumer]:
    """A consumer in `group` that holds the topic's partitions (and commits nothing)."""
    consumer = Consumer(
        {
            "bootstrap.servers": services.bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "latest",
        }
    )
    consumer.subscribe([topic])
    admin = AdminClient({"bootstrap.servers": services.bootstrap})

    def joined() -> bool:
        consumer.poll(0.1)
        described = admin.describe_consumer_groups([group])[group].result(timeout=5)
        return str(described.state.name) == "STABLE" and bool(consumer.assignment())

    try:
        wait_for(joined, 30, interval=0.0, what="the member to join the group")
        yield consumer
    finally:
        consumer.close()


def reset(cli: Cli, group: str, topic: str, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        ok(cli("groups", "reset", group, "-t", topic, *args, "--json")).stdout
    )
    return data


def test_reset_dry_run_changes_nothing_execute_moves_offsets(
    cli: Cli, services: Services, topic: str, group: str, make_topic: Callable[..., str]
) -> None:
    make_topic(topic, PARTITIONS)
    base = 1_700_000_000_000
    produce_spread(services, topic, 10, base)
    ok(cli("consume", "-g", group, "--from", "beginning", "-e", "-f", "raw"))
    at_end = {p: 10 for p in range(PARTITIONS)}
    assert committed_offsets(services, group, topic) == at_end

    plan = reset(cli, group, topic, "--to-earliest")
    assert plan["executed"] is False
    assert plan["partitions"] == [
        {"partition": p, "current": 10, "new": 0} for p in range(PARTITIONS)
    ]
    assert committed_offsets(services, group, topic) == at_end  # a dry run changes nothing
    dry = ok(cli("groups", "reset", group, "-t", topic, "--to-earliest"))
    assert "dry run: nothing changed" in dry.stderr
    assert committed_offsets(services, group, topic) == at_end

    def moves_to(expected: dict[int, int], *args: str) -> None:
        plan = reset(cli, group, topic, *args, "--execute")
        assert plan["executed"] is True
        assert {r["partition"]: r["new"] for r in plan["partitions"]}.items() <= expected.items()
        assert committed_offsets(services, group, topic) == expected

    moves_to({p: 0 for p in range(PARTITIONS)}, "--to-earliest")
    moves_to({p: 4 for p in range(PARTITIONS)}, "--to-offset", "4")
    moves_to({p: 10 for p in range(PARTITIONS)}, "--to-offset", "99")  # kept within the log
    moves_to({p: 7 for p in range(PARTITIONS)}, "--shift-by", "-3")
    moves_to({p: 9 for p in range(PARTITIONS)}, "--shift-by", "2")
    moves_to({p: 0 for p in range(PARTITIONS)}, "--shift-by", "-50")
    moves_to({p: 10 for p in range(PARTITIONS)}, "--to-latest")
    # Message i was stamped base + i s: the first at or after base + 4.5 s is message 5.
    moves_to({p: 5 for p in range(PARTITIONS)}, "--to-time", f"@{base + 4500}")
    iso = datetime.fromtimestamp((base + 2000) / 1000, tz=UTC).isoformat()
    moves_to({p: 2 for p in range(PARTITIONS)}, "--to-time", iso)
    moves_to({p: 10 for p in range(PARTITIONS)}, "--to-time", f"@{base + 60_000}")  # none: end
    moves_to({0: 10, 1: 3, 2: 10}, "--to-offset", "3", "-p", "1")
    # What the group reads next is where the reset put it.
    rest = ok(cli("consume", "-g", group, "-e", "-f", "raw")).stdout.splitlines()
    assert rest == [f"p1-{i}" for i in range(3, 10)]


def test_reset_refuses_while_the_group_has_active_members(
    cli: Cli, services: Services, topic: str, consumed_40_of_100: str
) -> None:
    group = consumed_40_of_100
    before = committed_offsets(services, group, topic)
    with active_member(services, group, topic):
        refused = cli("groups", "reset", group, "-t", topic, "--to-earliest", "--execute")
        assert refused.exit_code == 1, refused.stderr
        assert f"group {group!r} has 1 active member(s)" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert committed_offsets(services, group, topic) == before
        dry = ok(cli("groups", "reset", group, "-t", topic, "--to-earliest"))
        assert "--execute refuses" in dry.stderr
    assert committed_offsets(services, group, topic) == before
    plan = reset(cli, group, topic, "--to-earliest", "--execute")  # gone: allowed now
    assert plan["executed"] is True
    assert committed_offsets(services, group, topic) == {p: 0 for p in range(PARTITIONS)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of --to-earliest"),
        (("--to-earliest", "--to-latest"), "give exactly one of"),
        (("--to-time", "yesterday"), "--to-time 'yesterday' is not @epoch-ms"),
    ],
)
def test_reset_bad_input(cli: Cli, topic: str, args: tuple[str, ...], message: str) -> None:
    result = cli("groups", "reset", "g", "-t", topic, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_reset_needs_a_topic_and_an_existing_one(cli: Cli, services: Services, topic: str) -> None:
    no_topic = cli("groups", "reset", "g", "--to-earliest")
    assert no_topic.exit_code == 2 and "-t TOPIC" in no_topic.stderr
    absent = cli("groups", "reset", "g", "-t", topic, "--to-earliest")
    assert absent.exit_code == 4
    assert f"topic '{topic}' does not exist" in absent.stderr
    lag = cli("groups", "lag", "g", "-t", topic)
    assert lag.exit_code == 4
    admin = AdminClient({"bootstrap.servers": services.bootstrap})
    assert topic not in admin.list_topics(timeout=10).topics  # asking did not create it


def test_reset_gives_a_new_group_its_starting_offsets(
    cli: Cli, services: Services, topic: str, group: str, make_topic: Callable[..., str]
) -> None:
    make_topic(topic, PARTITIONS)
    produce_spread(services, topic, 4, 1_700_000_000_000)
    assert committed_offsets(services, group, topic) == {p: None for p in range(PARTITIONS)}
    plan = reset(cli, group, topic, "--to-offset", "2", "--execute")
    assert plan["partitions"] == [
        {"partition": p, "current": None, "new": 2} for p in range(PARTITIONS)
    ]
    assert committed_offsets(services, group, topic) == {p: 2 for p in range(PARTITIONS)}
    [lag] = lag_json(cli, group)
    assert lag["lag"] == 2 * PARTITIONS and lag["topics"] == {topic: 2 * PARTITIONS}
