"""The ports only the canary uses: its topics' layout, and the independent consumer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from kafkaredis_cli.canary.placement import TopicLayout
from kafkaredis_cli.domain.messages import ConsumedRecord


class TopicLayouts(Protocol):
    def ensure(self, topic: str, *, rebalance: bool) -> TopicLayout:
        """The topic's partitions and leaders. A missing topic is created with a
        partition led by each broker; with `rebalance`, leadership is moved back to the
        preferred replicas, and a broker preferred for none gets a partition of its own."""

    def close(self) -> None: ...


class TopicFollower(Protocol):
    """Reads every partition of the topics, from their end at start(), continuously."""

    def start(self, topics: Sequence[str]) -> None:
        """Assign every partition at its current end (returns once positioned)."""

    def take(self) -> list[ConsumedRecord]:
        """What was read since the last call (at most a bounded number)."""

    def leaders(self) -> Mapping[tuple[str, int], int]:
        """The last known leader of each partition (refreshed in the background)."""

    def brokers(self) -> frozenset[int] | None:
        """The brokers in the cluster's metadata at the last refresh (None: not known)."""

    def catch_up(self, timeout_s: float) -> bool:
        """Read up to the partitions' current ends; False if not done in time."""

    def close(self) -> None: ...
