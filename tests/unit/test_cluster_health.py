"""check's Kafka rows from one metadata snapshot: each cluster problem is a failing row."""

from __future__ import annotations

from dataclasses import replace

from kafkaredis_cli.domain.cluster_health import (
    ClusterInfo,
    Expectations,
    PartitionState,
    kafka_health,
)

BOOTSTRAP = "127.0.0.1:1,127.0.0.1:3,127.0.0.1:5"


def cluster(
    brokers: tuple[int, ...] = (1, 2, 3),
    parts: tuple[PartitionState, ...] | None = None,
    min_isr: int | None = 2,
) -> ClusterInfo:
    parts = parts or tuple(PartitionState(p, 1 + p % 3, (1, 2, 3), (1, 2, 3)) for p in range(3))
    return ClusterInfo(
        cluster_id="c1",
        controller_id=1,
        brokers=tuple(f"{b}@127.0.0.1:{2 * b - 1}" for b in brokers),
        topics={"orders": len(parts), "later": -1},
        broker_ids=brokers,
        broker_addresses=tuple(f"127.0.0.1:{2 * b - 1}" for b in brokers),
        partitions={"orders": parts},
        min_insync={"orders": min_isr},
    )


def rows(info: ClusterInfo, brokers: int | None = None) -> list[tuple[str, str, bool, str]]:
    return [
        (r.check, r.target, r.ok, r.detail)
        for r in kafka_health(info, Expectations(BOOTSTRAP, brokers))
    ]


def test_a_healthy_cluster_passes_every_check() -> None:
    got = rows(cluster(), brokers=3)
    assert [(c, ok) for c, _t, ok, _d in got] == [
        ("cluster", True),
        ("brokers", True),
        ("topic", True),
        ("topic", True),
    ]
    assert got[1][3] == "3 of 3 registered (1,2,3)"
    assert got[2][1:] == (
        "orders",
        True,
        "3 partition(s), replication factor 3, min.insync.replicas 2",
    )
    assert got[3][1] == "later" and "not created yet" in got[3][3]
    # Without an expected count, a healthy cluster has no brokers row at all.
    assert [c for c, *_ in rows(cluster())] == ["cluster", "topic", "topic"]


def test_a_killed_broker_is_named_with_the_under_replicated_partitions() -> None:
    parts = tuple(PartitionState(p, 1 if p != 1 else 3, (1, 2, 3), (1, 3)) for p in range(3))
    got = {c: (ok, d) for c, _t, ok, d in rows(cluster(brokers=(1, 3), parts=parts))}
    ok, detail = got["brokers"]
    assert not ok
    assert "missing: broker 2 (a replica of 3 partition(s))" in detail
    assert "127.0.0.1:3" in detail  # its bootstrap address answers for no broker
    ok, detail = got["under-replicated"]
    assert not ok and detail == (
        "under-replicated partitions: 0 (in sync 1,3 of 1,2,3), 1 (in sync 1,3 of 1,2,3), "
        "2 (in sync 1,3 of 1,2,3)"
    )
    assert "below min.insync.replicas" not in got  # 2 in sync: acks=all still works


def test_fewer_brokers_than_expected_fail_even_when_no_partition_names_them() -> None:
    got = rows(cluster(brokers=(1, 2, 3)), brokers=4)
    brokers = next(r for r in got if r[0] == "brokers")
    assert brokers[1:] == ("expected 4", False, "3 of 4 expected brokers registered")


def test_leaderless_and_below_min_insync_partitions_fail() -> None:
    parts = (
        PartitionState(0, -1, (2,), ()),
        PartitionState(1, 3, (1, 2, 3), (3,)),
        PartitionState(2, 1, (1, 2, 3), (1, 2, 3)),
    )
    got = {c: (ok, d) for c, _t, ok, d in rows(cluster(brokers=(1, 3), parts=parts))}
    assert got["leaderless"] == (False, "partitions without a leader: 0 (replicas 2)")
    assert got["under-replicated"] == (False, "under-replicated partitions: 1 (in sync 3 of 1,2,3)")
    assert got["below min.insync.replicas"] == (
        False,
        "in-sync replicas below min.insync.replicas 2 (acks=all produce refused): "
        "0 (in sync none), 1 (in sync 3)",
    )


def test_an_unknown_min_insync_is_not_a_failure() -> None:
    parts = (PartitionState(0, 1, (1, 2, 3), (1,)),)
    got = rows(cluster(parts=parts, min_isr=None))
    checks = [c for c, *_ in got]
    assert "below min.insync.replicas" not in checks and "under-replicated" in checks
    assert got[1][3] == "1 partition(s), replication factor 3, min.insync.replicas unknown"


def test_a_bootstrap_address_no_broker_has_fails_without_other_evidence() -> None:
    # Broker 2 is gone and holds no partition: only its silent bootstrap address tells.
    parts = (PartitionState(0, 1, (1, 3), (1, 3)),)
    got = {c: (ok, d) for c, _t, ok, d in rows(cluster(brokers=(1, 3), parts=parts))}
    assert got["brokers"] == (False, "bootstrap address(es) no registered broker has: 127.0.0.1:3")
    # The adapter's resolved answer wins over comparing the strings.
    resolved = replace(cluster(brokers=(1, 3), parts=parts), silent_bootstrap=())
    assert "brokers" not in {c for c, *_ in rows(resolved)}


def test_every_topic_is_inspected_and_the_others_share_one_row_per_check() -> None:
    info = replace(
        cluster(brokers=(1, 3)),
        partitions={
            "orders": (PartitionState(0, 1, (1, 3), (1, 3)),),
            "__consumer_offsets": (
                PartitionState(0, 1, (1, 2, 3), (1, 3)),
                PartitionState(1, 2, (2, 1, 3), (2,)),  # its leader is not registered
            ),
            "audit": (PartitionState(0, 3, (3, 2), (3,)),),
        },
    )
    got = {(c, t): (ok, d) for c, t, ok, d in rows(info)}
    assert ("offline replicas", "orders") not in got and ("under-replicated", "orders") not in got
    assert got[("offline replicas", "other topics")] == (
        False,
        "partitions with offline replicas (on brokers not registered): "
        "__consumer_offsets/0 (offline 2), __consumer_offsets/1 (offline 2), audit/0 (offline 2)",
    )
    assert got[("leaderless", "other topics")] == (
        False,
        "partitions without a leader: __consumer_offsets/1 (leader 2 not registered, "
        "replicas 2,1,3)",
    )
    assert got[("under-replicated", "other topics")] == (
        False,
        "under-replicated partitions: __consumer_offsets/0 (in sync 1,3 of 1,2,3), "
        "audit/0 (in sync 3 of 3,2)",
    )
    assert "missing: broker 2 (a replica of 3 partition(s))" in got[("brokers", "brokers")][1]


def test_a_bootstrap_name_that_resolves_to_a_broker_address_is_that_broker() -> None:
    from kafkaredis_cli.adapters.kafka_metadata import silent_addresses

    registered = ["127.0.0.1:9092", "127.0.0.1:9094"]
    assert silent_addresses("localhost:9092, 127.0.0.1:9094", registered) == ()
    assert silent_addresses("localhost:9096,127.0.0.1:9092", registered) == ("localhost:9096",)
    assert silent_addresses("127.1:9092,[::ffff:127.0.0.1]:9094", registered) == ()
    assert silent_addresses("no-such-host.invalid:9092", registered) == (
        "no-such-host.invalid:9092",
    )
