"""What both produce handlers are built from: their ports."""

from __future__ import annotations

from kafkaredis_cli.domain.commands import ReadBack
from kafkaredis_cli.domain.ports import MessageProducer, MessageStore


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
