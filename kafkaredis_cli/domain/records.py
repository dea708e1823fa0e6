"""The Redis message record: what Redis keeps of a message, its one stored form (a
string per message) and its JSON shape (the message JSON shapes: message_json.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from kafkaredis_cli.domain.message_json import headers_from_json, headers_to_json, key_value_json
from kafkaredis_cli.domain.messages import DeliveryReport, Headers


class Status(StrEnum):
    DELIVERED = "delivered"
    CONSUMED = "consumed"
    VERIFIED = "verified"


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def iso(ms: int | None) -> str:
    """Epoch milliseconds as ISO 8601 UTC, for people."""
    if ms is None:
        return "-"
    return _iso(ms)


@lru_cache(maxsize=4096)  # a batch's messages share their milliseconds: consume's table
def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


# Every record (a single message, a batch's, a timer tick's) is one string: a
# fixed-width first line with what `consume` changes (status, consumed_at, latency_ms) so
# it is rewritten in place (SETRANGE 0), then "kr1 id partition offset sent_at
# delivered_at key_len value_len topic", the headers as JSON, and the key and value bytes
# as they are. Chosen over a hash of the same fields by measurement: a hash took 2.3x
# the memory and 2.5x the client's CPU to write (HSET of ten fields plus EXPIRE).
BLOB_MAGIC = "kr1"
STATE_WIDTH = 64  # bytes of the first line, newline included


def state_line(status: str, consumed_at_ms: int | None, latency_ms: float | None) -> bytes:
    """The first line of a stored record (the Redis script that marks it writes the same)."""
    consumed = "-" if consumed_at_ms is None else consumed_at_ms
    latency = "-" if latency_ms is None else repr(latency_ms)
    return f"{f'{status} {consumed} {latency}':<{_STATE_TEXT}.{_STATE_TEXT}}\n".encode()


_STATE_TEXT = STATE_WIDTH - 1  # the line's text, cut or padded with spaces to this


_DELIVERED_LINE = state_line(Status.DELIVERED.value, None, None).decode()
BLOB_PREFIXES = tuple(s.value.encode() + b" " for s in Status)  # how a stored record starts
BLOB_HEAD_BYTES = STATE_WIDTH + 512  # the first two lines (Kafka topics: <= 249 chars)


def blob_summary(head: bytes) -> dict[str, Any]:
    """topic, partition, offset and status from the first two lines of a stored record."""
    lines = head.split(b"\n", 2)
    if len(lines) < 3:
        raise ValueError("not a kafkaredis record (or its head is cut short)")
    state, meta, _ = lines
    fields = meta.decode().split(" ", 8)
    if len(fields) != 9 or fields[0] != BLOB_MAGIC:
        raise ValueError("not a kafkaredis record")
    return {
        "topic": fields[8],
        "partition": int(fields[2]),
        "offset": int(fields[3]),
        "status": state.split(b" ", 1)[0].decode(),
    }


_headers_cache: dict[Headers, str] = {(): "[]"}


def _headers_text(headers: Headers) -> str:
    """Headers as JSON text; a batch's lines usually share theirs, so remember a few."""
    text = _headers_cache.get(headers)
    if text is None:
        text = json.dumps(headers_to_json(headers), separators=(",", ":"))
        if len(_headers_cache) < 256:
            _headers_cache[headers] = text
    return text


def record_blob(
    message_id: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Headers,
    sent_at_ms: int,
    delivered_at_ms: int | None,
    state: str = _DELIVERED_LINE,
) -> bytes:
    """A record's stored form (see above), in one pass: a batch encodes each delivered
    message with this straight from its delivery report, no MessageRecord made."""
    return (
        f"{state}{BLOB_MAGIC} {message_id} {partition} {offset} {sent_at_ms} "
        f"{'-' if delivered_at_ms is None else delivered_at_ms} "
        f"{-1 if key is None else len(key)} {-1 if value is None else len(value)} "
        f"{topic}\n{_headers_text(headers)}\n"
    ).encode() + b"".join((key or b"", value or b""))


class MessageRecord(NamedTuple):
    """What Redis keeps of one message (under `<prefix>:msg:<id>`).

    A NamedTuple (immutable, typed) rather than a frozen dataclass: a batch makes one
    per delivered message, and a NamedTuple is built several times faster.
    """

    id: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    sent_at_ms: int
    delivered_at_ms: int | None = None
    consumed_at_ms: int | None = None
    latency_ms: float | None = None
    status: Status = Status.DELIVERED

    @classmethod
    def from_delivery(cls, report: DeliveryReport) -> MessageRecord:
        stamped = report.message
        message = stamped.message
        return cls(  # positional: the field order above
            stamped.id,
            stamped.topic,
            report.partition,
            report.offset,
            message.key,
            message.value,
            message.headers,
            stamped.sent_at_ms,
            report.delivered_at_ms,
        )

    def consumed(self, at_ms: int, status: Status = Status.CONSUMED) -> MessageRecord:
        return self._replace(
            consumed_at_ms=at_ms, latency_ms=float(at_ms - self.sent_at_ms), status=status
        )

    def to_hash(self) -> dict[str, bytes | str | int | float]:
        """The hash versions before one record format wrote for single messages (read by
        from_hash; the store writes to_blob only)."""
        fields: dict[str, bytes | str | int | float] = {
            "id": self.id,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "headers": json.dumps(headers_to_json(self.headers), separators=(",", ":")),
            "sent_at": self.sent_at_ms,
            "status": self.status.value,
        }
        if self.key is not None:
            fields["key"] = self.key
        if self.value is not None:
            fields["value"] = self.value
        if self.delivered_at_ms is not None:
            fields["delivered_at"] = self.delivered_at_ms
        if self.consumed_at_ms is not None:
            fields["consumed_at"] = self.consumed_at_ms
        if self.latency_ms is not None:
            fields["latency_ms"] = self.latency_ms
        return fields

    @classmethod
    def from_hash(cls, data: Mapping[bytes, bytes]) -> MessageRecord:
        def text(name: str) -> str | None:
            raw = data.get(name.encode())
            return raw.decode("utf-8", "replace") if raw is not None else None

        def integer(name: str) -> int | None:
            raw = text(name)
            return int(raw) if raw not in (None, "") else None

        latency = text("latency_ms")
        return cls(
            id=text("id") or "",
            topic=text("topic") or "",
            partition=_or(integer("partition"), -1),
            offset=_or(integer("offset"), -1),
            key=data.get(b"key"),
            value=data.get(b"value"),
            headers=headers_from_json(json.loads(text("headers") or "[]"), "stored record"),
            sent_at_ms=integer("sent_at") or 0,
            delivered_at_ms=integer("delivered_at"),
            consumed_at_ms=integer("consumed_at"),
            latency_ms=float(latency) if latency else None,
            status=Status(text("status") or Status.DELIVERED.value),
        )

    def to_blob(self) -> bytes:
        """The one form a record is stored in (a Redis string per message; see state_line)."""
        if self.consumed_at_ms is None and self.status is Status.DELIVERED:
            state = _DELIVERED_LINE
        else:
            state = state_line(self.status.value, self.consumed_at_ms, self.latency_ms).decode()
        return record_blob(*self[:9], state)

    @classmethod
    def from_blob(cls, raw: bytes) -> MessageRecord:
        """Read what to_blob wrote (and what mark_consumed rewrote in its first line)."""
        try:
            state, meta, headers, payload = raw.split(b"\n", 3)
            status, consumed, latency = state.decode().split()
            fields = meta.decode().split(" ", 8)
            magic, mid, partition, offset, sent, delivered, klen, vlen, topic = fields
            if magic != BLOB_MAGIC:
                raise ValueError(f"unknown record format {magic!r}")
            key_len, value_len = int(klen), int(vlen)
            start = max(key_len, 0)
            return cls(
                id=mid,
                topic=topic,
                partition=int(partition),
                offset=int(offset),
                key=payload[:key_len] if key_len >= 0 else None,
                value=payload[start : start + value_len] if value_len >= 0 else None,
                headers=headers_from_json(json.loads(headers), "stored record"),
                sent_at_ms=int(sent),
                delivered_at_ms=None if delivered == "-" else int(delivered),
                consumed_at_ms=None if consumed == "-" else int(consumed),
                latency_ms=None if latency == "-" else float(latency),
                status=Status(status),
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a kafkaredis record: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        key_value, encoding = key_value_json(self.key, self.value)
        out: dict[str, Any] = {
            "id": self.id,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            **key_value,
            "headers": headers_to_json(self.headers),
            "sent_at": self.sent_at_ms,
            "delivered_at": self.delivered_at_ms,
            "consumed_at": self.consumed_at_ms,
            "latency_ms": self.latency_ms,
            "status": self.status.value,
        }
        if encoding:
            out["encoding"] = encoding
        return out
