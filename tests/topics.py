"""Plain confluent-kafka helpers the tests use to see what the broker really holds."""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.conftest import wait_for


def create_topic(bootstrap: str, name: str, partitions: int = 1) -> str:
    """Create a topic and wait until every partition has a leader."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=partitions)])[name].result(timeout=30)

    def ready() -> bool:
        info = admin.list_topics(name, timeout=5).topics.get(name)
        return bool(
            info
            and info.error is None
            and len(info.partitions) == partitions
            and all(p.leader >= 0 for p in info.partitions.values())
        )

    wait_for(ready, 30, what=f"topic {name} to have leaders")
    return name


def _reader(bootstrap: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )


def _ends(consumer: Consumer, topic: str, timeout: float) -> dict[int, int]:
    """High watermarks by partition; asked again while a restarted broker finds its feet."""

    def ask() -> dict[int, int] | None:
        try:
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            return {
                p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in meta.partitions
            }
        except KafkaException:
            return None

    ends: dict[int, int] = wait_for(ask, timeout, what=f"watermarks of {topic}")  # type: ignore[assignment]
    return ends


def topic_count(bootstrap: str, topic: str, timeout: float = 30.0) -> int:
    """How many messages the topic holds (sum of the partitions' high watermarks)."""
    consumer = _reader(bootstrap)
    try:
        return sum(_ends(consumer, topic, timeout).values())
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str, timeout: float = 30.0) -> list[Any]:
    """Every message of `topic` (all partitions, beginning to end)."""
    consumer = _reader(bootstrap)
    try:
        ends = _ends(consumer, topic, timeout)
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        messages: list[Any] = []
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.2):
                if msg.error() is not None:
                    continue
                messages.append(msg)
                if msg.offset() + 1 >= ends[msg.partition()]:
                    pending.discard(msg.partition())
        assert not pending, f"partitions {pending} of {topic} not read to the end in {timeout}s"
        return messages
    finally:
        consumer.close()
