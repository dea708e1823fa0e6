"""The canary's independent consumer (KafkaTopicFollower): a consumer of its own (no
group) that is assigned every partition of the canary topics at their end and reads them
in a background thread with consume(num_messages=...); the tick loop takes what it read
between ticks. The same thread refreshes the partitions' leaders once a second.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
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
from kafkaredis_cli.adapters.kafka import _with_logger
from kafkaredis_cli.adapters.kafka_consumed import consumed_records
from kafkaredis_cli.domain.messages import ConsumedRecord, now_ms

log = logging.getLogger("kafkaredis.kafka")

LEADER_REFRESH_S = 1.0
BATCH = 500  # messages a consume() call takes at most
MAX_QUEUED = 100_000  # records waiting for the tick loop (oldest dropped beyond)


class KafkaTopicFollower:
    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        self._conf = dict(conf)
        self._timeout_s = timeout_s
        self._consumer: ck.Consumer | None = None
        self._topics: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._queue: deque[ConsumedRecord] = deque(maxlen=MAX_QUEUED)
        self._positions: dict[tuple[str, int], int] = {}
        self._leaders: dict[tuple[str, int], int] = {}
        self._brokers: frozenset[int] | None = None
        self._stop = threading.Event()
        self._want_ends = threading.Event()  # catch_up() asks the thread for the ends
        self._ends: dict[tuple[str, int], int] | None = None
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._group_refusal = GroupRefusalNote()

    def _on_error(self, error: Any) -> None:
        """librdkafka's errors: the group refusal is harmless (see GROUP_REFUSED); the rest
        is the last error (the reads' own failures are seen where they fail)."""
        if kafka_error_name(error) == GROUP_REFUSED:
            self._group_refusal.note(log, "independent consumer", describe_kafka_error(error))
        else:
            log.debug("independent consumer: %s", describe_kafka_error(error))

    def _client(self) -> ck.Consumer:
        if self._consumer is None:
            conf = _with_logger(self._conf)
            conf.update(
                {
                    "group.id": f"kafkaredis-canary-{uuid.uuid4().hex[:12]}",  # never joined
                    "enable.auto.commit": "false",
                    "enable.auto.offset.store": "false",
                    "auto.offset.reset": "earliest",  # a partition added later: all of it
                    "fetch.wait.max.ms": "100",
                    "fetch.error.backoff.ms": "100",
                    "queued.max.messages.kbytes": "4096",
                    "error_cb": self._on_error,
                }
            )
            try:
                self._consumer = ck.Consumer(conf)
            except ck.KafkaException as exc:
                raise from_kafka_exception(exc, "Kafka consumer") from None
        return self._consumer

    def start(self, topics: Sequence[str]) -> None:
        self._topics = tuple(topics)
        consumer = self._client()
        assign = []
        try:
            for topic in self._topics:
                meta = consumer.list_topics(topic, timeout=self._timeout_s).topics.get(topic)
                if meta is None or meta.error is not None:
                    continue  # not there yet: the leader refresh assigns it when it appears
                for p, pm in meta.partitions.items():
                    self._leaders[(topic, p)] = pm.leader
                    tp = ck.TopicPartition(topic, p)
                    _low, high = consumer.get_watermark_offsets(tp, timeout=self._timeout_s)
                    assign.append(ck.TopicPartition(topic, p, high))
                    self._positions[(topic, p)] = high
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, "independent consumer") from None
        if assign:
            consumer.assign(assign)
        self._thread = threading.Thread(target=self._run, name="canary-follower", daemon=True)
        self._thread.start()

    # -- the background thread --------------------------------------------------------------
    def _run(self) -> None:
        consumer = self._client()
        next_refresh = time.monotonic() + LEADER_REFRESH_S
        while not self._stop.is_set():
            if self._want_ends.is_set():
                self._want_ends.clear()
                self._ends = self._current_ends(consumer)
            try:
                messages = consumer.consume(num_messages=BATCH, timeout=0.1)
            except (ck.KafkaException, RuntimeError) as exc:
                self.last_error = str(exc)
                self._stop.wait(0.1)
                continue
            if messages:
                self._keep(messages)
            if time.monotonic() >= next_refresh:
                self._refresh(consumer)
                next_refresh = time.monotonic() + LEADER_REFRESH_S

    def _keep(self, messages: list[Any]) -> None:
        records = consumed_records(messages, now_ms())
        if len(records) != len(messages):  # errors among them: note the harmless one
            for msg in messages:
                error = msg.error()
                if error is not None and kafka_error_name(error) == GROUP_REFUSED:
                    self._group_refusal.note(log, "independent consumer", str(error))
        positions = {(r.topic, r.partition): r.offset + 1 for r in records}
        with self._lock:
            self._queue.extend(records)
            self._positions.update(positions)

    def _refresh(self, consumer: ck.Consumer) -> None:
        added = []
        for topic in self._topics:
            try:
                cluster = consumer.list_topics(topic, timeout=self._timeout_s)
            except ck.KafkaException as exc:
                self.last_error = str(exc)
                return
            self._brokers = frozenset(cluster.brokers)
            meta = cluster.topics.get(topic)
            if meta is None or meta.error is not None:
                continue
            for p, pm in meta.partitions.items():
                key = (topic, p)
                if pm.leader >= 0:
                    self._leaders[key] = pm.leader
                if key not in self._positions:  # a partition added since: read it whole
                    added.append(ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING))
                    with self._lock:
                        self._positions[key] = 0
        if added:
            try:
                consumer.incremental_assign(added)
            except ck.KafkaException as exc:
                self.last_error = str(exc)

    def _current_ends(self, consumer: ck.Consumer) -> dict[tuple[str, int], int]:
        """High watermarks of every assigned partition (asked by this thread: the client
        is not to be used from two threads at once)."""
        with self._lock:
            keys = list(self._positions)
        ends = {}
        for topic, partition in keys:
            try:
                _low, high = consumer.get_watermark_offsets(
                    ck.TopicPartition(topic, partition), timeout=self._timeout_s, cached=False
                )
            except ck.KafkaException as exc:
                self.last_error = str(exc)
                continue
            ends[(topic, partition)] = high
        return ends

    # -- the tick loop's side ---------------------------------------------------------------
    def take(self) -> list[ConsumedRecord]:
        with self._lock:
            if not self._queue:
                return []
            records = list(self._queue)
            self._queue.clear()
        return records

    def leaders(self) -> Mapping[tuple[str, int], int]:
        return self._leaders

    def brokers(self) -> frozenset[int] | None:
        return self._brokers

    def catch_up(self, timeout_s: float) -> bool:
        if self._thread is None:
            return True
        deadline = time.monotonic() + timeout_s
        self._ends = None
        self._want_ends.set()
        while time.monotonic() < deadline and self._thread.is_alive():
            ends = self._ends
            if ends is not None:
                with self._lock:
                    if all(self._positions.get(key, 0) >= end for key, end in ends.items()):
                        return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._timeout_s + 2)
            self._thread = None
        if self._consumer is not None:
            try:
                self._consumer.close()
            except (ck.KafkaException, RuntimeError) as exc:
                log.debug("closing the independent consumer: %s", exc)
            self._consumer = None
