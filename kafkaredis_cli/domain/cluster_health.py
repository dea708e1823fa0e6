"""What `check` says about a Kafka cluster: a table of checks over one metadata snapshot.

Each check turns the snapshot into rows (service, target, ok, detail); a failing row
makes `check` exit 1. Missing brokers (fewer than expected, a replica on a broker that is
not registered, a bootstrap address no registered broker has), partitions without a
leader, with offline replicas, under-replicated, and partitions whose in-sync replicas
are fewer than the topic's `min.insync.replicas` (where an `acks=all` produce is refused)
each fail. The partition checks cover every topic the snapshot lists (internal ones such
as __consumer_offsets too): the configured topics get a row each, the others one row
per check ("other topics"), as `kafka-topics --describe --under-replicated-partitions
--unavailable-partitions` would list them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class PartitionState:
    id: int
    leader: int  # -1: none
    replicas: tuple[int, ...]
    isrs: tuple[int, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterInfo:
    cluster_id: str | None
    controller_id: int | None
    brokers: tuple[str, ...]  # "id@host:port" of every registered broker
    topics: Mapping[str, int]  # configured topic -> partitions (or -1 when missing)
    broker_ids: tuple[int, ...] = ()
    broker_addresses: tuple[str, ...] = ()  # "host:port" of every registered broker
    partitions: Mapping[str, tuple[PartitionState, ...]] = field(default_factory=dict)
    min_insync: Mapping[str, int | None] = field(default_factory=dict)  # None: unknown
    # Bootstrap addresses no registered broker has (resolved by the adapter; None: compare
    # the configured addresses with broker_addresses as written).
    silent_bootstrap: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class CheckRow:
    service: str
    target: str
    ok: bool
    detail: str
    check: str | None = None  # which Kafka check made the row (Redis rows: None)
    data: Mapping[str, Any] | None = None  # more fields for --json (a certificate's dates)

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "service": self.service,
            "target": self.target,
            "ok": self.ok,
            "detail": self.detail,
        }
        if self.check is not None:
            row["check"] = self.check
        if self.data:
            row.update(self.data)
        return row


@dataclass(frozen=True, slots=True)
class Expectations:
    bootstrap: str  # the configured bootstrap servers, host:port,...
    brokers: int | None = None  # how many brokers the cluster should have


Check = Callable[[ClusterInfo, Expectations], list[CheckRow]]
OTHER_TOPICS = "other topics"  # the target of a row about topics not configured


def _ids(values: Sequence[int]) -> str:
    return ",".join(map(str, values))


def _partition_list(items: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … ({len(items)} in all)" if len(items) > limit else "")


def check_cluster(cluster: ClusterInfo, expect: Expectations) -> list[CheckRow]:
    controller = "" if cluster.controller_id is None else f", controller {cluster.controller_id}"
    detail = f"cluster {cluster.cluster_id}{controller}, brokers {', '.join(cluster.brokers)}"
    return [CheckRow("kafka", expect.bootstrap, True, detail, "cluster")]


def check_brokers(cluster: ClusterInfo, expect: Expectations) -> list[CheckRow]:
    """A row when a broker count is expected, or when some broker is missing: one the
    partitions name as a replica, or a bootstrap address no registered broker has."""
    registered = set(cluster.broker_ids)
    named = {r for parts in cluster.partitions.values() for p in parts for r in p.replicas}
    unregistered = sorted(named - registered)
    silent = list(cluster.silent_bootstrap or ())
    if cluster.silent_bootstrap is None:
        addresses = set(cluster.broker_addresses)
        configured = (s.strip() for s in expect.bootstrap.split(","))
        silent = [a for a in configured if a and a not in addresses]
    problems = []
    if unregistered:
        holding = {
            b: sum(1 for parts in cluster.partitions.values() for p in parts if b in p.replicas)
            for b in unregistered
        }
        named_missing = [
            f"broker {b} (a replica of {holding[b]} partition(s))" for b in unregistered
        ]
        problems.append("missing: " + ", ".join(named_missing))
    if silent:
        problems.append(f"bootstrap address(es) no registered broker has: {', '.join(silent)}")
    count = len(registered)
    if expect.brokers is not None and count < expect.brokers:
        problems.insert(0, f"{count} of {expect.brokers} expected brokers registered")
    if not problems and expect.brokers is None:
        return []
    target = f"expected {expect.brokers}" if expect.brokers is not None else "brokers"
    if problems:
        return [CheckRow("kafka brokers", target, False, "; ".join(problems), "brokers")]
    detail = f"{count} of {expect.brokers} registered ({_ids(sorted(registered))})"
    if expect.brokers is not None and count > expect.brokers:
        detail += f"; more than expected ({expect.brokers})"
    return [CheckRow("kafka brokers", target, True, detail, "brokers")]


def check_topics(cluster: ClusterInfo, expect: Expectations) -> list[CheckRow]:
    rows = []
    for topic, count in cluster.topics.items():
        if count < 0:
            detail = "not created yet (created on first produce if the broker allows)"
        else:
            detail = f"{count} partition(s)"
            parts = cluster.partitions.get(topic, ())
            if parts:
                factors = sorted({len(p.replicas) for p in parts})
                detail += f", replication factor {'/'.join(map(str, factors))}"
            min_isr = cluster.min_insync.get(topic)
            detail += f", min.insync.replicas {'unknown' if min_isr is None else min_isr}"
        rows.append(CheckRow("kafka topic", topic, True, detail, "topic"))
    return rows


def _partition_check(
    name: str,
    what: str,
    broken: Callable[[PartitionState, frozenset[int], int | None], bool],
    describe: Callable[[PartitionState, frozenset[int]], str],
) -> Check:
    """A check that fails a topic when any of its partitions is `broken`."""

    def run(cluster: ClusterInfo, expect: Expectations) -> list[CheckRow]:
        rows = []
        others: list[str] = []  # topic/partition of the topics not configured
        registered = frozenset(cluster.broker_ids)
        for topic, parts in cluster.partitions.items():
            min_isr = cluster.min_insync.get(topic)
            bad = [describe(p, registered) for p in parts if broken(p, registered, min_isr)]
            if bad and topic not in cluster.topics:
                others.extend(f"{topic}/{b}" for b in bad)
            elif bad:
                title = what.format(min_isr=min_isr)
                detail = f"{title}: {_partition_list(bad)}"
                rows.append(CheckRow("kafka topic", topic, False, detail, name))
        if others:
            detail = f"{what.format(min_isr=None)}: {_partition_list(others)}"
            rows.append(CheckRow("kafka topic", OTHER_TOPICS, False, detail, name))
        return rows

    return run


def _offline(p: PartitionState, registered: frozenset[int]) -> list[int]:
    return [r for r in p.replicas if r not in registered]


def _leaderless(p: PartitionState, registered: frozenset[int]) -> bool:
    return p.leader < 0 or p.leader not in registered


def _leader(p: PartitionState) -> str:
    return f"leader {p.leader} not registered, " if p.leader >= 0 else ""


check_leaderless = _partition_check(
    "leaderless",
    "partitions without a leader",
    lambda p, registered, _min: _leaderless(p, registered),
    lambda p, _registered: f"{p.id} ({_leader(p)}replicas {_ids(p.replicas)})",
)
check_offline_replicas = _partition_check(
    "offline replicas",
    "partitions with offline replicas (on brokers not registered)",
    lambda p, registered, _min: bool(_offline(p, registered)),
    lambda p, registered: f"{p.id} (offline {_ids(_offline(p, registered))})",
)
check_under_replicated = _partition_check(
    "under-replicated",
    "under-replicated partitions",
    lambda p, registered, _min: not _leaderless(p, registered) and len(p.isrs) < len(p.replicas),
    lambda p, _registered: f"{p.id} (in sync {_ids(p.isrs)} of {_ids(p.replicas)})",
)
check_below_min_isr = _partition_check(
    "below min.insync.replicas",
    "in-sync replicas below min.insync.replicas {min_isr} (acks=all produce refused)",
    lambda p, _registered, min_isr: min_isr is not None and len(p.isrs) < min_isr,
    lambda p, _registered: f"{p.id} (in sync {_ids(p.isrs) or 'none'})",
)

# The checks, in the order their rows are shown.
KAFKA_CHECKS: tuple[Check, ...] = (
    check_cluster,
    check_brokers,
    check_topics,
    check_leaderless,
    check_offline_replicas,
    check_under_replicated,
    check_below_min_isr,
)


def kafka_health(cluster: ClusterInfo, expect: Expectations) -> list[CheckRow]:
    return [row for check in KAFKA_CHECKS for row in check(cluster, expect)]
