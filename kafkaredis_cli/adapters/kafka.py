"""confluent-kafka adapters: producer, consumer and metadata. Clients are created lazily."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.adapters.closing import ClosesOnExit
from kafkaredis_cli.adapters.errors import (
    describe_kafka_error,
    from_kafka_exception,
    kafka_error_name,
    possibly_persisted,
)
from kafkaredis_cli.adapters.kafka_group import GroupMembership, is_incremental
from kafkaredis_cli.domain.cluster_health import ClusterInfo, PartitionState
from kafkaredis_cli.domain.messages import (
    ID_HEADER,
    SENT_AT_HEADER,
    ConsumedRecord,
    DeliveryReport,
    DeliveryTally,
    StampedMessage,
    now_ms,
)
from kafkaredis_cli.domain.positions import End, EndKind, Start, StartKind
from kafkaredis_cli.errors import KafkaError, KafkaRedisError, UsageError

log = logging.getLogger("kafkaredis.kafka")
librdkafka_log = logging.getLogger("kafkaredis.librdkafka")

_EOF = ck.KafkaError._PARTITION_EOF


def _with_logger(conf: Mapping[str, str]) -> dict[str, Any]:
    full: dict[str, Any] = dict(conf)
    full["logger"] = librdkafka_log
    return full


class KafkaClientBase(ClosesOnExit):
    creates_topics = False  # does this client's metadata request auto-create topics?

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        self._conf = dict(conf)
        self._timeout_s = timeout_s
        self._known_topics: dict[str, int] = {}
        self.last_error: str | None = None
        self.last_error_code: str | None = None

    @property
    def where(self) -> str:
        return self._conf.get("bootstrap.servers", "?")

    def _on_error(self, error: Any) -> None:
        self.last_error = describe_kafka_error(error)
        self.last_error_code = kafka_error_name(error)
        log.debug("librdkafka error: %s", self.last_error)

    def _unreachable(self, exc: ck.KafkaException) -> KafkaRedisError:
        """A failed metadata call, with librdkafka's own reason when it says more
        (a refused SASL login shows up as a mere transport failure otherwise)."""
        error = from_kafka_exception(exc, f"Kafka at {self.where}")
        self._serve_errors()
        if self.last_error and self.last_error_code not in (None, error.code):
            error.message = f"{error.message}; before that: {self.last_error}"
        return error

    def _metadata_client(self) -> Any:
        raise NotImplementedError

    def _serve_errors(self) -> None:
        """Let librdkafka call error_cb with what it has queued (where that is safe)."""

    def check_topic(self, topic: str) -> int:
        """Partition count of `topic`; a KafkaError if unreachable or unknown (bounded)."""
        if topic in self._known_topics:
            return self._known_topics[topic]
        try:
            meta = self._metadata_client().list_topics(topic, timeout=self._timeout_s)
        except ck.KafkaException as exc:
            raise self._unreachable(exc) from None
        info = meta.topics.get(topic)
        if info is None or info.error is not None:
            name = kafka_error_name(info.error) if info is not None else "UNKNOWN_TOPIC_OR_PART"
            if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "LEADER_NOT_AVAILABLE"):
                # The broker may be creating it right now (auto-create): ask again, briefly.
                count = self._retry_new_topic(topic)
                if count:
                    return count
                why = (
                    " and was not created (is the broker's auto.create.topics.enable off?)"
                    if self.creates_topics
                    else ""
                )
                raise KafkaError(f"topic {topic!r} does not exist on {self.where}{why}", code=name)
            detail = describe_kafka_error(info.error) if info is not None else name
            raise KafkaError(f"topic {topic!r}: {detail}", code=name)
        if not info.partitions:  # listed but not ready yet: wait for its partitions
            count = self._retry_new_topic(topic)
            if not count:
                raise KafkaError(f"topic {topic!r} has no partitions yet", code="NO_PARTITIONS")
            return count
        count = len(info.partitions)
        self._known_topics[topic] = count
        return count

    def forget_topic(self, topic: str) -> None:
        """Drop the cached partition count: the next check_topic asks the broker again."""
        self._known_topics.pop(topic, None)

    def _retry_new_topic(self, topic: str) -> int:
        """Partition count once the topic has leaders, or 0 if it does not appear soon."""
        import time

        # A producer's metadata request creates the topic (when the broker allows it),
        # which takes a moment; a consumer's never does, so it only allows for metadata
        # that has not reached this broker yet.
        wait = self._timeout_s if self.creates_topics else 1.0
        deadline = time.monotonic() + min(self._timeout_s, wait)
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                meta = self._metadata_client().list_topics(topic, timeout=self._timeout_s)
            except ck.KafkaException as exc:
                raise self._unreachable(exc) from None
            info = meta.topics.get(topic)
            ready = info is not None and info.error is None and bool(info.partitions)
            if ready and all(p.leader >= 0 for p in info.partitions.values()):
                self._known_topics[topic] = len(info.partitions)
                return len(info.partitions)
        return 0


class KafkaProducerAdapter(KafkaClientBase):
    """MessageProducer on confluent_kafka.Producer."""

    creates_topics = True

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        super().__init__(conf, timeout_s)
        self._producer: ck.Producer | None = None
        self._sent_at: tuple[int, bytes] = (-1, b"")
        self._counted: tuple[DeliveryTally, Callable[[Any, Any], None]] | None = None

    def _client(self) -> ck.Producer:
        if self._producer is None:
            conf = _with_logger(self._conf)
            conf["error_cb"] = self._on_error
            try:
                self._producer = ck.Producer(conf)
            except ck.KafkaException as exc:
                raise from_kafka_exception(exc, "Kafka producer") from None
            except (ValueError, TypeError) as exc:
                raise KafkaError(f"Kafka producer configuration: {exc}") from None
        return self._producer

    def _metadata_client(self) -> Any:
        return self._client()

    def _serve_errors(self) -> None:
        if self._producer is not None:
            self._producer.poll(0)

    def produce(
        self, message: StampedMessage, on_delivery: Callable[[DeliveryReport], None]
    ) -> None:
        def delivered(err: Any, msg: Any) -> None:
            if err is None:
                on_delivery(DeliveryReport(message, now_ms(), msg.partition(), msg.offset()))
            else:
                name = kafka_error_name(err)
                on_delivery(
                    DeliveryReport(
                        message=message,
                        delivered_at_ms=now_ms(),
                        partition=msg.partition() if msg is not None else -1,
                        error=describe_kafka_error(err),
                        error_code=name,
                        possibly_persisted=possibly_persisted(name),
                    )
                )

        self._produce(message, delivered)

    def produce_counted(self, message: StampedMessage, tally: DeliveryTally) -> None:
        counted = self._counted
        if counted is None or counted[0] is not tally:
            # One callback for the whole batch (no closure, no report per message).
            def count(err: Any, _msg: Any) -> None:
                if err is None:
                    tally.delivered += 1
                else:
                    unknown = possibly_persisted(kafka_error_name(err))
                    tally.count_error(describe_kafka_error(err), unknown)

            counted = self._counted = (tally, count)
        self._produce(message, counted[1])

    def _produce(self, message: StampedMessage, delivered: Callable[[Any, Any], None]) -> None:
        producer = self._producer if self._producer is not None else self._client()
        outgoing = message.message
        sent_at = message.sent_at_ms
        if sent_at != self._sent_at[0]:  # a batch's messages share their millisecond's text
            self._sent_at = (sent_at, str(sent_at).encode())
        headers: list[tuple[str, str | bytes | None]] = [
            *outgoing.headers,
            (ID_HEADER, message.id.encode()),
            (SENT_AT_HEADER, self._sent_at[1]),
        ]
        while True:
            try:
                if outgoing.partition is None:  # the hot path: no keyword dictionary
                    producer.produce(
                        message.topic,
                        outgoing.value,
                        outgoing.key,
                        headers=headers,
                        on_delivery=delivered,
                    )
                else:
                    producer.produce(
                        message.topic,
                        outgoing.value,
                        outgoing.key,
                        outgoing.partition,
                        headers=headers,
                        on_delivery=delivered,
                    )
                return
            except BufferError:
                producer.poll(0.05)  # the local queue is full: serve delivery reports first
            except ck.KafkaException as exc:
                error = exc.args[0]
                if kafka_error_name(error) == "MSG_SIZE_TOO_LARGE":
                    size = len(outgoing.value or b"") + len(outgoing.key or b"")
                    limit = self._conf.get("message.max.bytes", "1000000")
                    raise KafkaError(
                        f"message of {size} bytes is larger than the producer's "
                        f"message.max.bytes ({limit}); raise it with "
                        "-X message.max.bytes=N (and the broker's)",
                        code="MSG_SIZE_TOO_LARGE",
                    ) from None
                raise from_kafka_exception(exc, f"produce to {message.topic!r}") from None

    def poll(self, timeout_s: float = 0.0) -> int:
        if self._producer is None:
            return 0
        return int(self._producer.poll(timeout_s))

    def flush(self, timeout_s: float) -> int:
        if self._producer is None:
            return 0
        return int(self._producer.flush(timeout_s))

    def abandon(self) -> None:
        """A forced stop: close without waiting for messages still in flight."""
        self._timeout_s = 0.0

    def close(self) -> None:
        if self._producer is not None:
            remaining = self._producer.flush(self._timeout_s)
            if remaining:
                log.warning("%d message(s) still undelivered at close: unknown outcome", remaining)
            self._producer = None


class KafkaConsumerAdapter(KafkaClientBase):
    """MessageConsumer on confluent_kafka.Consumer (manual commits, partition EOF events)."""

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        super().__init__(conf, timeout_s)
        self._consumer: ck.Consumer | None = None
        self._group: str | None = None
        self._assigned: set[tuple[str, int]] = set()
        self._at_eof: set[tuple[str, int]] = set()
        self._next_offset: dict[tuple[str, int], int] = {}
        self._subscribed = False
        self._membership: GroupMembership | None = None  # when subscribed in a group
        self._stops: dict[tuple[str, int], int] = {}  # --to: the first offset left out
        self._done: set[tuple[str, int]] = set()  # partitions read up to their stop

    def _client(self, group: str | None = None, reset: str = "earliest") -> ck.Consumer:
        if self._consumer is None:
            conf = _with_logger(self._conf)
            conf.setdefault("group.id", group or f"kafkaredis-reader-{uuid.uuid4().hex[:12]}")
            conf.setdefault("enable.auto.commit", "false")
            conf.setdefault("enable.auto.offset.store", "false")
            conf.setdefault("enable.partition.eof", "true")
            conf.setdefault("auto.offset.reset", reset)
            conf.setdefault("fetch.wait.max.ms", "100")
            conf.setdefault("fetch.error.backoff.ms", "50")
            # Prefetch less than librdkafka's 64 MB / 100,000 messages a partition (small
            # messages cost ~500 bytes each queued) so a batch's read-back stays within its
            # memory budget (issue 6: 1,000,000 messages in 150 MB); with a short backoff
            # once that is queued (librdkafka waits 1 s) it is as fast as the defaults.
            conf.setdefault("queued.max.messages.kbytes", "16384")
            conf.setdefault("queued.min.messages", "10000")
            conf.setdefault("fetch.queue.backoff.ms", "10")
            conf["error_cb"] = self._on_error
            self._group = group
            try:
                self._consumer = ck.Consumer(conf)
            except ck.KafkaException as exc:
                raise from_kafka_exception(exc, "Kafka consumer") from None
            except (ValueError, TypeError) as exc:
                raise KafkaError(f"Kafka consumer configuration: {exc}") from None
        return self._consumer

    def _metadata_client(self) -> Any:
        return self._client()

    def _serve_errors(self) -> None:
        # Only before it reads: a poll later on could take a message nobody handles.
        if self._consumer is not None and not self._subscribed and not self._assigned:
            self._consumer.poll(0)

    # -- following a topic ------------------------------------------------------------
    def follow(
        self, topic: str, *, group: str | None, start: Start | None, partition: int | None
    ) -> None:
        reset = "latest" if start is not None and start.kind is StartKind.END else "earliest"
        consumer = self._client(group, reset)
        partitions = self.check_topic(topic)
        if partition is not None and not 0 <= partition < partitions:
            raise UsageError(f"topic {topic!r} has partitions 0..{partitions - 1}, not {partition}")
        if group is not None and partition is None:
            membership = self._membership = GroupMembership(
                group,
                start if start and start.kind is not StartKind.STORED else None,
                self._assigned,
                self._at_eof,
                self._next_offset,
                self._positions,
                self._timeout_s,
                is_incremental(self._conf),
            )
            self._subscribed = True
            consumer.subscribe(
                [topic],
                on_assign=membership.on_assign,
                on_revoke=membership.on_revoke,
                on_lost=membership.on_lost,
            )
            return
        wanted = [partition] if partition is not None else list(range(partitions))
        tps = [ck.TopicPartition(topic, p) for p in wanted]
        positioned = self._positions(tps, start or Start(StartKind.BEGINNING))
        consumer.assign(positioned)
        self._assigned.update((tp.topic, tp.partition) for tp in positioned)

    def _positions(self, tps: list[Any], start: Start) -> list[Any]:
        consumer = self._client()
        kind = start.kind
        out = []
        try:
            if kind is StartKind.TIMESTAMP:
                query = [ck.TopicPartition(tp.topic, tp.partition, start.value) for tp in tps]
                found = consumer.offsets_for_times(query, timeout=self._timeout_s)
                for tp in found:
                    offset = tp.offset if tp.offset >= 0 else ck.OFFSET_END
                    out.append(ck.TopicPartition(tp.topic, tp.partition, offset))
                return out
            for tp in tps:
                if kind is StartKind.BEGINNING:
                    offset = ck.OFFSET_BEGINNING
                elif kind is StartKind.END:
                    offset = ck.OFFSET_END
                elif kind is StartKind.STORED:
                    offset = ck.OFFSET_STORED
                else:
                    low, high = consumer.get_watermark_offsets(tp, timeout=self._timeout_s)
                    if kind is StartKind.OFFSET:
                        offset = min(max(start.value, low), high)
                    else:  # LAST
                        offset = max(low, high - start.value)
                out.append(ck.TopicPartition(tp.topic, tp.partition, offset))
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"Kafka at {self.where}") from None
        return out

    # -- stopping at a bound (--to) -------------------------------------------------------
    def stop_at(self, topic: str, end: End, partition: int | None) -> None:
        consumer = self._client()
        wanted = [partition] if partition is not None else range(self.check_topic(topic))
        tps = [ck.TopicPartition(topic, p) for p in wanted]
        try:
            highs = {
                tp.partition: consumer.get_watermark_offsets(tp, timeout=self._timeout_s)[1]
                for tp in tps
            }
            if end.kind is EndKind.OFFSET:
                stops = {p: end.value + 1 for p in highs}
            else:  # the first message stamped after the time is left out
                query = [ck.TopicPartition(topic, p, end.value + 1) for p in highs]
                found = consumer.offsets_for_times(query, timeout=self._timeout_s)
                stops = {tp.partition: tp.offset if tp.offset >= 0 else -1 for tp in found}
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"Kafka at {self.where}") from None
        self._stops = {
            (topic, p): highs[p] if stop < 0 else min(stop, highs[p]) for p, stop in stops.items()
        }

    def _stop_records(self, records: list[ConsumedRecord]) -> list[ConsumedRecord]:
        """Leave out records at or after their partition's stop; pause what is done."""
        stops, done = self._stops, self._done
        kept: list[ConsumedRecord] = []
        finished: set[tuple[str, int]] = set()
        for record in records:
            key = (record.topic, record.partition)
            stop = stops.get(key)
            if stop is None:
                kept.append(record)
                continue
            if record.offset < stop:
                kept.append(record)
            if record.offset + 1 >= stop:
                finished.add(key)
        if finished - done and self._consumer is not None:
            done |= finished
            with contextlib.suppress(ck.KafkaException):  # a rebalance took it: no matter
                self._consumer.pause([ck.TopicPartition(t, p) for t, p in finished])
        return kept

    # -- reading exact ranges ------------------------------------------------------------
    def read_ranges(self, topic: str, ranges: Mapping[int, tuple[int, int]]) -> None:
        """Position on the ranges; a partition already read up to `first` is left running."""
        consumer = self._client()
        add, seek = [], []
        for partition, (first, _last) in ranges.items():
            key = (topic, partition)
            tp = ck.TopicPartition(topic, partition, first)
            if key not in self._assigned:
                add.append(tp)
            else:
                position = self._next_offset.get(key)
                if position is None or position > first or first - position > 1000:
                    seek.append(tp)
        if add and topic not in self._known_topics:
            # Metadata first: a partition whose leader is not yet known to this consumer
            # can wait for librdkafka's 1 s topic scan before its first fetch.
            self.check_topic(topic)
        try:
            if add:
                consumer.incremental_assign(add)
                self._assigned.update((tp.topic, tp.partition) for tp in add)
            for tp in seek:
                consumer.seek(tp)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"read back from {topic!r}") from None

    # -- fetching and committing ---------------------------------------------------------
    def fetch(self, max_messages: int, timeout_s: float) -> list[ConsumedRecord]:
        consumer = self._client()
        membership = self._membership
        rebalances = membership.rebalances if membership is not None else 0
        try:
            # consume(n, timeout) waits the whole timeout unless n messages arrive; take
            # what is there, else wait for the first one only (poll), then drain the rest.
            messages = consumer.consume(num_messages=max_messages, timeout=0)
            if not messages:
                first = consumer.poll(timeout_s)
                if first is not None:
                    seen = membership.rebalances if membership is not None else 0
                    rest = (
                        consumer.consume(num_messages=max_messages - 1, timeout=0)
                        if max_messages > 1
                        else []
                    )
                    # librdkafka drops what a rebalance made outdated within one call,
                    # not across two: a first message (or end of partition) from before
                    # a rebalance in the second call is dropped too (read again from the
                    # committed offset; an end reached again is reported again).
                    fresh = membership is None or membership.rebalances == seen
                    messages = [first, *rest] if fresh else rest
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"consume from {self.where}") from None
        records: list[ConsumedRecord] = []
        append, at_eof, next_offset = records.append, self._at_eof, self._next_offset
        no_timestamp = ck.TIMESTAMP_NOT_AVAILABLE
        consumed_at = now_ms()
        for msg in messages:  # once a message: each accessor is called once
            error = msg.error()
            if error is not None:
                if error.code() == _EOF:
                    self._at_eof.add((msg.topic() or "", msg.partition() or 0))
                    continue
                name = kafka_error_name(error)
                if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC"):
                    raise KafkaError(f"topic {msg.topic()!r} does not exist", code=name)
                raise KafkaError(f"consume: {describe_kafka_error(error)}", code=name)
            # a message without an error always has its topic, partition and offset
            topic: str = msg.topic()  # type: ignore[assignment]
            partition: int = msg.partition()  # type: ignore[assignment]
            offset: int = msg.offset()  # type: ignore[assignment]
            key = (topic, partition)
            if at_eof:
                at_eof.discard(key)
            next_offset[key] = offset + 1
            ts_type, ts = msg.timestamp()
            headers = msg.headers()
            append(
                ConsumedRecord(
                    topic,
                    partition,
                    offset,
                    msg.key(),
                    msg.value(),
                    tuple(headers) if headers else (),  # type: ignore[arg-type]
                    ts if ts_type != no_timestamp else None,
                    consumed_at,
                )
            )
        if self._stops:
            records = self._stop_records(records)
        if membership is not None and membership.rebalances != rebalances:
            # A rebalance inside this fetch: records of partitions taken away are dropped
            # (not handled, not committed); their new owner reads them from the committed
            # offset.
            assigned = self._assigned
            records = [r for r in records if (r.topic, r.partition) in assigned]
        return records

    def at_end(self) -> bool:
        """Every partition assigned to this consumer is at its end. A group member with
        no partitions (joining, in a rebalance, or the others hold them all) is not: it
        waits for an assignment (bounded by the caller's timeout)."""
        membership = self._membership
        if membership is not None and not (membership.has_assignment and self._assigned):
            return False
        finished = self._at_eof | self._done if self._done else self._at_eof
        if not self._assigned <= finished:
            return False
        if membership is None:
            return True
        ended = self._assigned - self._done
        doubtful = ended - membership.really_at_end(self._client(), ended) if ended else set()
        self._at_eof -= doubtful  # read on: the end of those is reported again
        return not doubtful

    def commit(self, records: Sequence[ConsumedRecord]) -> None:
        if not records or self._group is None or self._consumer is None:
            return
        latest: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record.topic, record.partition)
            latest[key] = max(latest.get(key, -1), record.offset + 1)
        if self._membership is not None:
            self._membership.commit(self._consumer, latest)
            return
        offsets = [ck.TopicPartition(t, p, o) for (t, p), o in latest.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"commit offsets for group {self._group!r}") from None

    def close(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except (ck.KafkaException, RuntimeError) as exc:
                log.debug("closing consumer: %s", exc)
            self._consumer = None


class KafkaMetadata(KafkaClientBase):
    """Cluster metadata for `check`: brokers and the topics that matter."""

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        super().__init__(conf, timeout_s)
        self._admin: Any = None

    def _metadata_client(self) -> Any:
        if self._admin is None:
            from confluent_kafka.admin import AdminClient

            conf = _with_logger(self._conf)
            conf["error_cb"] = self._on_error
            try:
                self._admin = AdminClient(conf)
            except ck.KafkaException as exc:
                raise from_kafka_exception(exc, "Kafka admin client") from None
        return self._admin

    def _serve_errors(self) -> None:
        if self._admin is not None:
            self._admin.poll(0)

    def cluster(self, topics: Sequence[str]) -> ClusterInfo:
        try:
            meta = self._metadata_client().list_topics(timeout=self._timeout_s)
        except ck.KafkaException as exc:
            raise self._unreachable(exc) from None
        present = {
            t: (len(info.partitions) if info.error is None else -1)
            for t, info in meta.topics.items()
        }
        partitions = {
            t: tuple(
                PartitionState(p.id, p.leader, tuple(p.replicas), tuple(p.isrs))
                for p in sorted(meta.topics[t].partitions.values(), key=lambda p: p.id)
            )
            for t in topics
            if present.get(t, -1) >= 0
        }
        brokers = sorted(meta.brokers.values(), key=lambda b: b.id)
        return ClusterInfo(
            cluster_id=meta.cluster_id,
            controller_id=meta.controller_id,
            brokers=tuple(f"{b.id}@{b.host}:{b.port}" for b in brokers),
            topics={t: present.get(t, -1) for t in topics},
            broker_ids=tuple(b.id for b in brokers),
            broker_addresses=tuple(f"{b.host}:{b.port}" for b in brokers),
            partitions=partitions,
            min_insync=self._min_insync(list(partitions)),
        )

    def _min_insync(self, topics: list[str]) -> dict[str, int | None]:
        """Each topic's effective min.insync.replicas (None where it cannot be read)."""
        if not topics:
            return {}
        from confluent_kafka.admin import ConfigResource  # type: ignore[attr-defined]

        found: dict[str, int | None] = dict.fromkeys(topics)
        resources = [ConfigResource("TOPIC", t) for t in topics]
        futures = self._metadata_client().describe_configs(
            resources, request_timeout=self._timeout_s
        )
        for resource, future in futures.items():
            try:
                entry = future.result(timeout=self._timeout_s).get("min.insync.replicas")
                found[resource.name] = int(entry.value) if entry is not None else None
            except (ck.KafkaException, ValueError, TypeError) as exc:
                log.info("min.insync.replicas of %r not read: %s", resource.name, exc)
        return found

    def topic_names(self) -> list[str]:
        """Every topic the cluster lists (internal ones too), sorted."""
        try:
            meta = self._metadata_client().list_topics(timeout=self._timeout_s)
        except ck.KafkaException as exc:
            raise self._unreachable(exc) from None
        return sorted(meta.topics)

    def close(self) -> None:
        self._admin = None
