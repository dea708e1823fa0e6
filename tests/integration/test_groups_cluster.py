"""groups lag and groups reset on the 3-node cluster: offsets asked of each partition's
leader and the group's coordinator, wherever they are, and while one broker is down."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.clusters import KafkaCluster
from tests.conftest import CliResult, ok, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

Cli = Callable[..., CliResult]
PARTITIONS = 6
# librdkafka's assertion when an admin request times out mid-coordinator change (#4605).
UPSTREAM_ABORT = "rd_kafka_enq_once_del_source_return"


def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = reader.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=20)
        return {tp.partition: tp.offset for tp in found}
    finally:
        reader.close()


def test_lag_and_reset_on_a_cluster_also_with_a_broker_down(
    cli: Cli, kafka_cluster: KafkaCluster
) -> None:
    bootstrap = kafka_cluster.bootstrap
    topic = f"groups-{uuid.uuid4().hex[:8]}"
    group = f"g-{topic}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS)])[topic].result(timeout=30)
    leaders: dict[int, int] = {}

    def led() -> bool:
        info = admin.list_topics(topic, timeout=5).topics.get(topic)
        if not info or info.error is not None or len(info.partitions) != PARTITIONS:
            return False
        leaders.update({p: m.leader for p, m in info.partitions.items()})
        return all(leader >= 0 for leader in leaders.values())

    wait_for(led, 30, what=f"{topic} to have leaders")
    assert len(set(leaders.values())) > 1  # the partitions' leaders are spread
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for partition in range(PARTITIONS):
        for i in range(10):
            producer.produce(topic, f"{partition}-{i}".encode(), partition=partition)
    assert producer.flush(30) == 0

    def run(*args: str) -> dict[str, Any] | list[dict[str, Any]]:
        result = ok(cli("-b", bootstrap, *args, "--json"))
        data: dict[str, Any] | list[dict[str, Any]] = json.loads(result.stdout)
        return data

    ok(cli("-b", bootstrap, "consume", "-t", topic, "-g", group, "--count", "25", "-f", "raw"))
    [lag] = run("groups", "lag", group, "-t", topic)
    assert isinstance(lag, dict) and lag["lag"] == 60 - 25
    offsets = committed(bootstrap, group, topic)
    assert {p["partition"]: p["committed"] for p in lag["partitions"]} == {
        p: (o if o >= 0 else None) for p, o in offsets.items()
    }

    # A broker that leads some partitions goes down: the others take over, lag and reset
    # still answer once they have.
    victim = leaders[0]
    kafka_cluster.kill(victim)
    try:
        # With a broker down, in processes of their own: librdkafka's admin client can
        # abort the whole process on a request that timed out (librdkafka #4605); the
        # test session must survive that and report it as a failure.
        def apart(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "kafkaredis_cli", "-b", bootstrap, *args, "--json"],
                capture_output=True,
                text=True,
                timeout=120,
            )

        answers: list[Any] = []
        upstream_aborts: list[str] = []

        def lag_again() -> bool:
            result = apart("groups", "lag", group, "-t", topic)
            if result.returncode < 0 and UPSTREAM_ABORT in result.stderr:
                # librdkafka #4605 (open; librdkafka 2.16.0): the admin client can abort
                # when a DescribeGroups times out while the coordinator moves. Seen once
                # in CI; tolerated a few times, never as the answer.
                upstream_aborts.append(result.stderr.strip())
                assert len(upstream_aborts) <= 3, upstream_aborts
                return False
            assert result.returncode >= 0, f"groups lag died of a signal: {result.stderr}"
            if result.returncode != 0:
                return False
            [answer] = json.loads(result.stdout)
            answers.append(answer["lag"])
            return bool(answer["lag"] == 60 - 25)

        # While leadership moves, a new leader's high watermark can trail the old one's
        # for a moment (so can the lag reported): the right figure must come back.
        wait_for(lag_again, 90, interval=0.5, what="lag 35 with a broker down")
        assert answers[-1] == 60 - 25
        reset = apart("groups", "reset", group, "-t", topic, "--to-earliest", "--execute")
        assert reset.returncode == 0, reset.stderr
        plan = json.loads(reset.stdout)
        assert isinstance(plan, dict) and plan["executed"] is True
        assert committed(bootstrap, group, topic) == {p: 0 for p in range(PARTITIONS)}
    finally:
        kafka_cluster.start(victim)
        kafka_cluster.wait_healthy(120)
