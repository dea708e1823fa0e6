"""confluent-kafka adapter of the consumer: follow a topic (alone or in a group), read
exact offset ranges back, fetch in batches, commit. The client is created lazily."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.adapters.errors import (
    GROUP_REFUSED,
    GroupRefusalNote,
    describe_kafka_error,
    from_kafka_exception,
    kafka_error_name,
)
from kafkaredis_cli.adapters.kafka import KafkaClientBase, _with_logger
from kafkaredis_cli.adapters.kafka_consumed import consumed_records
from kafkaredis_cli.adapters.kafka_group import (
    GroupMembership,
    is_incremental,
    rejoins_after_revoke,
)
from kafkaredis_cli.domain.messages import (
    ConsumedRecord,
    now_ms,
)
from kafkaredis_cli.domain.partitions import check_partition
from kafkaredis_cli.domain.positions import End, EndKind, Start, StartKind
from kafkaredis_cli.errors import KafkaError

log = logging.getLogger("kafkaredis.kafka")

_EOF = ck.KafkaError._PARTITION_EOF


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
        self._group_refusal = GroupRefusalNote()

    def _on_error(self, error: Any) -> None:
        if self._group is None and kafka_error_name(error) == GROUP_REFUSED:
            self._group_refusal.note(log, "reader", describe_kafka_error(error))
            return
        super()._on_error(error)

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
            self._group = group
            self._consumer = self._new_client(ck.Consumer, "consumer", conf)
        return self._consumer

    def connect(self) -> None:
        """Create the client now (no group, no assignment): librdkafka connects in its own
        threads while the caller does other work."""
        self._client()

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
        if partition is not None:
            check_partition(topic, partition, partitions)
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
                rejoins_after_revoke(self._conf),
            )
            membership.topic_partitions = {(topic, p) for p in range(partitions)}
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
                    offset = ck.OFFSET_STORED if self._group is not None else self._reset()
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

    def _reset(self) -> int:
        """Without a group nothing is stored: where the reset policy starts. (OFFSET_STORED
        would ask a group's coordinator, which a cluster with ACLs may refuse for good.)"""
        policy = str(self._conf.get("auto.offset.reset", "earliest")).lower()
        return int(ck.OFFSET_END if policy in ("latest", "largest", "end") else ck.OFFSET_BEGINNING)

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
                    if membership is not None:
                        membership.touched.clear()
                    rest = (
                        consumer.consume(num_messages=max_messages - 1, timeout=0)
                        if max_messages > 1
                        else []
                    )
                    fresh = membership is None or membership.still_good(first, seen)
                    messages = [first, *rest] if fresh else rest
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"consume from {self.where}") from None
        records = consumed_records(messages, now_ms())
        if len(records) == len(messages):  # no end of partition, no error: most fetches
            if records:  # offsets ascend within a partition: the last one wins
                reached = {(r[0], r[1]): r[2] + 1 for r in records}
                self._next_offset.update(reached)
                if self._at_eof:
                    self._at_eof.difference_update(reached)
        else:
            self._take_events(messages)
        if self._stops:
            records = self._stop_records(records)
        if membership is not None and membership.rebalances != rebalances:
            # A rebalance inside this fetch: records of partitions taken away are dropped
            # (not handled, not committed); their new owner reads them from the committed
            # offset.
            assigned = self._assigned
            records = [r for r in records if (r.topic, r.partition) in assigned]
        return records

    def _take_events(self, messages: list[Any]) -> None:
        """Ends of partitions and errors among `messages`, in their order (a message read
        after an end of its partition clears it); an error is raised."""
        at_eof, next_offset = self._at_eof, self._next_offset
        for msg in messages:
            error = msg.error()
            if error is None:
                key = (msg.topic() or "", msg.partition() or 0)
                at_eof.discard(key)
                next_offset[key] = (msg.offset() or 0) + 1
                continue
            if error.code() == _EOF:
                at_eof.add((msg.topic() or "", msg.partition() or 0))
                continue
            name = kafka_error_name(error)
            if name == GROUP_REFUSED and self._group is None:  # a reader: see GROUP_REFUSED
                self._group_refusal.note(log, "reader", describe_kafka_error(error))
                continue
            if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC"):
                raise KafkaError(f"topic {msg.topic()!r} does not exist", code=name)
            raise KafkaError(f"consume: {describe_kafka_error(error)}", code=name)

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
        if not membership.check_due() or not membership.commits_settled(self._client()):
            return False  # read to the end, but not yet committed: poll on, then again
        ended = self._assigned - self._done
        doubtful = ended - membership.really_at_end(self._client(), ended) if ended else set()
        self._at_eof -= doubtful  # read on: the end of those is reported again
        if doubtful or not membership.commits_settled(self._client()):
            return False  # (a commit of where --from put a partition may wait as well)
        return membership.group_at_end(self._client()) and membership.ended()

    def commit(self, records: Sequence[ConsumedRecord]) -> None:
        if not records or self._group is None or self._consumer is None:
            return
        # Records come in offset order within a partition: the last one of each wins.
        latest = {(r[0], r[1]): r[2] + 1 for r in records}
        if self._membership is not None:
            self._membership.commit(self._consumer, latest)
            return
        offsets = [ck.TopicPartition(t, p, o) for (t, p), o in latest.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"commit offsets for group {self._group!r}") from None

    def close(self) -> None:
        if self._membership is not None:
            self._membership.leaving = True
        if self._consumer is not None:
            try:
                self._consumer.close()
            except (ck.KafkaException, RuntimeError) as exc:
                log.debug("closing consumer: %s", exc)
            self._consumer = None
