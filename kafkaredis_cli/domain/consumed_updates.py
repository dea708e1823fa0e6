"""How a consumed kafkaredis message changes its Redis record: a ConsumedUpdate made from
the message's `kafkaredis-id` and `kafkaredis-sent-at` headers (consume and produce's
read-back both use these)."""

from __future__ import annotations

from collections.abc import Sequence

from kafkaredis_cli.domain.messages import (
    ID_HEADER,
    SENT_AT_HEADER,
    ConsumedRecord,
    kafkaredis_headers,
)
from kafkaredis_cli.domain.ports import ConsumedUpdate
from kafkaredis_cli.domain.records import Status

_new_update = tuple.__new__  # ConsumedUpdate without its Python __new__: once a message


def _latency(sent_at: bytes | None, consumed_at_ms: int) -> float | None:
    """Sent -> consumed in ms, from the sent-at header when it is a number."""
    try:
        return float(consumed_at_ms - int(sent_at)) if sent_at else None
    except ValueError:
        return None


def consumed_update(
    message_id: bytes, sent_at: bytes | None, consumed_at_ms: int, status: Status
) -> ConsumedUpdate:
    """The update of the record of `message_id` (the headers' values, as
    kafkaredis_headers gives them)."""
    latency = _latency(sent_at, consumed_at_ms)
    return ConsumedUpdate(message_id.decode("utf-8", "replace"), consumed_at_ms, latency, status)


def updates_for(records: Sequence[ConsumedRecord], status: Status) -> list[ConsumedUpdate]:
    """One update per record that carries a kafkaredis id; other messages change nothing.

    Runs once a consumed message: kafkaredis's own headers come first (the common case
    needs no search), and the records of one fetch share their consumed time and, many
    of them, their sent-at millisecond (the latency is worked out once for those)."""
    out: list[ConsumedUpdate] = []
    append = out.append
    latencies: dict[bytes | None, float | None] = {}
    latencies_at = -1  # the consumed time `latencies` holds figures for
    for record in records:
        headers = record[5]
        if len(headers) > 1 and headers[0][0] == ID_HEADER and headers[1][0] == SENT_AT_HEADER:
            message_id, sent = headers[0][1], headers[1][1]
        else:
            message_id, sent = kafkaredis_headers(headers)
        if not message_id:
            continue
        consumed_at = record[7]
        if consumed_at != latencies_at:
            latencies, latencies_at = {}, consumed_at
        if sent in latencies:
            latency = latencies[sent]
        else:
            latency = latencies[sent] = _latency(sent, consumed_at)
        update = (message_id.decode("utf-8", "replace"), consumed_at, latency, status)
        append(_new_update(ConsumedUpdate, update))
    return out
