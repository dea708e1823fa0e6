"""confluent-kafka adapter of the canary's topic layout (the independent consumer:
kafka_canary_follower.py).

KafkaTopicLayouts creates a canary topic with a partition led by each broker and, on
request, moves leadership back to the preferred replicas (AdminClient.elect_leaders)
and gives a broker that is preferred for no partition one of its own
(AdminClient.create_partitions with a replica assignment). confluent-kafka has no
AlterPartitionReassignments call, so existing partitions are never moved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.adapters.errors import from_kafka_exception, kafka_error_name
from kafkaredis_cli.adapters.kafka import _with_logger
from kafkaredis_cli.canary.placement import (
    PartitionPlacement,
    TopicLayout,
    striped_assignment,
)
from kafkaredis_cli.errors import KafkaError

log = logging.getLogger("kafkaredis.kafka")


def _placement(partition: Any) -> PartitionPlacement:
    return PartitionPlacement(
        leader=partition.leader, replicas=tuple(partition.replicas), isr=tuple(partition.isrs)
    )


class KafkaTopicLayouts:
    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        self._conf = dict(conf)
        self._timeout_s = timeout_s
        self._admin: Any = None

    def _client(self) -> Any:
        if self._admin is None:
            from confluent_kafka.admin import AdminClient

            try:
                # Requests time out before the calls waiting for them (librdkafka #4605).
                request_ms = str(max(1000, int(self._timeout_s * 1000)))
                conf = {"socket.timeout.ms": request_ms, **self._conf}
                self._admin = AdminClient(_with_logger(conf))
            except ck.KafkaException as exc:
                raise from_kafka_exception(exc, "Kafka admin client") from None
        return self._admin

    def _metadata(self, topic: str) -> tuple[tuple[int, ...], Any]:
        try:
            meta = self._client().list_topics(timeout=self._timeout_s)
        except ck.KafkaException as exc:
            where = self._conf.get("bootstrap.servers")
            raise from_kafka_exception(exc, f"Kafka at {where}") from None
        info = meta.topics.get(topic)
        if info is not None and (info.error is not None or not info.partitions):
            info = None
        return tuple(sorted(meta.brokers)), info

    def _layout(
        self, topic: str, actions: list[str], wait: bool, partitions: int = 0
    ) -> TopicLayout:
        """The topic as it is now; with `wait`, once it has `partitions` partitions, every
        one led by its preferred replica (a broker's metadata lags a change a little)."""
        deadline = time.monotonic() + self._timeout_s
        while True:
            brokers, info = self._metadata(topic)
            ready = (
                info is not None
                and len(info.partitions) >= partitions
                and all(
                    p.leader >= 0 and p.leader == p.replicas[0] for p in info.partitions.values()
                )
            )
            if ready or not wait or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        placements = {} if info is None else {p: _placement(m) for p, m in info.partitions.items()}
        return TopicLayout(
            topic=topic, brokers=brokers, partitions=placements, actions=tuple(actions)
        )

    def ensure(self, topic: str, *, rebalance: bool) -> TopicLayout:
        actions: list[str] = []
        brokers, info = self._metadata(topic)
        if info is None and brokers:
            self._create(topic, brokers, actions)
            return self._layout(topic, actions, wait=True, partitions=len(brokers))
        layout = self._layout(topic, actions, wait=False)
        if not rebalance or not layout.partitions:
            return layout
        stale = layout.not_preferred()
        if stale:
            self._elect(topic, stale, actions)
        missing = layout.unpreferred_brokers()
        if missing:
            self._add_partitions(topic, layout, missing, actions)
        return self._layout(
            topic,
            actions,
            wait=bool(stale or missing),
            partitions=len(layout.partitions) + len(missing),
        )

    def _result(self, future: Any, what: str) -> Any:
        try:
            return future.result(timeout=self._timeout_s * 2)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, what) from None
        except TimeoutError:
            raise KafkaError(f"{what}: no answer within {self._timeout_s * 2:g}s") from None

    def _create(self, topic: str, brokers: tuple[int, ...], actions: list[str]) -> None:
        from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

        assignment = striped_assignment(brokers, len(brokers))
        futures = self._client().create_topics(
            [NewTopic(topic, num_partitions=len(assignment), replica_assignment=assignment)],
            operation_timeout=self._timeout_s,
            request_timeout=self._timeout_s,
        )
        try:
            futures[topic].result(timeout=self._timeout_s * 2)
        except ck.KafkaException as exc:
            if kafka_error_name(exc.args[0]) == "TOPIC_ALREADY_EXISTS":
                return  # someone else (another timer) was first: use theirs
            raise from_kafka_exception(exc, f"create topic {topic!r}") from None
        except TimeoutError:
            raise KafkaError(
                f"create topic {topic!r}: no answer within {self._timeout_s * 2:g}s"
            ) from None
        leaders = ", ".join(f"{p}:{r[0]}" for p, r in enumerate(assignment))
        actions.append(
            f"created with {len(assignment)} partition(s), replication factor "
            f"{len(assignment[0])}, leaders (partition:broker) {leaders}"
        )

    def _elect(self, topic: str, partitions: list[int], actions: list[str]) -> None:
        wanted = [ck.TopicPartition(topic, p) for p in partitions]
        result = self._result(
            self._client().elect_leaders(
                # no timeout arguments: confluent-kafka 2.16 fails on them (SystemError);
                # the wait for the result is bounded instead
                ck.ElectionType.PREFERRED,
                wanted,
            ),
            f"preferred leader election on {topic!r}",
        )
        done = sorted(
            tp.partition
            for tp, error in result.items()
            if error is None or kafka_error_name(error) == "ELECTION_NOT_NEEDED"
        )
        actions.append(f"elected preferred leaders of partition(s) {done}")

    def _add_partitions(
        self, topic: str, layout: TopicLayout, brokers: list[int], actions: list[str]
    ) -> None:
        from confluent_kafka.admin import NewPartitions  # type: ignore[attr-defined]

        everyone = list(layout.brokers)
        factor = len(next(iter(layout.partitions.values())).replicas) or 1
        assignment = []
        for broker in brokers:
            others = [b for b in everyone if b != broker]
            assignment.append([broker, *others[: factor - 1]])
        total = len(layout.partitions) + len(brokers)
        futures = self._client().create_partitions(
            [NewPartitions(topic, total, replica_assignment=assignment)],
            operation_timeout=self._timeout_s,
            request_timeout=self._timeout_s,
        )
        self._result(futures[topic], f"add partitions to {topic!r}")
        actions.append(f"added {len(brokers)} partition(s) led by broker(s) {brokers}")

    def close(self) -> None:
        self._admin = None
