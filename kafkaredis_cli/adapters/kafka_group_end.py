"""Whether a group has read a topic to its end: what a member at the end of its own
partitions (`consume -g -e`) waits for before it leaves."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import confluent_kafka as ck

log = logging.getLogger("kafkaredis.kafka")

TopicPart = tuple[str, int]

# How often a member at the end of its partitions asks the brokers again (committed
# offsets and one request a partition) while it waits for the rest of its group.
GROUP_CHECK_S = 0.5


def unread(consumer: Any, keys: Iterable[TopicPart], timeout_s: float) -> set[TopicPart]:
    """Of these partitions, those the group has not committed up to their end (and that
    hold records): another member is still reading them, or a rebalance is handing them
    on from one member to another (cooperative) and nobody holds them for a moment.
    Raises KafkaException."""
    wanted = sorted(keys)
    if not wanted:
        return set()
    tps = [ck.TopicPartition(t, p) for t, p in wanted]
    committed = {
        (tp.topic, tp.partition): tp.offset for tp in consumer.committed(tps, timeout=timeout_s)
    }
    left = set()
    for key in wanted:
        low, high = consumer.get_watermark_offsets(ck.TopicPartition(*key), timeout=timeout_s)
        if high > low and committed.get(key, -1) < high:
            left.add(key)
    return left


def names(keys: Iterable[TopicPart]) -> str:
    by_topic: dict[str, list[int]] = {}
    for topic, partition in keys:
        by_topic.setdefault(topic, []).append(partition)
    return "; ".join(f"{t} [{', '.join(map(str, sorted(p)))}]" for t, p in by_topic.items())
