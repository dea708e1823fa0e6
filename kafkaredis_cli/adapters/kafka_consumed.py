"""The records the handlers see, from confluent-kafka messages (the hot path of every
consumer: the group and reader consumer, the share consumer, the canary's follower)."""

from __future__ import annotations

from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.domain.messages import ConsumedRecord

_NO_TIMESTAMP = ck.TIMESTAMP_NOT_AVAILABLE
_new_record = tuple.__new__  # ConsumedRecord without its Python __new__: once a message


def consumed_records(messages: list[Any], arrived_ms: int) -> list[ConsumedRecord]:
    """The records the handlers see, from confluent-kafka messages without an error (the
    others, ends of partitions and errors, are left out). One pass, each accessor called
    once: this runs once a consumed message."""
    return [
        _new_record(
            ConsumedRecord,
            (
                m.topic(),
                m.partition(),
                m.offset(),
                m.key(),
                m.value(),
                tuple(headers) if (headers := m.headers()) else (),
                stamp[1] if (stamp := m.timestamp())[0] != _NO_TIMESTAMP else None,
                arrived_ms,
            ),
        )
        for m in messages
        if m.error() is None
    ]
