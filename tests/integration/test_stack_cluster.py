"""scripts/stack cluster modes, through the session fixtures of tests/clusters.py:
a 3-node KRaft cluster (RF 3, min ISR 2; kill, pause, restart a node), a Redis Cluster
(failover and rejoin) and Redis Sentinel (failover)."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from tests.clusters import KafkaCluster
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def _admin(cluster: KafkaCluster) -> AdminClient:
    return AdminClient({"bootstrap.servers": cluster.bootstrap})


def _new_topic(cluster: KafkaCluster, partitions: int = 3) -> str:
    """A topic created without a replication factor (the brokers' default applies)."""
    name = f"cluster-{uuid.uuid4().hex[:8]}"
    admin = _admin(cluster)
    admin.create_topics([NewTopic(name, num_partitions=partitions)])[name].result(timeout=30)

    def led() -> bool:
        topic = admin.list_topics(name, timeout=5).topics.get(name)
        return bool(
            topic
            and topic.error is None
            and len(topic.partitions) == partitions
            and all(p.leader >= 0 for p in topic.partitions.values())
        )

    wait_for(led, 30, what=f"{name} to have leaders")
    return name


def _isr_sizes(cluster: KafkaCluster, topic: str) -> list[int]:
    """In-sync replica counts by partition ([] while no broker answers in time)."""
    try:
        meta = _admin(cluster).list_topics(topic, timeout=10).topics[topic]
    except KafkaException:
        return []
    return [len(p.isrs) for p in sorted(meta.partitions.values(), key=lambda p: p.id)]


def test_three_brokers_with_rf3_and_min_isr2(kafka_cluster: KafkaCluster) -> None:
    admin = _admin(kafka_cluster)
    meta = admin.list_topics(timeout=10)
    assert sorted(meta.brokers) == [1, 2, 3]
    assert sorted(b.port for b in meta.brokers.values()) == [
        kafka_cluster.port(n) for n in kafka_cluster.node_ids
    ]
    name = _new_topic(kafka_cluster)
    partitions = admin.list_topics(name, timeout=10).topics[name].partitions.values()
    assert [sorted(p.replicas) for p in partitions] == [[1, 2, 3]] * 3
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    configs = admin.describe_configs([resource])[resource].result(timeout=10)
    assert configs["min.insync.replicas"].value == "2"


def test_killed_node_leaves_partitions_under_replicated_until_restarted(
    kafka_cluster: KafkaCluster,
) -> None:
    name = _new_topic(kafka_cluster)
    kafka_cluster.kill(2)
    try:
        # Brokers answer from their own metadata caches: ask until one says it all.
        def noticed() -> bool:
            problems = kafka_cluster.problems()
            return (
                any("brokers [2] not registered" in p for p in problems)
                and sum("under-replicated" in p for p in problems) >= 3
                and _isr_sizes(kafka_cluster, name) == [2, 2, 2]
            )

        wait_for(noticed, 30, interval=0.3, what="broker 2 missing and its partitions short")
    finally:
        kafka_cluster.start(2)
    kafka_cluster.wait_healthy(60)
    wait_for(lambda: _isr_sizes(kafka_cluster, name) == [3, 3, 3], 10, what="a full ISR")


def test_paused_node_drops_out_and_returns_when_resumed(kafka_cluster: KafkaCluster) -> None:
    name = _new_topic(kafka_cluster)
    kafka_cluster.pause(3)
    try:
        wait_for(
            lambda: _isr_sizes(kafka_cluster, name) == [2, 2, 2],
            30,
            interval=0.3,
            what="the ISR to shrink while broker 3 is paused",
        )
    finally:
        kafka_cluster.resume(3)
    kafka_cluster.wait_healthy(60)
    wait_for(lambda: _isr_sizes(kafka_cluster, name) == [3, 3, 3], 10, what="a full ISR")
