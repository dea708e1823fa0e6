"""The services every other test stands on: a real produce and read-back on the broker
(confluent-kafka alone), a real SET/GET on Redis (redis-py alone)."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Producer

pytestmark = pytest.mark.integration


def test_broker_round_trip_with_confluent_kafka(services, topic):
    payload = uuid.uuid4().bytes
    producer = Producer({"bootstrap.servers": services.bootstrap})
    reports = []
    producer.produce(topic, payload, on_delivery=lambda err, msg: reports.append((err, msg)))
    assert producer.flush(30) == 0
    assert reports and reports[0][0] is None
    consumer = Consumer(
        {
            "bootstrap.servers": services.bootstrap,
            "group.id": f"smoke-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([topic])
        got = None
        for _ in range(100):
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                got = msg.value()
                break
        assert got == payload
    finally:
        consumer.close()


def test_redis_set_get(redis_client, prefix):
    key = f"{prefix}:smoke"
    redis_client.set(key, b"\xff\x00value", ex=60)
    assert redis_client.get(key) == b"\xff\x00value"
    assert 0 < redis_client.ttl(key) <= 60
    redis_client.delete(key)
