"""Commands sent through the mediator, and their results (frozen, typed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kafkaredis_cli.domain.messages import ConsumedRecord, OutgoingMessage
from kafkaredis_cli.domain.positions import End, Start
from kafkaredis_cli.errors import KafkaRedisError
from kafkaredis_cli.mediator import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class ProduceResult:
    id: str
    topic: str
    partition: int
    offset: int
    sent_at_ms: int
    delivered_at_ms: int
    cached: bool
    cache_error: str | None = None
    verified: bool | None = None  # None: not asked (--no-verify)
    verify_error: str | None = None
    delivery_ms: float = 0.0  # send -> delivery report (monotonic clock)
    round_trip_ms: float | None = None  # send -> read back (monotonic clock)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProduceMessage(Command[ProduceResult]):
    """Send one message, cache its record, and read *this* message back."""

    topic: str
    message: OutgoingMessage
    verify: bool = True
    cache: bool = True
    ttl_seconds: int | None = None
    timeout_s: float = 10.0


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchProgress:
    read: int
    delivered: int
    failed: int
    unknown: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchResult:
    read: int
    delivered: int
    failed: int  # not on the broker (refused, or never sent)
    cached: int
    cache_failed: int
    verified: int
    verify_asked: bool
    elapsed_s: float
    errors: tuple[str, ...] = ()
    interrupted: bool = False
    input_error: str | None = None  # the input stopped at a bad line (named here)
    unknown: int = 0  # outcome unknown: delivery timed out, possibly on the broker
    # Lines read but never handed to the producer: a bad line and every line after a
    # stopping error. read == delivered + failed + unknown + not_sent, always.
    not_sent: int = 0
    stop_error: KafkaRedisError | None = None  # a message the producer refused stopped it

    @property
    def sent(self) -> int:
        return self.read - self.not_sent

    @property
    def rate(self) -> float:
        return self.delivered / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class ProduceBatch(Command[BatchResult]):
    """Send a stream of messages (never held whole): async produce, pipelined cache."""

    topic: str
    messages: Iterable[OutgoingMessage]
    verify: bool = True
    cache: bool = True
    ttl_seconds: int | None = None
    timeout_s: float = 30.0
    progress: Callable[[BatchProgress], None] | None = None
    should_stop: Callable[[], bool] = field(default=lambda: False)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsumeResult:
    consumed: int
    cache_updated: int
    cache_error: str | None
    committed: bool
    reached_end: bool
    stopped_by: str  # count | end | timeout | interrupt
    no_record: int = 0  # kafkaredis messages whose Redis record was (still) missing
    filtered_out: int = 0  # read, cached and committed, but not shown (`match` said no)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsumeMessage(Command[ConsumeResult]):
    """Follow a topic (optionally in a group): show what arrives, update the records of
    kafkaredis messages in Redis, commit what was handled."""

    topic: str
    group: str | None = None
    start: Start | None = None
    partition: int | None = None
    count: int | None = None
    exit_at_end: bool = False
    timeout_s: float | None = None  # stop after this long with nothing new
    update_cache: bool = True
    show: Callable[[Sequence[ConsumedRecord]], None] | None = None  # each fetch's, at once
    should_stop: Callable[[], bool] = field(default=lambda: False)
    until: End | None = None  # stop each partition there; done when all are
    match: Callable[[ConsumedRecord], bool] | None = None  # show (and count) only these


@dataclass(frozen=True, kw_only=True, slots=True)
class ShareConsumeResult:
    consumed: int  # shown (and counted by --count)
    accepted: int  # acknowledged ACCEPT: done with, for the whole group
    released: int  # acknowledged RELEASE: handed back for any member to read again
    failures: int  # handlings that failed (their records released)
    redelivered: int  # records that came with a delivery count over 1
    cache_updated: int
    stopped_by: str  # count | timeout | interrupt | failure
    no_record: int = 0
    filtered_out: int = 0
    new_group: bool = False  # the group had no state: it started where --from said
    failure: KafkaRedisError | None = None  # what stopped it (its records were released)


@dataclass(frozen=True, kw_only=True, slots=True)
class ShareConsume(Command[ShareConsumeResult]):
    """Read a topic as a member of a share group (KIP-932): each record acquired is
    shown, its Redis record marked consumed, then acknowledged (ACCEPT); records whose
    handling fails are released (RELEASE) for another member."""

    topic: str
    group: str
    latest: bool = False  # a new group starts at the end (else at the earliest record)
    count: int | None = None
    timeout_s: float | None = None
    update_cache: bool = True
    show: Callable[[Sequence[ConsumedRecord]], None] | None = None
    should_stop: Callable[[], bool] = field(default=lambda: False)
    match: Callable[[ConsumedRecord], bool] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RangesRead:
    consumed: int
    complete: bool  # every range read to its last offset (not cut short by the timeout)
    records: tuple[ConsumedRecord, ...] = ()  # what was read, when no sink took it


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadRanges(Command[RangesRead]):
    """Read exactly the offsets `ranges` gives (partition -> (first, last)) back: how a
    produce verifies *its* messages. Records go to `sink`, else come back in `records`."""

    topic: str
    ranges: Mapping[int, tuple[int, int]]
    timeout_s: float = 10.0  # bound on the wait for the next record, not on the whole read
    sink: Callable[[ConsumedRecord], None] | None = None
    should_stop: Callable[[], bool] = field(default=lambda: False)


# Operations a handler is given as a port (wired to another handler, not the mediator).
ReadBack = Callable[[ReadRanges], RangesRead]  # read exact offset ranges back
Produce = Callable[[ProduceMessage], ProduceResult]  # produce one message (replay)
