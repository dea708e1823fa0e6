"""ProduceMessageHandler and ProduceBatchHandler: produce -> cache -> read back."""

from __future__ import annotations

import time
from binascii import Error as BinasciiError
from binascii import unhexlify
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kafkaredis_cli.domain.commands import (
    BatchProgress,
    BatchResult,
    ProduceBatch,
    ProduceMessage,
    ProduceResult,
    ReadBack,
    ReadRanges,
)
from kafkaredis_cli.domain.consumed_updates import consumed_update
from kafkaredis_cli.domain.messages import (
    ConsumedRecord,
    DeliveryReport,
    DeliveryTally,
    OutgoingMessage,
    StampedMessage,
    kafkaredis_headers,
    stamp,
)
from kafkaredis_cli.domain.partitions import check_partition
from kafkaredis_cli.domain.ports import ConsumedUpdate, MessageProducer, MessageStore
from kafkaredis_cli.domain.records import MessageRecord, Status
from kafkaredis_cli.errors import (
    KafkaError,
    KafkaRedisError,
    RedisError,
    UnknownOutcome,
)
from kafkaredis_cli.signals import ForcedStop

CACHE_CHUNK = 5000  # records per pipelined Redis write in a batch
POLL_EVERY = 1000  # messages between poll(0) calls in a batch
PROGRESS_EVERY = 5000


class _ProduceHandler:
    """What both produce handlers are built from."""

    def __init__(
        self,
        producer: MessageProducer,
        store: MessageStore | None,
        read_back: ReadBack,
        default_ttl_s: int,
    ) -> None:
        self._producer = producer
        self._store = store
        self._read_ranges = read_back  # the consume handler: read exact offsets back
        self._ttl_s = default_ttl_s


class ProduceMessageHandler(_ProduceHandler):
    def handle(self, command: ProduceMessage) -> ProduceResult:
        _check_partition(command.topic, command.message, self._producer.check_topic(command.topic))
        stamped = stamp(command.topic, command.message)
        started = time.perf_counter()
        reports: list[DeliveryReport] = []
        delivered_at: list[float] = []

        def on_delivery(report: DeliveryReport) -> None:
            delivered_at.append(time.perf_counter())
            reports.append(report)

        self._producer.produce(stamped, on_delivery)
        deadline = time.monotonic() + command.timeout_s
        while not reports and time.monotonic() < deadline:
            self._producer.poll(min(0.05, max(0.0, deadline - time.monotonic())))
        if not reports:
            raise UnknownOutcome(
                f"no delivery report for {stamped.id} within {command.timeout_s:g}s "
                "(broker unreachable?)",
                code="_MSG_TIMED_OUT",
            )
        report = reports[0]
        if report.possibly_persisted:
            raise UnknownOutcome(
                f"delivery to {command.topic!r}: outcome unknown (possibly on the broker): "
                f"{report.error}",
                code=report.error_code,
            )
        if not report.ok:
            raise KafkaError(
                f"delivery to {command.topic!r} failed: {report.error}", code=report.error_code
            )

        record = MessageRecord.from_delivery(report)
        cached, cache_error = False, None
        if command.cache and self._store is not None:
            try:
                self._store.save([record], command.ttl_seconds or self._ttl_s)
                cached = True
            except RedisError as exc:
                cache_error = str(exc)

        verified: bool | None = None
        verify_error: str | None = None
        round_trip_ms: float | None = None
        if command.verify:
            remaining = max(0.5, deadline - time.monotonic())
            verified, verify_error, found = self._read_back(report, remaining)
            if found is not None:
                round_trip_ms = (time.perf_counter() - started) * 1000
                if cached and self._store is not None:
                    try:
                        latency = float(found.consumed_at_ms - stamped.sent_at_ms)
                        update = ConsumedUpdate(
                            id=stamped.id,
                            consumed_at_ms=found.consumed_at_ms,
                            latency_ms=latency,
                            status=Status.VERIFIED,
                        )
                        self._store.mark_consumed([update])
                    except RedisError as exc:
                        cache_error = str(exc)
        return ProduceResult(
            id=stamped.id,
            topic=command.topic,
            partition=report.partition,
            offset=report.offset,
            sent_at_ms=stamped.sent_at_ms,
            delivered_at_ms=report.delivered_at_ms,
            cached=cached,
            cache_error=cache_error,
            verified=verified,
            verify_error=verify_error,
            delivery_ms=(delivered_at[0] - started) * 1000,
            round_trip_ms=round_trip_ms,
        )

    def _read_back(
        self, report: DeliveryReport, timeout_s: float
    ) -> tuple[bool, str | None, ConsumedRecord | None]:
        where = f"{report.message.topic}[{report.partition}]@{report.offset}"
        result = self._read_ranges(
            ReadRanges(
                topic=report.message.topic,
                ranges={report.partition: (report.offset, report.offset)},
                timeout_s=timeout_s,
            )
        )
        for found in result.records:
            if found.partition == report.partition and found.offset == report.offset:
                if found.message_id == report.message.id:
                    return True, None, found
                return False, f"{where} holds another message ({found.message_id})", None
        return False, f"{where} not read back within {timeout_s:.1f}s", None


class ProduceBatchHandler(_ProduceHandler):
    """Asynchronous produce of a stream; Redis writes pipelined in chunks; one flush."""

    def handle(self, command: ProduceBatch) -> BatchResult:
        partitions = self._producer.check_topic(command.topic)
        run = _BatchRun(command, self._store, command.ttl_seconds or self._ttl_s)
        started = time.perf_counter()
        try:
            return self._run(run, command, partitions)
        except ForcedStop as stop:  # a second signal: what is in flight has no outcome yet
            stop.partial = _forced_result(run, command, time.perf_counter() - started)
            raise
        finally:
            run.close()

    def _run(self, run: _BatchRun, command: ProduceBatch, partitions: int) -> BatchResult:
        started = time.perf_counter()
        input_error: str | None = None
        interrupted = False
        # The loop runs once a message: names it uses are looked up once, here.
        topic, should_stop = command.topic, command.should_stop
        # A batch that keeps nothing of each message only counts its delivery reports.
        produce: Callable[[StampedMessage, Any], None]
        on_delivery: Any
        if run.counting_only:
            produce, on_delivery = self._producer.produce_counted, run.tally
        else:
            produce, on_delivery = self._producer.produce, run.on_delivery
        messages = _guarded(command.messages)
        stop_error: KafkaRedisError | None = None
        not_sent = 0
        try:
            for message in messages:
                if should_stop():
                    interrupted = True
                    break
                try:
                    if message.partition is not None:
                        _check_partition(topic, message, partitions)
                    produce(stamp(topic, message), on_delivery)
                except KafkaRedisError as exc:  # refused before it was sent: it failed
                    run.read += 1
                    run.tally.failed += 1
                    run.errors[str(exc)] += 1
                    stop_error = exc
                    not_sent = _count_rest(messages, should_stop)
                    break
                run.read += 1
                if run.read % POLL_EVERY == 0:
                    self._producer.poll(0)
                    run.maybe_cache(force=False)
                    if command.progress is not None and run.read % PROGRESS_EVERY == 0:
                        command.progress(run.progress())
        except _InputError as exc:
            input_error = str(exc.error)
            not_sent = exc.not_sent
        run.read += not_sent
        # A signal may also have ended the input itself (a wait for stdin interrupted).
        interrupted = interrupted or command.should_stop()
        undelivered = self._finish(run, command)
        if undelivered:  # still queued or in flight: they may yet reach the broker
            run.tally.unknown += undelivered
            late = f"{undelivered} without a delivery report within {command.timeout_s:g}s"
            run.errors[late] += 1
        if command.progress is not None:
            command.progress(run.progress())
        verified = self._verify(run, command) if command.verify and not interrupted else 0
        return BatchResult(
            read=run.read,
            delivered=run.delivered,
            failed=run.failed,
            unknown=run.tally.unknown,
            cached=run.cached,
            cache_failed=run.cache_failed,
            verified=verified,
            verify_asked=command.verify,
            elapsed_s=time.perf_counter() - started,
            errors=tuple(
                f"{text} (x{n})" if n > 1 else text for text, n in run.errors.most_common(5)
            ),
            interrupted=interrupted,
            input_error=input_error,
            not_sent=not_sent,
            stop_error=stop_error,
        )

    def _finish(self, run: _BatchRun, command: ProduceBatch) -> int:
        """Wait for every outstanding delivery report (bounded), then write what is left."""
        deadline = time.monotonic() + command.timeout_s
        remaining = self._producer.flush(0)
        while remaining and time.monotonic() < deadline:
            remaining = self._producer.flush(min(0.5, deadline - time.monotonic()))
            run.maybe_cache(force=False)
        run.maybe_cache(force=True)
        return remaining

    def _verify(self, run: _BatchRun, command: ProduceBatch) -> int:
        if not run.positions:
            return 0
        ranges = run.positions.ranges()
        verified = 0
        updates: list[ConsumedUpdate] = []

        holds, cache_on, verified_status = run.positions.holds, run.cache_on, Status.VERIFIED

        def check(record: ConsumedRecord) -> None:
            nonlocal verified
            raw_id, sent = kafkaredis_headers(record.headers)
            if holds(record.partition, record.offset, raw_id):
                assert raw_id is not None
                verified += 1
                if cache_on:
                    updates.append(
                        consumed_update(raw_id, sent, record.consumed_at_ms, verified_status)
                    )
                    if len(updates) >= CACHE_CHUNK:
                        run.mark(updates)
                        updates.clear()

        try:
            self._read_ranges(
                ReadRanges(
                    topic=command.topic,
                    ranges=ranges,
                    timeout_s=command.timeout_s,
                    sink=check,
                    should_stop=command.should_stop,
                )
            )
        except KafkaRedisError as exc:
            # The deliveries stand: what was not read back is counted (and the summary
            # printed), not lost in an error that tells nothing of the batch.
            run.errors[f"read-back: {exc}"] += 1
        run.mark(updates)
        return verified


def _forced_result(run: _BatchRun, command: ProduceBatch, elapsed_s: float) -> BatchResult:
    """The accounting of a batch a second signal cut short: every message read and not yet
    reported is of unknown outcome (it may reach the broker after the process is gone)."""
    in_flight = max(0, run.read - run.delivered - run.failed - run.tally.unknown)
    if in_flight:
        run.errors[f"{in_flight} in flight when stopped at once"] += 1
    return BatchResult(
        read=run.read,
        delivered=run.delivered,
        failed=run.failed,
        unknown=run.tally.unknown + in_flight,
        cached=run.cached,
        cache_failed=run.cache_failed,
        verified=0,
        verify_asked=command.verify,
        elapsed_s=elapsed_s,
        errors=tuple(text for text, _n in run.errors.most_common(5)),
        interrupted=True,
    )


def _check_partition(topic: str, message: OutgoingMessage, partitions: int) -> None:
    if message.partition is not None:
        check_partition(topic, message.partition, partitions)


class _InputError(Exception):
    def __init__(self, error: KafkaRedisError) -> None:
        self.error = error
        # the bad line, and the lines after it when the input counted them
        self.not_sent: int = getattr(error, "not_sent", 1)


def _count_rest(messages: Iterator[OutgoingMessage], should_stop: Callable[[], bool]) -> int:
    """The input's remaining messages, read and counted but never sent (to the end, a bad
    line, or a stop signal)."""
    count = 0
    try:
        for _message in messages:
            count += 1
            if should_stop():
                break
    except _InputError as exc:
        count += exc.not_sent
    return count


def _guarded(messages: object) -> Iterator[OutgoingMessage]:
    """Tell input errors (bad line) apart from errors of the produce itself."""
    iterator = iter(messages)  # type: ignore[call-overload]
    while True:
        try:
            message = next(iterator)
        except StopIteration:
            return
        except KafkaRedisError as exc:
            raise _InputError(exc) from None
        yield message


def _id_bytes(message_id: bytes | None) -> bytes:
    """A UUID's 16 bytes from its text (a header's value); 16 zero bytes (which no id
    has) for anything else."""
    try:
        raw = unhexlify(message_id.replace(b"-", b"")) if message_id else b""
    except (BinasciiError, ValueError):
        raw = b""
    return raw if len(raw) == 16 else _NO_ID


_NO_ID = bytes(16)


class _Positions:
    """Which message landed where: per partition, the first offset and the ids from there
    on, 16 bytes a message (a dict of id strings takes ten times that: 1M messages would
    need ~170 MB). Offsets another producer took in between hold zeros."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[list[int], bytearray]] = {}

    def __bool__(self) -> bool:
        return bool(self._parts)

    def add(self, partition: int, offset: int, message_id: str) -> None:
        raw = bytes.fromhex(message_id.replace("-", ""))  # one of our own ids: well formed
        part = self._parts.get(partition)
        if part is None:
            self._parts[partition] = ([offset], bytearray(raw))
            return
        first, ids = part
        if offset < first[0]:  # reports out of offset order (rare): make room in front
            ids[0:0] = bytes((first[0] - offset) * 16)
            first[0] = offset
        at = (offset - first[0]) * 16
        if at > len(ids):
            ids.extend(bytes(at - len(ids)))
        ids[at : at + 16] = raw

    def ranges(self) -> dict[int, tuple[int, int]]:
        """partition -> (first, last) offset of this batch's messages."""
        return {
            p: (first[0], first[0] + len(ids) // 16 - 1) for p, (first, ids) in self._parts.items()
        }

    def holds(self, partition: int, offset: int, message_id: bytes | None) -> bool:
        """Did this batch's message `message_id` (a header's value) land at
        partition/offset?"""
        part = self._parts.get(partition)
        if part is None:
            return False
        first, ids = part
        at = (offset - first[0]) * 16
        if at < 0 or at + 16 > len(ids):
            return False
        raw = _id_bytes(message_id)
        return raw != _NO_ID and ids[at : at + 16] == raw


class _BatchRun:
    """Counters and buffers of one batch; delivery reports land here."""

    def __init__(self, command: ProduceBatch, store: MessageStore | None, ttl_s: int) -> None:
        self.store = store if command.cache else None
        self.cache_on = self.store is not None
        self.ttl_s = ttl_s
        self.verify = command.verify
        self.read = 0
        self.cached = self.cache_failed = 0
        self.tally = DeliveryTally()  # delivered, failed and the errors by text
        self.errors: Counter[str] = self.tally.errors
        # Nothing kept per message: the producer only counts its delivery reports.
        self.counting_only = not self.cache_on and not self.verify
        self.pending: list[MessageRecord] = []
        self._writer: ThreadPoolExecutor | None = None
        self._saving: tuple[Future[None], int] | None = None  # the chunk being written
        self.positions = _Positions()

    @property
    def delivered(self) -> int:
        return self.tally.delivered

    @property
    def failed(self) -> int:
        return self.tally.failed

    def on_delivery(self, report: DeliveryReport) -> None:
        if report.error is not None:
            self.tally.add(report)
            return
        self.tally.delivered += 1
        if self.cache_on:
            self.pending.append(MessageRecord.from_delivery(report))
        if self.verify:
            self.positions.add(report.partition, report.offset, report.message.id)

    def maybe_cache(self, *, force: bool) -> None:
        """Write a full chunk (any rest with `force`) while the batch goes on: one chunk at
        a time is written by a thread of its own, so the wait for Redis overlaps the
        produce loop; `force` also waits for it."""
        store = self.store
        if store is None:
            return
        if self.pending and (force or len(self.pending) >= CACHE_CHUNK):
            chunk, self.pending = self.pending, []
            self._collect()  # at most one chunk in flight (bounded memory, kept in order)
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="kafkaredis-cache")
            self._saving = (self._writer.submit(store.save, chunk, self.ttl_s), len(chunk))
        if force:
            self._collect()

    def _collect(self) -> None:
        if self._saving is None:
            return
        future, count = self._saving
        self._saving = None
        try:
            future.result()
            self.cached += count
        except RedisError as exc:
            self.cache_failed += count
            self.errors[f"cache: {exc}"] += 1

    def close(self) -> None:
        """Wait for a write still in flight (its outcome counted), then end the writer."""
        try:
            self._collect()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    def mark(self, updates: list[ConsumedUpdate]) -> None:
        if self.store is None or not updates:
            return
        try:
            self.store.mark_consumed(updates)
        except RedisError as exc:
            self.errors[f"cache: {exc}"] += 1

    def progress(self) -> BatchProgress:
        return BatchProgress(
            read=self.read,
            delivered=self.delivered,
            failed=self.failed,
            unknown=self.tally.unknown,
        )
