"""Consumer groups of several real `consume` processes on the 3-broker cluster: shared
partitions, no rewind; and records that reach Redis after their message was consumed.

The first member's stdout is not read until the others have joined: it blocks on its
full pipe mid-fetch, so the group cannot finish before every member is in it, and the
partitions change hands in a rebalance while there is still plenty to read.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from contextlib import closing
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from tests.clusters import KafkaCluster
from tests.conftest import Services, kafkaredis_process, wait_for
from tests.members import Member
from tests.topics import create_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 6
PYTHON_CLI = [sys.executable, "-m", "kafkaredis_cli"]
MESSAGES = 30_000  # ~5 MB of JSON lines: far more than a pipe holds, and 6 fetches


def produce(bootstrap: str, topic: str, n: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for i in range(n):
        producer.produce(topic, f"value {i:06d} {'x' * 80}".encode(), partition=i % PARTITIONS)
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0


def group_members(admin: AdminClient, group: str) -> list[Any]:
    """The group's members ([] while its coordinator is still being found or loaded)."""
    try:
        described = admin.describe_consumer_groups([group])[group].result(timeout=10)
    except (KafkaException, TimeoutError):
        return []
    return list(described.members)


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return {tp.partition: tp.offset for tp in consumer.committed(tps, timeout=10)}
    finally:
        consumer.close()


def filled_topic(
    bootstrap: str, env: dict[str, str]
) -> tuple[str, str, AdminClient, dict[str, str]]:
    """A 6-partition topic holding MESSAGES, a fresh group name, an admin client and the
    environment of `consume` processes on them."""
    topic = create_topic(bootstrap, f"groups-{uuid.uuid4().hex[:8]}", PARTITIONS)
    produce(bootstrap, topic, MESSAGES)
    run_env = {
        **env,
        "KAFKAREDIS_KAFKA__TOPICS": topic,
        "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
    }
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return topic, f"g-{uuid.uuid4().hex[:8]}", admin, run_env


def start_members(
    env: dict[str, str], admin: AdminClient, group: str, args: list[str], started: list[Member]
) -> list[Member]:
    """Three `consume -g GROUP` members; the first holds every partition, blocked on its
    pipe, while the other two join; then all three are read."""
    # Heartbeats every 100 ms: the blocked first member learns of the rebalance (its
    # heartbeat runs in librdkafka's thread) long before the test reads its pipe again.
    command = [
        *("--log-level", "INFO", "-X", "heartbeat.interval.ms=100"),
        *("consume", "-g", group, "-f", "json", *args),
    ]
    first = Member(kafkaredis_process(command, env))
    started.append(first)
    first.drain("stderr")

    def first_holds_everything() -> bool:
        found = group_members(admin, group)
        return len(found) == 1 and len(found[0].assignment.topic_partitions) == PARTITIONS

    wait_for(first_holds_everything, 90, interval=0.2, what="the first member's assignment")
    others = [Member(kafkaredis_process(command, env)) for _ in range(2)]
    started.extend(others)
    for member in others:
        member.drain("stderr")
        member.drain("stdout")
    wait_for(
        lambda: len(group_members(admin, group)) == 3,
        30,
        interval=0.2,
        what="all three members in the group",
    )
    first.drain("stdout")  # the first member goes on, into the rebalance
    return [first, *others]


def members_report(
    results: list[tuple[int, list[dict[str, Any]], str]], committed: dict[int, int]
) -> str:
    """What each member printed (partition: count, first..last offset), its exit status
    and its whole stderr (assignments, revokes, losses, where it saw the end, at INFO),
    and the group's committed offsets: what a failed group test shows."""
    parts = []
    for number, (status, lines, err) in enumerate(results, 1):
        offsets: dict[int, list[int]] = {}
        for r in lines:
            offsets.setdefault(r["partition"], []).append(r["offset"])
        read = ", ".join(f"{p}: {len(o)} ({min(o)}..{max(o)})" for p, o in sorted(offsets.items()))
        parts.append(f"--- member {number}: exit {status}; printed {read or 'nothing'}\n{err}")
    parts.append(f"--- committed offsets of the group: {committed}")
    return "\n".join(parts)


@pytest.mark.cluster
@pytest.mark.parametrize("strategy", ["range,roundrobin", "cooperative-sticky"])
def test_three_members_share_the_partitions_and_each_reads_its_own_to_the_end(
    kafka_cluster: KafkaCluster, env: dict[str, str], members: list[Member], strategy: str
) -> None:
    """Eager rebalancing (librdkafka's default) and incremental (cooperative-sticky)."""
    bootstrap = kafka_cluster.bootstrap
    topic, group, admin, run_env = filled_topic(bootstrap, env)
    strategy_option = ["-X", f"partition.assignment.strategy={strategy}"]
    started = start_members(run_env, admin, group, ["-e", *strategy_option], members)

    results = [member.finish(timeout=120) for member in started]
    seen: list[tuple[int, int]] = []
    for status, lines, err in results:
        assert status == 0, err
        assert "Traceback" not in err
        # Each member was given partitions of its own (how much each reads depends on
        # when the rebalance lands) ...
        assert "assigned this consumer" in err, err
        seen += [(r["partition"], r["offset"]) for r in lines]
    # ... together every message; each once, unless the group refused a member's commit
    # (a member expelled while it was blocked: at-least-once, its records read again) ...
    assert len(set(seen)) == MESSAGES, members_report(
        results, committed_offsets(bootstrap, group, topic)
    )
    refused = any("commit kept for the revoke" in err for _s, _l, err in results)
    committed = committed_offsets(bootstrap, group, topic)
    assert len(seen) == MESSAGES or refused, members_report(results, committed)
    # ... and none left before its partitions were at their end: all committed to the end.
    per_partition = MESSAGES // PARTITIONS
    assert committed == dict.fromkeys(range(PARTITIONS), per_partition), members_report(
        results, committed
    )


@pytest.mark.cluster
def test_from_beginning_never_rewinds_what_the_group_committed(
    kafka_cluster: KafkaCluster, env: dict[str, str], members: list[Member]
) -> None:
    bootstrap = kafka_cluster.bootstrap
    _topic, group, admin, run_env = filled_topic(bootstrap, env)
    half = MESSAGES // 2
    first = Member(
        kafkaredis_process(["consume", "-g", group, "-f", "json", "--count", str(half)], run_env)
    )
    members.append(first)
    first.drain("stdout")
    first.drain("stderr")
    status, earlier, err = first.finish(timeout=60)
    assert status == 0, err
    assert len(earlier) == half

    started = start_members(run_env, admin, group, ["--from", "beginning", "-e"], members)
    later: list[dict[str, Any]] = []
    for member in started:
        status, lines, err = member.finish(timeout=120)
        assert status == 0, err
        later += lines
    # Nothing the group had committed is read again, in any member, before or after the
    # rebalance; nothing is skipped.
    before = {(r["partition"], r["offset"]) for r in earlier}
    after = [(r["partition"], r["offset"]) for r in later]
    assert not before & set(after), "rewound: committed messages read again"
    assert len(after) == len(set(after)) == MESSAGES - half
    assert len(before | set(after)) == MESSAGES


def test_a_record_written_after_its_message_was_consumed_is_marked_consumed(
    services: Services, env: dict[str, str], topic: str, prefix: str, members: list[Member]
) -> None:
    """A live consumer ahead of a batch's Redis write: the records that appear later are
    still marked consumed; those that never appear are counted."""
    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.domain.messages import DeliveryReport, OutgoingMessage, StampedMessage
    from kafkaredis_cli.domain.records import MessageRecord, Status
    from kafkaredis_cli.keys import KeySpace
    from kafkaredis_cli.settings import RedisSettings

    create_topic(services.bootstrap, topic)
    cli_env = {**env, "KAFKAREDIS_KAFKA__TOPICS": topic}
    lines = "".join(f"m{i}\n" for i in range(25)).encode()
    producer = subprocess.run(
        [*PYTHON_CLI, "produce", "--file", "-", "--no-cache", "--no-verify", "--json"],
        input=lines,
        capture_output=True,
        env={**os.environ, **cli_env},
        timeout=60,
    )
    assert producer.returncode == 0, producer.stderr
    consumer = Member(
        kafkaredis_process(
            ["consume", "-g", f"g-{prefix}", "-f", "json", "--timeout", "60"], cli_env
        )
    )
    members.append(consumer)
    consumer.drain("stdout")
    consumer.drain("stderr")

    def consumed_lines() -> list[dict[str, Any]]:
        text = b"".join(consumer.out).decode()
        return [json.loads(line) for line in text.splitlines() if line]

    wait_for(lambda: len(consumed_lines()) == 25, 90, what="25 messages consumed")
    seen = consumed_lines()
    settings = RedisSettings(url=SecretStr(services.redis_url), key_prefix=prefix)
    with closing(RedisStore(settings, KeySpace(prefix))) as store:
        # The producer's Redis write comes now, after the consumer handled the messages.
        late = [
            MessageRecord.from_delivery(
                DeliveryReport(
                    StampedMessage(r["id"], topic, r["timestamp"], OutgoingMessage(b"v")),
                    r["timestamp"],
                    r["partition"],
                    r["offset"],
                )
            )
            for r in seen[:20]
        ]
        store.save(late, 600)

        def statuses() -> set[Status]:
            found = [store.get(f"msg:{r.id}") for r in late]
            return {e.record.status for e in found if e is not None and e.record is not None}

        wait_for(lambda: statuses() == {Status.CONSUMED}, 15, what="the late records marked")
    consumer.proc.send_signal(signal.SIGTERM)
    status, _lines, err = consumer.finish(timeout=30)
    assert status == 0, err
    assert "consumed 25 message(s), 20 Redis record(s) updated" in err
    assert "(5 had no Redis record" in err
