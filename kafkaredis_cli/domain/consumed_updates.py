"""How a consumed kafkaredis message changes its Redis record: a ConsumedUpdate made from
the message's `kafkaredis-id` and `kafkaredis-sent-at` headers (consume and produce's
read-back both use these)."""

from __future__ import annotations

from collections.abc import Sequence

from kafkaredis_cli.domain.messages import ConsumedRecord, kafkaredis_headers
from kafkaredis_cli.domain.ports import ConsumedUpdate
from kafkaredis_cli.domain.records import Status


def consumed_update(
    message_id: bytes, sent_at: bytes | None, consumed_at_ms: int, status: Status
) -> ConsumedUpdate:
    """The update of the record of `message_id` (the headers' values, as
    kafkaredis_headers gives them): latency from the sent-at header when it is a number."""
    try:
        latency = float(consumed_at_ms - int(sent_at)) if sent_at else None
    except ValueError:
        latency = None
    return ConsumedUpdate(message_id.decode("utf-8", "replace"), consumed_at_ms, latency, status)


def updates_for(records: Sequence[ConsumedRecord], status: Status) -> list[ConsumedUpdate]:
    """One update per record that carries a kafkaredis id; other messages change nothing."""
    out: list[ConsumedUpdate] = []
    append = out.append
    for record in records:
        message_id, sent = kafkaredis_headers(record.headers)
        if message_id:
            append(consumed_update(message_id, sent, record.consumed_at_ms, status))
    return out
