"""In-memory fakes of the ports (MessageProducer, MessageConsumer, MessageStore).

For unit tests of the handlers and the mediator only: integration tests use the real
broker and redis-server. The fakes share one `FakeBroker` (the topics' logs and the
groups' committed offsets) and one `events` list, so a test can assert the order in
which a handler touched Kafka and Redis.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kafkaredis_cli.behaviours import TimingBehaviour
from kafkaredis_cli.cache_wiring import register_cache_handlers
from kafkaredis_cli.domain.commands import ConsumeMessage, ProduceBatch, ProduceMessage, ReadRanges
from kafkaredis_cli.domain.messages import (
    ConsumedRecord,
    DeliveryReport,
    DeliveryTally,
    StampedMessage,
    now_ms,
    wire_headers,
)
from kafkaredis_cli.domain.ports import CacheEntry, CacheSummary, ConsumedUpdate, DeliverySink
from kafkaredis_cli.domain.positions import End, Start, StartKind
from kafkaredis_cli.domain.records import MessageRecord
from kafkaredis_cli.errors import KafkaError, RedisError
from kafkaredis_cli.handlers.consume import ConsumeMessageHandler
from kafkaredis_cli.handlers.produce_batch import ProduceBatchHandler
from kafkaredis_cli.handlers.produce_message import ProduceMessageHandler
from kafkaredis_cli.handlers.read_back import ReadRangesHandler
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.mediator import Mediator

TP = tuple[str, int]


@dataclass
class FakeBroker:
    """Topic logs (topic -> partitions -> records) and committed offsets per group."""

    auto_create: bool = True
    topics: dict[str, list[list[ConsumedRecord]]] = field(default_factory=dict)
    committed: dict[tuple[str, str, int], int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    timestamp_ms: int = 1_700_000_000_000  # each appended record gets the next ms

    def create(self, topic: str, partitions: int = 1) -> None:
        self.topics.setdefault(topic, [[] for _ in range(partitions)])

    def partitions(self, topic: str) -> int:
        if topic not in self.topics:
            if not self.auto_create:
                raise KafkaError(f"topic {topic!r} does not exist", code="UNKNOWN_TOPIC_OR_PART")
            self.create(topic)
        return len(self.topics[topic])

    def append(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | None = None,
        headers: tuple[tuple[str, bytes | None], ...] = (),
        partition: int | None = None,
    ) -> ConsumedRecord:
        count = self.partitions(topic)
        if partition is None:
            partition = (hash(key) % count) if key is not None else 0
        log = self.topics[topic][partition]
        self.timestamp_ms += 1
        record = ConsumedRecord(
            topic=topic,
            partition=partition,
            offset=len(log),
            key=key,
            value=value,
            headers=headers,
            timestamp_ms=self.timestamp_ms,
            consumed_at_ms=now_ms(),
        )
        log.append(record)
        return record

    def log(self, topic: str, partition: int = 0) -> list[ConsumedRecord]:
        return self.topics[topic][partition]


class FakeProducer:
    """MessageProducer: produce() queues; poll()/flush() deliver (or fail) and call back.

    `fail_with` makes every delivery report an error (one whose message may be on the
    broker all the same with `possibly_persisted`: a delivery that timed out); `hold` keeps
    messages queued (never delivered, as with an unreachable broker); `max_bytes` rejects
    big values.
    """

    def __init__(
        self,
        broker: FakeBroker,
        *,
        fail_with: str | None = None,
        possibly_persisted: bool = False,
        hold: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        self.broker = broker
        self.fail_with = fail_with
        self.possibly_persisted = possibly_persisted
        self.hold = hold
        self.max_bytes = max_bytes
        self.queue: list[tuple[StampedMessage, Callable[[DeliveryReport], None]]] = []
        self.produced: list[StampedMessage] = []
        self.polls = 0
        self.flushes = 0
        self.counted = 0  # messages queued by produce_counted
        self.closed = False

    def check_topic(self, topic: str) -> int:
        self.broker.events.append(f"check_topic:{topic}")
        return self.broker.partitions(topic)

    def forget_topic(self, topic: str) -> None:
        pass

    def produce(
        self, message: StampedMessage, on_delivery: Callable[[DeliveryReport], None]
    ) -> None:
        size = len(message.message.value or b"")
        if self.max_bytes is not None and size > self.max_bytes:
            raise KafkaError(f"message of {size} bytes is too large", code="MSG_SIZE_TOO_LARGE")
        self.broker.events.append("produce")
        self.produced.append(message)
        self.queue.append((message, on_delivery))

    def produce_counted(self, message: StampedMessage, tally: DeliveryTally) -> None:
        self.counted += 1
        self.produce(message, tally.add)

    def produce_to(self, message: StampedMessage, sink: DeliverySink) -> None:
        def report(report: DeliveryReport) -> None:
            if report.error is None:
                sink.on_delivered(message, report.partition, report.offset)
            else:
                sink.on_failed(report)

        self.produce(message, report)

    def _deliver(self) -> int:
        if self.hold:
            return 0
        queued, self.queue = self.queue, []
        for message, callback in queued:
            if self.fail_with is not None:
                callback(
                    DeliveryReport(
                        message=message,
                        delivered_at_ms=now_ms(),
                        error=self.fail_with,
                        error_code="_MSG_TIMED_OUT" if self.possibly_persisted else "FAKE",
                        possibly_persisted=self.possibly_persisted,
                    )
                )
                continue
            outgoing = message.message
            record = self.broker.append(
                message.topic,
                outgoing.value,
                key=outgoing.key,
                # as confluent-kafka sends them: str values UTF-8 encoded
                headers=tuple(
                    (k, v.encode() if isinstance(v, str) else v) for k, v in wire_headers(message)
                ),
                partition=outgoing.partition,
            )
            self.broker.events.append("delivered")
            callback(
                DeliveryReport(
                    message=message,
                    delivered_at_ms=now_ms(),
                    partition=record.partition,
                    offset=record.offset,
                )
            )
        return len(queued)

    def poll(self, timeout_s: float = 0.0) -> int:
        self.polls += 1
        return self._deliver()

    def flush(self, timeout_s: float) -> int:
        self.flushes += 1
        self._deliver()
        return len(self.queue)

    def close(self) -> None:
        self.closed = True


class FakeConsumer:
    """MessageConsumer over a FakeBroker: assign/subscribe, fetch, EOF and commits.

    `replace_at` maps (partition, offset) to another message id, to play a log that
    holds someone else's message where we expect ours.
    """

    def __init__(self, broker: FakeBroker, name: str = "consumer") -> None:
        self.broker = broker
        self.name = name
        self.group: str | None = None
        self.positions: dict[TP, int] = {}
        self.closed = False
        self.commits: list[dict[TP, int]] = []
        self.replace_at: dict[tuple[int, int], str] = {}

    def check_topic(self, topic: str) -> int:
        return self.broker.partitions(topic)

    def stop_at(self, topic: str, end: End, partition: int | None) -> None:
        raise NotImplementedError("--to is tested against the real broker only")

    def follow(
        self, topic: str, *, group: str | None, start: Start | None, partition: int | None
    ) -> None:
        count = self.check_topic(topic)
        self.group = group
        wanted = [partition] if partition is not None else list(range(count))
        start = start or Start(StartKind.STORED if group else StartKind.BEGINNING)
        for p in wanted:
            log = self.broker.log(topic, p)
            end = len(log)
            kind = start.kind
            if kind is StartKind.STORED:
                offset = self.broker.committed.get((group or "", topic, p), 0)
            elif kind is StartKind.BEGINNING:
                offset = 0
            elif kind is StartKind.END:
                offset = end
            elif kind is StartKind.OFFSET:
                offset = min(start.value, end)
            elif kind is StartKind.LAST:
                offset = max(0, end - start.value)
            else:  # TIMESTAMP
                later = [r.offset for r in log if (r.timestamp_ms or 0) >= start.value]
                offset = later[0] if later else end
            self.positions[(topic, p)] = offset
        self.broker.events.append(f"{self.name}:follow")

    def read_ranges(self, topic: str, ranges: Mapping[int, tuple[int, int]]) -> None:
        self.check_topic(topic)
        for partition, (first, _last) in ranges.items():
            self.positions[(topic, partition)] = first
        self.broker.events.append(f"{self.name}:read_ranges")

    def fetch(self, max_messages: int, timeout_s: float) -> list[ConsumedRecord]:
        out: list[ConsumedRecord] = []
        for (topic, partition), offset in sorted(self.positions.items()):
            log = self.broker.log(topic, partition)
            while offset < len(log) and len(out) < max_messages:
                record = log[offset]
                other = self.replace_at.get((partition, offset))
                if other is not None:
                    headers = tuple(
                        (k, other.encode() if k == "kafkaredis-id" else v)
                        for k, v in record.headers
                    )
                    record = record._replace(headers=headers)
                out.append(record._replace(consumed_at_ms=now_ms()))
                offset += 1
            self.positions[(topic, partition)] = offset
        if out:
            self.broker.events.append(f"{self.name}:fetch:{len(out)}")
        return out

    def at_end(self) -> bool:
        return bool(self.positions) and all(
            offset >= len(self.broker.log(topic, partition))
            for (topic, partition), offset in self.positions.items()
        )

    def commit(self, records: Sequence[ConsumedRecord]) -> None:
        done: dict[TP, int] = {}
        for record in records:
            tp = (record.topic, record.partition)
            done[tp] = max(done.get(tp, -1), record.offset + 1)
        for (topic, partition), offset in done.items():
            self.broker.committed[(self.group or "", topic, partition)] = offset
        self.commits.append(done)
        self.broker.events.append(f"{self.name}:commit")

    def close(self) -> None:
        self.closed = True


class FakeStore:
    """MessageStore in a dict; `fail` makes every call raise RedisError (Redis down)."""

    def __init__(self, events: list[str], keys: KeySpace | None = None) -> None:
        self.events = events
        self.keys = keys or KeySpace("fake")
        self.records: dict[str, MessageRecord] = {}
        self.ttls: dict[str, int] = {}
        self.latest: dict[str, str] = {}
        self.other: dict[str, Any] = {}
        self.fail: str | None = None
        self.saves: list[int] = []  # records per save() call (pipelined chunks)

    def _check(self) -> None:
        if self.fail is not None:
            raise RedisError(self.fail, code="CONNECTION")

    def save(self, records: Sequence[MessageRecord], ttl_s: int) -> None:
        self.events.append("save")
        self._check()
        for record in records:
            self.records[record.id] = record
            self.ttls[record.id] = ttl_s
            self.latest[record.topic] = record.id
        self.saves.append(len(records))

    def save_encoded(self, topic: str, records: Sequence[tuple[str, bytes]], ttl_s: int) -> None:
        """Decoded the way Redis readers do (MessageRecord.from_blob), then saved."""
        self.save([MessageRecord.from_blob(blob) for _id, blob in records], ttl_s)

    def mark_consumed(self, updates: Sequence[ConsumedUpdate]) -> int:
        self.events.append("mark_consumed")
        self._check()
        done = 0
        for update in updates:
            record = self.records.get(update.id)
            if record is None:
                continue
            self.records[update.id] = record._replace(
                consumed_at_ms=update.consumed_at_ms,
                latency_ms=update.latency_ms,
                status=update.status,
            )
            done += 1
        return done

    def get(self, key: str) -> CacheEntry | None:
        self._check()
        full = self.keys.resolve(key)
        kind = self.keys.kind_of(full)
        if kind == "latest":
            topic = full.rsplit(":", 1)[-1]
            message_id = self.latest.get(topic)
            if message_id is None:
                return None
            entry = self.get(message_id)
            return replace(entry, via=full) if entry else None
        if kind == "msg":
            message_id = full.rsplit(":", 1)[-1]
            record = self.records.get(message_id)
            if record is None:
                return None
            return CacheEntry(key=full, type="hash", ttl_s=self.ttls[message_id], record=record)
        if full in self.other:
            return CacheEntry(key=full, type="string", ttl_s=None, value=self.other[full])
        return None

    def _all_keys(self) -> list[str]:
        return (
            [self.keys.message(i) for i in self.records]
            + [self.keys.latest(t) for t in self.latest]
            + list(self.other)
        )

    def scan(
        self, pattern: str | None = None, topic: str | None = None, limit: int | None = None
    ) -> Iterator[CacheEntry]:
        self._check()
        match = self.keys.pattern(pattern)
        emitted = 0
        for key in self._all_keys():
            if not fnmatch.fnmatchcase(key, match):
                continue
            entry = self.get(key)
            if entry is None:
                continue
            if topic is not None and (entry.record is None or entry.record.topic != topic):
                continue
            yield entry
            emitted += 1
            if limit is not None and emitted >= limit:
                return

    def delete(self, keys: Sequence[str]) -> int:
        self._check()
        deleted = 0
        for key in keys:
            full = self.keys.resolve(key)
            message_id = full.rsplit(":", 1)[-1]
            kind = self.keys.kind_of(full)
            if kind == "msg":
                found = self.records.pop(message_id, None) is not None
            elif kind == "latest":
                found = self.latest.pop(message_id, None) is not None
            else:
                found = self.other.pop(full, None) is not None
            deleted += found
        return deleted

    def put_json(self, key: str, data: Mapping[str, Any], ttl_s: int) -> None:
        self._check()
        self.other[key] = dict(data)

    def summary(self) -> CacheSummary:
        self._check()
        keys = self._all_keys()
        by_kind: dict[str, int] = {}
        for key in keys:
            kind = self.keys.kind_of(key)
            by_kind[kind] = by_kind.get(kind, 0) + 1
        ttls = list(self.ttls.values())
        return CacheSummary(
            prefix=self.keys.prefix,
            keys=len(keys),
            by_kind=by_kind,
            with_ttl=len(ttls),
            without_ttl=len(keys) - len(ttls),
            min_ttl_s=min(ttls) if ttls else None,
            max_ttl_s=max(ttls) if ttls else None,
            memory_bytes=None,
            server_memory_bytes=None,
            server_version="fake",
        )

    def server_info(self) -> Mapping[str, Any]:
        self._check()
        return {"version": "fake", "mode": "standalone"}

    def close(self) -> None:
        self.events.append("store:close")


@dataclass
class FakeApp:
    """The mediator with the real handlers and behaviours, wired to the fakes."""

    broker: FakeBroker
    producer: FakeProducer
    store: FakeStore
    mediator: Mediator
    consumers: list[FakeConsumer]
    readback: FakeConsumer

    closed: bool = False

    @property
    def events(self) -> list[str]:
        return self.broker.events

    @property
    def keys(self) -> KeySpace:
        return self.store.keys

    def close(self) -> None:
        """What bootstrap.App.close does: close the clients (the CLI calls it)."""
        self.closed = True
        self.producer.close()
        self.store.close()


def fake_app(
    *,
    broker: FakeBroker | None = None,
    producer: FakeProducer | None = None,
    with_store: bool = True,
    ttl_s: int = 3600,
) -> FakeApp:
    broker = broker or FakeBroker()
    producer = producer or FakeProducer(broker)
    store = FakeStore(broker.events)
    mediator = Mediator([TimingBehaviour()])
    consumers: list[FakeConsumer] = []
    readback = FakeConsumer(broker, "readback")

    def new_consumer() -> FakeConsumer:
        consumer = FakeConsumer(broker, f"consumer{len(consumers)}")
        consumers.append(consumer)
        return consumer

    cache = store if with_store else None
    read_back = ReadRangesHandler(lambda: readback)
    read = read_back.handle
    mediator.register(ProduceMessage, ProduceMessageHandler(producer, cache, read, ttl_s))
    mediator.register(ProduceBatch, ProduceBatchHandler(producer, cache, read, ttl_s))
    mediator.register(ConsumeMessage, ConsumeMessageHandler(new_consumer, cache))
    mediator.register(ReadRanges, read_back)
    register_cache_handlers(mediator, store)
    return FakeApp(broker, producer, store, mediator, consumers, readback)


class FakeTopicLayouts:
    """TopicLayouts over a FakeBroker: a missing topic gets a partition per broker,
    partition p led by brokers[p % len(brokers)]."""

    def __init__(self, broker: FakeBroker, brokers: tuple[int, ...] = (1, 2, 3)) -> None:
        self.broker = broker
        self.brokers = brokers
        self.leaders: dict[tuple[str, int], int] = {}

    def ensure(self, topic: str, *, rebalance: bool) -> Any:
        from kafkaredis_cli.canary.placement import PartitionPlacement, TopicLayout

        actions: tuple[str, ...] = ()
        if topic not in self.broker.topics:
            self.broker.create(topic, len(self.brokers))
            actions = (f"created with {len(self.brokers)} partition(s)",)
        partitions = {}
        for p in range(self.broker.partitions(topic)):
            leader = self.leaders.setdefault((topic, p), self.brokers[p % len(self.brokers)])
            partitions[p] = PartitionPlacement(leader=leader, replicas=(leader,), isr=(leader,))
        return TopicLayout(
            topic=topic, brokers=self.brokers, partitions=partitions, actions=actions
        )

    def close(self) -> None:
        pass


class FakeTopicFollower:
    """TopicFollower over a FakeBroker: take() returns what was appended since start()."""

    def __init__(self, broker: FakeBroker, layouts: FakeTopicLayouts) -> None:
        self.broker = broker
        self.layouts = layouts
        self.positions: dict[TP, int] = {}
        self.missing: frozenset[int] = frozenset()  # brokers gone from the metadata
        self.closed = False

    def start(self, topics: Sequence[str]) -> None:
        for topic in topics:
            for p, log in enumerate(self.broker.topics.get(topic, [])):
                self.positions[(topic, p)] = len(log)

    def take(self) -> list[ConsumedRecord]:
        out: list[ConsumedRecord] = []
        for (topic, p), position in list(self.positions.items()):
            log = self.broker.topics[topic][p]
            out += log[position:]
            self.positions[(topic, p)] = len(log)
        return out

    def leaders(self) -> Mapping[TP, int]:
        return self.layouts.leaders

    def brokers(self) -> frozenset[int] | None:
        return frozenset(self.layouts.brokers) - self.missing

    def catch_up(self, timeout_s: float) -> bool:
        return True

    def close(self) -> None:
        self.closed = True
