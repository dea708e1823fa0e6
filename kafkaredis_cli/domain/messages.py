"""Messages as they travel: outgoing, delivered, consumed. Payloads are bytes."""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field

ID_HEADER = "kafkaredis-id"
SENT_AT_HEADER = "kafkaredis-sent-at"

Headers = tuple[tuple[str, bytes | None], ...]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_id_lock = threading.Lock()
_id_state = [0, 0]  # the last id's milliseconds and 12-bit sequence
# Random bits of ids: a generator seeded from os.urandom (one syscall per process, not
# one per id: ids are made at several hundred thousand a second), reseeded after fork.
_id_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _id_random.seed(os.urandom(32)))
_id_head: list[tuple[int, str]] = [(-1, "")]  # the text of the last id's milliseconds


def new_message_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation time.

    Within one millisecond the 12 `rand_a` bits count up (RFC 9562, method 1), so ids
    made by this process sort in the order they were made, even thousands a second.
    """
    rand = _id_random.getrandbits(64)
    with _id_lock:
        ms, seq = now_ms(), rand >> 53  # a fresh millisecond starts at a random 0..2047
        if ms <= _id_state[0]:
            ms, seq = _id_state[0], _id_state[1] + 1
            if seq > 0xFFF:
                ms, seq = ms + 1, 0
        _id_state[0], _id_state[1] = ms, seq
    # As text: unix_ts_ms (48 bits) - version 7, rand_a = seq - variant 0b10, rand_b (62).
    head_ms, head = _id_head[0]
    if head_ms != ms:
        head = f"{(ms >> 16) & 0xFFFFFFFF:08x}-{ms & 0xFFFF:04x}-7"
        _id_head[0] = (ms, head)
    tail = f"{(0b10 << 62) | (rand & ((1 << 62) - 1)):016x}"
    return f"{head}{seq:03x}-{tail[:4]}-{tail[4:]}"


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
