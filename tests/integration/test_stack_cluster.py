"""scripts/stack cluster modes, through the session fixtures of tests/clusters.py:
a 3-node KRaft cluster (RF 3, min ISR 2; kill, pause, restart a node), a Redis Cluster
(failover and rejoin) and Redis Sentinel (failover)."""

from __future__ import annotations

import uuid

import pytest
import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, PartitionMetadata

from tests.clusters import SENTINEL_SERVICE, KafkaCluster, RedisClusterNodes, RedisSentinel
from tests.conftest import wait_for
from tests.topics import create_topic

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def _admin(cluster: KafkaCluster) -> AdminClient:
    return AdminClient({"bootstrap.servers": cluster.bootstrap})


def _new_topic(cluster: KafkaCluster, partitions: int = 3) -> str:
    """A topic created without a replication factor (the brokers' default applies)."""
    return create_topic(cluster.bootstrap, f"cluster-{uuid.uuid4().hex[:8]}", partitions)


def _partitions(cluster: KafkaCluster, topic: str) -> list[PartitionMetadata]:
    """The topic's partitions by id, as one broker sees them ([] if it does not answer)."""
    try:
        meta = _admin(cluster).list_topics(topic, timeout=10).topics[topic]
    except KafkaException:
        return []
    return sorted(meta.partitions.values(), key=lambda p: p.id)


def _isr_sizes(cluster: KafkaCluster, topic: str) -> list[int]:
    return [len(p.isrs) for p in _partitions(cluster, topic)]


def _replica_sets(cluster: KafkaCluster, topic: str) -> list[list[int]]:
    return [sorted(p.replicas) for p in _partitions(cluster, topic)]


def _topic_config(cluster: KafkaCluster, topic: str, key: str) -> str | None:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    admin = _admin(cluster)  # kept alive until the answer is in
    try:
        configs = admin.describe_configs([resource])[resource].result(timeout=10)
    except KafkaException:
        return None
    return str(configs[key].value)


def test_three_brokers_with_rf3_and_min_isr2(kafka_cluster: KafkaCluster) -> None:
    admin = _admin(kafka_cluster)
    meta = admin.list_topics(timeout=10)
    assert sorted(meta.brokers) == [1, 2, 3]
    assert sorted(b.port for b in meta.brokers.values()) == [
        kafka_cluster.port(n) for n in kafka_cluster.node_ids
    ]
    name = _new_topic(kafka_cluster)
    # Each broker answers from its own metadata: one may not know the new topic yet.
    wait_for(
        lambda: _replica_sets(kafka_cluster, name) == [[1, 2, 3]] * 3,
        10,
        interval=0.2,
        what="3 partitions, each on brokers 1, 2 and 3",
    )
    wait_for(
        lambda: _topic_config(kafka_cluster, name, "min.insync.replicas") == "2",
        10,
        interval=0.2,
        what="min.insync.replicas 2",
    )


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
                and set(kafka_cluster.leaders(name).values()) <= {1, 3}
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


# --------------------------------------------------------------------------
# Redis Cluster


def test_redis_cluster_has_three_primaries_with_replicas_over_all_slots(
    redis_cluster: RedisClusterNodes,
) -> None:
    client = redis.RedisCluster.from_url(redis_cluster.url)
    try:
        info = client.cluster_info(target_nodes=redis.RedisCluster.RANDOM)
        assert info["cluster_state"] == "ok"
        assert int(info["cluster_slots_ok"]) == 16384
        primaries = redis_cluster.primaries()
        assert len(primaries) == 3
        assert all(redis_cluster.replica_of(p) is not None for p in primaries)
        keys = [f"stack-test-{i}" for i in range(30)]
        for key in keys:
            client.set(key, key)
        assert [client.get(k) for k in keys] == [k.encode() for k in keys]
        owners = {client.get_node_from_key(k).port for k in keys}
        assert owners == set(primaries)  # the keys spread over every primary
    finally:
        client.close()


def test_redis_cluster_promotes_the_replica_of_a_killed_primary(
    redis_cluster: RedisClusterNodes,
) -> None:
    victim = redis_cluster.primaries()[0]
    replica = redis_cluster.replica_of(victim)
    assert replica is not None
    client = redis.RedisCluster.from_url(redis_cluster.url)
    key = next(f"k{i}" for i in range(10_000) if client.get_node_from_key(f"k{i}").port == victim)
    client.set(key, "kept")
    client.close()
    with redis.Redis(port=victim) as direct:  # the write reached the replica
        assert direct.execute_command("WAIT", 1, 5000) == 1

    redis_cluster.kill(victim)
    try:
        wait_for(
            lambda: redis_cluster.view().get(replica, ("", None))[0] == "master",
            30,
            interval=0.2,
            what=f"replica {replica} to be promoted",
        )
        wait_for(
            lambda: _cluster_ok(replica), 30, interval=0.2, what="cluster_state:ok after failover"
        )
        with redis.Redis(port=replica) as promoted:
            assert promoted.get(key) == b"kept"
    finally:
        redis_cluster.start(victim)
    wait_for(
        lambda: redis_cluster.view().get(victim) == ("slave", replica),
        30,
        interval=0.2,
        what=f"{victim} to rejoin as a replica of {replica}",
    )
    redis_cluster.wait_healthy(60)


def test_make_whole_resumes_and_restarts_what_a_test_left_behind(
    redis_cluster: RedisClusterNodes,
) -> None:
    replicas = [p for p, (role, _) in redis_cluster.view().items() if role == "slave"]
    redis_cluster.kill(replicas[0])
    redis_cluster.pause(replicas[1])
    assert not redis_cluster.healthy()
    redis_cluster.make_whole()
    assert redis_cluster.healthy()
    view = redis_cluster.view()
    assert view[replicas[0]][0] == view[replicas[1]][0] == "slave"


def _cluster_ok(port: int) -> bool:
    with redis.Redis(port=port, socket_timeout=2) as client:
        return bool(client.cluster("INFO")["cluster_state"] == "ok")


# --------------------------------------------------------------------------
# Redis Sentinel


def test_sentinel_names_a_new_master_when_the_master_is_killed(
    redis_sentinel: RedisSentinel,
) -> None:
    sentinel = redis.Sentinel([("127.0.0.1", redis_sentinel.sentinel_port)], socket_timeout=2)
    master = sentinel.master_for(SENTINEL_SERVICE)
    master.set("stack-test", "before")
    assert master.execute_command("WAIT", 1, 5000) == 1

    old = redis_sentinel.kill_master()
    try:
        new = redis_sentinel.wait_master_changed(old, 30)
        assert new in redis_sentinel.data_ports and new != old
        with redis.Redis(port=new) as promoted:
            assert promoted.info("replication")["role"] == "master"
        wait_for(lambda: _writes(master), 10, interval=0.2, what="a write through the sentinel")
        assert master.get("stack-test") == b"after"
    finally:
        redis_sentinel.start(old)
    redis_sentinel.wait_healthy(60)
    with redis.Redis(port=old) as rejoined:
        assert rejoined.info("replication")["role"] == "slave"
    master.close()


def _writes(master: redis.Redis) -> bool:
    try:
        master.set("stack-test", "after")
    except redis.RedisError:
        return False
    return True
