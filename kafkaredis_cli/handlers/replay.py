"""ReplayMessageHandler: the record from the store, then a ProduceMessage (its port)."""

from __future__ import annotations

from kafkaredis_cli.domain.commands import Produce, ProduceMessage
from kafkaredis_cli.domain.messages import ID_HEADER, SENT_AT_HEADER, OutgoingMessage
from kafkaredis_cli.domain.ports import MessageStore
from kafkaredis_cli.domain.replay import REPLAY_HEADER, ReplayMessage, ReplayResult
from kafkaredis_cli.errors import NotFoundError

# Headers a replay writes itself (the producer adds a new id and send time).
_OWN_HEADERS = (ID_HEADER, SENT_AT_HEADER, REPLAY_HEADER)


class ReplayMessageHandler:
    def __init__(self, store: MessageStore, produce: Produce) -> None:
        self._store = store
        self._produce = produce  # the ProduceMessage handler

    def handle(self, command: ReplayMessage) -> ReplayResult:
        entry = self._store.get(command.id)
        if entry is None or entry.record is None:
            raise NotFoundError(
                f"no cached message {command.id!r} to replay (unknown id, or its record expired)"
            )
        original = entry.record
        headers = (
            *(h for h in original.headers if h[0] not in _OWN_HEADERS),
            (REPLAY_HEADER, original.id.encode()),
        )
        produced = self._produce(
            ProduceMessage(
                topic=command.topic or original.topic,
                message=OutgoingMessage(original.value, original.key, headers, command.partition),
                verify=command.verify,
                cache=command.cache,
                ttl_seconds=command.ttl_seconds,
                timeout_s=command.timeout_s,
            )
        )
        return ReplayResult(original=original, produced=produced)
