"""The ports handlers use. Real adapters wrap confluent-kafka and redis-py."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from kafkaredis_cli.domain.messages import (
    ConsumedRecord,
    DeliveryReport,
    DeliveryTally,
    StampedMessage,
)
from kafkaredis_cli.domain.positions import End, Start
from kafkaredis_cli.domain.records import MessageRecord, Status


class DeliverySink(Protocol):
    """Where a batch's delivery reports go, one call a message."""

    def on_delivered(self, message: StampedMessage, partition: int, offset: int) -> None: ...

    def on_failed(self, report: DeliveryReport) -> None: ...


class MessageProducer(Protocol):
    def check_topic(self, topic: str) -> int:
        """Partition count; raises KafkaError when unreachable or unknown (bounded time)."""

    def forget_topic(self, topic: str) -> None:
        """Forget the topic's cached partition count (it has just changed)."""

    def produce(
        self, message: StampedMessage, on_delivery: Callable[[DeliveryReport], None]
    ) -> None:
        """Queue one message; `on_delivery` runs from a later poll()/flush()."""

    def produce_counted(self, message: StampedMessage, tally: DeliveryTally) -> None:
        """Queue one message whose delivery report only counts (in `tally`, from a later
        poll()/flush()): the cheap path of a batch that neither caches nor verifies."""

    def produce_to(self, message: StampedMessage, sink: DeliverySink) -> None:
        """Queue one message of a batch; its delivery goes to `sink` (from a later
        poll()/flush()): no report object is made for a delivered message."""

    def poll(self, timeout_s: float = 0.0) -> int: ...

    def flush(self, timeout_s: float) -> int:
        """Wait for outstanding deliveries; returns how many are still undelivered."""

    def close(self) -> None: ...


class MessageConsumer(Protocol):
    def check_topic(self, topic: str) -> int: ...

    def follow(
        self, topic: str, *, group: str | None, start: Start | None, partition: int | None
    ) -> None:
        """Start reading a topic (subscribing with a group, else assigning partitions)."""

    def stop_at(self, topic: str, end: End, partition: int | None) -> None:
        """After follow(): stop each partition (or only `partition`) at `end`, resolved
        to an offset now (never past the partition's end as it is now); fetch() leaves
        out what comes after it, and at_end() counts such a partition as ended."""

    def read_ranges(self, topic: str, ranges: Mapping[int, tuple[int, int]]) -> None:
        """Position on exactly these offset ranges (partition -> first, last)."""

    def fetch(self, max_messages: int, timeout_s: float) -> list[ConsumedRecord]: ...

    def at_end(self) -> bool:
        """True when every assigned partition has reached its end."""

    def commit(self, records: Sequence[ConsumedRecord]) -> None:
        """Commit the offsets after these records (synchronously)."""

    def close(self) -> None: ...


class ShareConsumer(Protocol):
    """A member of a share group (adapters/kafka_share.py)."""

    redelivered: int  # records fetched so far with a delivery count over 1

    def join(self, topic: str, group: str, *, latest: bool, max_records: int) -> bool:
        """Subscribe; a group with no state yet starts at the earliest record (the end
        with `latest`). True if the group was new."""

    def fetch(self, timeout_s: float) -> list[ConsumedRecord]:
        """Records acquired by one poll: every one acknowledged before the next fetch."""

    def acknowledge(self, records: Sequence[ConsumedRecord], accept: bool) -> None:
        """ACCEPT (accept) or RELEASE these records; sent with the next commit."""

    def commit(self) -> None:
        """Send the acknowledgements and wait for the broker (commit_sync)."""

    def close(self) -> None: ...


class ConsumedUpdate(NamedTuple):  # one per consumed record: a NamedTuple is cheap
    id: str
    consumed_at_ms: int
    latency_ms: float | None
    status: Status


@dataclass(frozen=True, kw_only=True, slots=True)
class CacheEntry:
    key: str
    type: str
    ttl_s: int | None  # None: no expiry
    record: MessageRecord | None = None
    value: Any = None  # for keys that are not message records
    via: str | None = None  # the pointer key that led here (latest:<topic>)


@dataclass(frozen=True, kw_only=True, slots=True)
class CacheSummary:
    prefix: str
    keys: int
    by_kind: Mapping[str, int]
    with_ttl: int
    without_ttl: int
    min_ttl_s: int | None
    max_ttl_s: int | None
    memory_bytes: int | None
    server_memory_bytes: int | None
    server_version: str | None
    mode: str = "standalone"
    nodes: tuple[Mapping[str, Any], ...] = ()  # per primary: its own figures


class MessageStore(Protocol):
    def save(self, records: Sequence[MessageRecord], ttl_s: int) -> None:
        """Write records (pipelined) and point `latest:<topic>` at each topic's last one."""

    def save_encoded(self, topic: str, records: Sequence[tuple[str, bytes]], ttl_s: int) -> None:
        """save() of records already encoded (id, records.record_blob), all of `topic`."""

    def mark_consumed(self, updates: Sequence[ConsumedUpdate]) -> int:
        """Update records that exist (pipelined); returns how many were updated."""

    def get(self, key: str) -> CacheEntry | None: ...

    def scan(
        self, pattern: str | None = None, topic: str | None = None, limit: int | None = None
    ) -> Iterator[CacheEntry]: ...

    def delete(self, keys: Sequence[str]) -> int: ...

    def put_json(self, key: str, data: Mapping[str, Any], ttl_s: int) -> None: ...

    def summary(self) -> CacheSummary: ...

    def close(self) -> None: ...
