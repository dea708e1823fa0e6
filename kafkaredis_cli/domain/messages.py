"""Messages as they travel: outgoing, delivered, consumed. Payloads are bytes."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from typing import NamedTuple

ID_HEADER = "kafkaredis-id"
SENT_AT_HEADER = "kafkaredis-sent-at"

Headers = tuple[tuple[str, bytes | None], ...]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_id_lock = threading.Lock()
_id_state = [0, 0]  # the last id's milliseconds and 12-bit sequence
# Random bits of ids come from os.urandom in bulk (one call per 1,024 ids, not one per
# id: ids are made at several hundred thousand a second), already formatted as an id's
# last two groups with the variant bits set; the stock is dropped in a forked child.
_TAILS_PER_REFILL = 1024
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # 0b10xx
_id_tails: list[str] = []
_id_random = random.Random(os.urandom(32))  # a fresh millisecond's first sequence


def _after_fork() -> None:
    _id_tails.clear()
    _id_random.seed(os.urandom(32))


os.register_at_fork(after_in_child=_after_fork)
_id_head: list[tuple[int, str]] = [(-1, "")]  # the text of the last id's milliseconds


def _refill_tails() -> None:
    raw = os.urandom(8 * _TAILS_PER_REFILL).hex()
    variant = _VARIANT
    _id_tails.extend(
        f"-{variant[raw[i]]}{raw[i + 1 : i + 4]}-{raw[i + 4 : i + 16]}"
        for i in range(0, len(raw), 16)
    )


def new_message_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation time.

    Within one millisecond the 12 `rand_a` bits count up (RFC 9562, method 1), so ids
    made by this process sort in the order they were made, even thousands a second.
    """
    return _id_at(now_ms())


def _id_at(now: int) -> str:
    """The next id, made at `now` (epoch ms)."""
    with _id_lock:
        last = _id_state[0]
        if now <= last:
            ms, seq = last, _id_state[1] + 1
            if seq > 0xFFF:
                ms, seq = ms + 1, 0
        else:
            ms, seq = now, _id_random.getrandbits(11)  # a fresh millisecond: 0..2047
        _id_state[0], _id_state[1] = ms, seq
        if not _id_tails:
            _refill_tails()
        tail = _id_tails.pop()
    # As text: unix_ts_ms (48 bits) - version 7, rand_a = seq - variant 0b10, rand_b (62).
    head_ms, head = _id_head[0]
    if head_ms != ms:
        head = f"{(ms >> 16) & 0xFFFFFFFF:08x}-{ms & 0xFFFF:04x}-7"
        _id_head[0] = (ms, head)
    return f"{head}{seq:03x}{tail}"


# The messages of the hot paths are NamedTuples: immutable and typed like the frozen
# dataclasses they were, but built several times faster (a frozen dataclass pays one
# object.__setattr__ a field), which counts at hundreds of thousands a second.


class OutgoingMessage(NamedTuple):
    value: bytes | None
    key: bytes | None = None
    headers: Headers = ()
    partition: int | None = None


class StampedMessage(NamedTuple):
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
    sent_at = now_ms()
    return StampedMessage(_id_at(sent_at), topic, sent_at, message)


class DeliveryReport(NamedTuple):
    """The broker's answer for one message: where it landed, or why it did not."""

    message: StampedMessage
    delivered_at_ms: int
    partition: int = -1
    offset: int = -1
    error: str | None = None
    error_code: str | None = None
    # A failed report whose message may be on the broker all the same (the delivery timed
    # out after the send): "unknown outcome", never counted as failed (not on the broker).
    possibly_persisted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def kafkaredis_headers(headers: Headers) -> tuple[bytes | None, bytes | None]:
    """The values of the first `kafkaredis-id` and `kafkaredis-sent-at` headers (as
    ConsumedRecord.header() finds them), in one pass: for loops over many records."""
    message_id: bytes | None = None
    sent_at: bytes | None = None
    seen_id = seen_sent = False
    for name, raw in headers:
        if name == ID_HEADER:
            if not seen_id:
                message_id, seen_id = raw, True
        elif name == SENT_AT_HEADER and not seen_sent:
            sent_at, seen_sent = raw, True
    return message_id, sent_at


class DeliveryTally:
    """The delivery reports of a batch that keeps nothing of each message (neither
    cached nor verified): counts only, so no DeliveryReport is made per message.

    `failed`: not on the broker; `unknown`: the outcome is unknown (possibly on it)."""

    __slots__ = ("delivered", "errors", "failed", "unknown")

    def __init__(self) -> None:
        self.delivered = 0
        self.failed = 0
        self.unknown = 0
        self.errors: Counter[str] = Counter()

    def add(self, report: DeliveryReport) -> None:
        if report.error is None:
            self.delivered += 1
        else:
            self.count_error(report.error or "delivery failed", report.possibly_persisted)

    def count_error(self, error: str, possibly_persisted: bool) -> None:
        if possibly_persisted:
            self.unknown += 1
        else:
            self.failed += 1
        self.errors[error] += 1


class ConsumedRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int | None
    consumed_at_ms: int

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
