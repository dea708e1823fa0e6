"""Where the canary's probes go: a partition led by each broker, and a rotation over them.

A topic the timer creates gets one partition per broker (at least one), replication
factor min(3, brokers), and replica lists striped so that partition i's preferred
leader is the i-th broker: every broker leads one. Ticks then rotate over the topics
and, within a topic, over its partitions in order, so with T topics of P partitions in
all, every partition (and so every broker that leads one) is probed at least once
every P ticks (once every P x T ticks per partition when topics differ in size; the
summary and `--json` name the brokers that lead none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MAX_REPLICATION = 3


def striped_assignment(brokers: Sequence[int], partitions: int) -> list[list[int]]:
    """Replica lists for `partitions` partitions: the i-th broker leads partition i (mod
    brokers), followed by the next brokers in order."""
    ordered = sorted(brokers)
    factor = min(MAX_REPLICATION, len(ordered))
    return [[ordered[(i + r) % len(ordered)] for r in range(factor)] for i in range(partitions)]


@dataclass(frozen=True, kw_only=True, slots=True)
class PartitionPlacement:
    leader: int  # -1: no leader right now
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def preferred(self) -> int | None:
        return self.replicas[0] if self.replicas else None


@dataclass(frozen=True, kw_only=True, slots=True)
class TopicLayout:
    topic: str
    brokers: tuple[int, ...]  # the cluster's brokers
    partitions: Mapping[int, PartitionPlacement]
    actions: tuple[str, ...] = ()  # what the timer did to the topic (created, elected, …)

    @property
    def leaders(self) -> dict[int, int]:
        return {p: placement.leader for p, placement in self.partitions.items()}

    def uncovered(self) -> list[int]:
        """Brokers that lead none of the topic's partitions."""
        leading = {p.leader for p in self.partitions.values()}
        return [b for b in self.brokers if b not in leading]

    def not_preferred(self) -> list[int]:
        """Partitions led by a replica other than their preferred (first) one."""
        return [
            p
            for p, placement in self.partitions.items()
            if placement.preferred is not None and placement.leader != placement.preferred
        ]

    def unpreferred_brokers(self) -> list[int]:
        """Brokers that are the preferred leader of none of the partitions."""
        preferred = {p.preferred for p in self.partitions.values()}
        return [b for b in self.brokers if b not in preferred]

    def to_json(self) -> dict[str, object]:
        return {
            "partitions": {str(p): pl.leader for p, pl in sorted(self.partitions.items())},
            "brokers": list(self.brokers),
            "uncovered_brokers": self.uncovered(),
            "actions": list(self.actions),
        }


@dataclass
class Rotation:
    """Which partition each topic's next tick goes to: 0, 1, …, P-1, 0, …"""

    partitions: dict[str, int] = field(default_factory=dict)
    _next: dict[str, int] = field(default_factory=dict)

    def set(self, topic: str, partitions: int) -> None:
        self.partitions[topic] = max(partitions, 1)

    def next(self, topic: str) -> int | None:
        """The partition for this topic's next probe; None when the count is unknown
        (the producer's partitioner picks one)."""
        count = self.partitions.get(topic)
        if count is None:
            return None
        index = self._next.get(topic, 0)
        self._next[topic] = index + 1
        return index % count
