"""What both produce handlers are built from: their ports, and the partition check."""

from __future__ import annotations

from kafkaredis_cli.domain.commands import ReadBack
from kafkaredis_cli.domain.messages import OutgoingMessage
from kafkaredis_cli.domain.ports import MessageProducer, MessageStore
from kafkaredis_cli.errors import UsageError


class ProduceHandler:
    """The producer, the store (None: no Redis), the read-back port and the default TTL."""

    def __init__(
        self,
        producer: MessageProducer,
        store: MessageStore | None,
        read_back: ReadBack,
        default_ttl_s: int,
    ) -> None:
        self._producer = producer
        self._store = store
        self._read_ranges = read_back  # the consume handler: read exact offsets back
        self._ttl_s = default_ttl_s


def check_partition(topic: str, message: OutgoingMessage, partitions: int) -> None:
    if message.partition is not None and not 0 <= message.partition < partitions:
        raise UsageError(
            f"topic {topic!r} has partitions 0..{partitions - 1}, not {message.partition}"
        )
