"""An idempotent producer gets its producer id right after its topic check, instead of on
librdkafka's 500 ms retry timer (issue 16: a one-shot `produce MSG` near the Python floor).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from kafkaredis_cli.adapters.kafka import PID_TIMER_S, KafkaProducerAdapter
from kafkaredis_cli.domain.messages import DeliveryReport, OutgoingMessage, stamp
from tests.conftest import Services, wait_for

pytestmark = pytest.mark.integration


def _created_to_delivered(bootstrap: str, topic: str) -> float:
    """Seconds from a fresh idempotent producer's topic check to its first delivery."""
    producer = KafkaProducerAdapter(
        {"bootstrap.servers": bootstrap, "enable.idempotence": "true", "linger.ms": "0"}, 10.0
    )
    reports: list[DeliveryReport] = []
    try:
        started = time.monotonic()
        producer.check_topic(topic)  # creates the client, as the produce handler does
        producer.produce(stamp(topic, OutgoingMessage(value=b"x")), reports.append)

        def delivered() -> bool:
            producer.poll(0.01)
            return bool(reports)

        wait_for(delivered, timeout=10, interval=0.001, what="the delivery report")
        assert reports[0].ok, reports[0].error
        return time.monotonic() - started
    finally:
        producer.close()


def test_first_delivery_does_not_wait_for_the_producer_id_timer(
    services: Services, make_topic: Callable[..., str], topic: str
) -> None:
    make_topic(topic)
    # Without the extra metadata request most runs wait the whole timer (the first
    # metadata answer usually comes from the bootstrap connection, which does not start
    # the producer id request): three fresh producers in a row all beat it.
    times: list[Any] = [_created_to_delivered(services.bootstrap, topic) for _ in range(3)]
    assert max(times) < PID_TIMER_S * 0.9, times
