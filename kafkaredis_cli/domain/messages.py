"""Messages as they travel: outgoing, delivered, consumed. Payloads are bytes."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field

ID_HEADER = "kafkaredis-id"
SENT_AT_HEADER = "kafkaredis-sent-at"

Headers = tuple[tuple[str, bytes | None], ...]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_message_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation time."""
    ms = now_ms()
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


@dataclass(frozen=True, kw_only=True, slots=True)
class OutgoingMessage:
    value: bytes | None
    key: bytes | None = None
    headers: Headers = ()
    partition: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StampedMessage:
    """An outgoing message with its kafkaredis id and send time, ready for the wire."""

    id: str
    topic: str
    sent_at_ms: int
    message: OutgoingMessage

    @property
    def wire_headers(self) -> Headers:
        return (
            *self.message.headers,
            (ID_HEADER, self.id.encode()),
            (SENT_AT_HEADER, str(self.sent_at_ms).encode()),
        )


def stamp(topic: str, message: OutgoingMessage) -> StampedMessage:
    return StampedMessage(id=new_message_id(), topic=topic, sent_at_ms=now_ms(), message=message)


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryReport:
    """The broker's answer for one message: where it landed, or why it did not."""

    message: StampedMessage
    partition: int = -1
    offset: int = -1
    delivered_at_ms: int = field(default_factory=now_ms)
    error: str | None = None
    error_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int | None
    consumed_at_ms: int = field(default_factory=now_ms)

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def message_id(self) -> str | None:
        raw = self.header(ID_HEADER)
        return raw.decode("utf-8", "replace") if raw else None

    @property
    def sent_at_ms(self) -> int | None:
        raw = self.header(SENT_AT_HEADER)
        try:
            return int(raw) if raw else None
        except ValueError:
            return None

    @property
    def user_headers(self) -> Headers:
        return tuple(h for h in self.headers if h[0] not in (ID_HEADER, SENT_AT_HEADER))
