"""ProduceBatchHandler: a stream produced asynchronously, its records written to Redis in
pipelined chunks, one flush, then read back by offset ranges."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafkaredis_cli.domain.commands import BatchResult, ProduceBatch, ReadRanges
from kafkaredis_cli.domain.consumed_updates import updates_for
from kafkaredis_cli.domain.messages import ConsumedRecord, StampedMessage, kafkaredis_headers, stamp
from kafkaredis_cli.domain.partitions import check_partition
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.errors import KafkaRedisError
from kafkaredis_cli.handlers.batch_accounting import CACHE_CHUNK, BatchRun, forced_result
from kafkaredis_cli.handlers.batch_input import InputError, count_rest, guarded
from kafkaredis_cli.handlers.produce import ProduceHandler
from kafkaredis_cli.signals import ForcedStop

POLL_EVERY = 1000  # messages between poll(0) calls in a batch
PROGRESS_EVERY = 5000


class ProduceBatchHandler(ProduceHandler):
    """Asynchronous produce of a stream; Redis writes pipelined in chunks; one flush."""

    def handle(self, command: ProduceBatch) -> BatchResult:
        partitions = self._producer.check_topic(command.topic)
        run = BatchRun(command, self._store, command.ttl_seconds or self._ttl_s)
        started = time.perf_counter()
        try:
            return self._run(run, command, partitions)
        except ForcedStop as stop:  # a second signal: what is in flight has no outcome yet
            stop.partial = forced_result(run, command, time.perf_counter() - started)
            raise
        finally:
            run.close()

    def _run(self, run: BatchRun, command: ProduceBatch, partitions: int) -> BatchResult:
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
            produce, on_delivery = self._producer.produce_to, run
        messages = guarded(command.messages)
        stop_error: KafkaRedisError | None = None
        not_sent = 0
        try:
            for message in messages:
                if should_stop():
                    interrupted = True
                    break
                try:
                    if message.partition is not None:
                        check_partition(topic, message.partition, partitions)
                    produce(stamp(topic, message), on_delivery)
                except KafkaRedisError as exc:  # refused before it was sent: it failed
                    run.read += 1
                    run.tally.failed += 1
                    run.errors[str(exc)] += 1
                    stop_error = exc
                    not_sent = count_rest(messages, should_stop)
                    break
                run.read += 1
                if run.read % POLL_EVERY == 0:
                    self._producer.poll(0)
                    run.maybe_cache(force=False)
                    if command.progress is not None and run.read % PROGRESS_EVERY == 0:
                        command.progress(run.progress())
        except InputError as exc:
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

    def _finish(self, run: BatchRun, command: ProduceBatch) -> int:
        """Wait for every outstanding delivery report (bounded), then write what is left."""
        deadline = time.monotonic() + command.timeout_s
        remaining = self._producer.flush(0)
        while remaining and time.monotonic() < deadline:
            remaining = self._producer.flush(min(0.5, deadline - time.monotonic()))
            run.maybe_cache(force=False)
        run.maybe_cache(force=True)
        return remaining

    def _verify(self, run: BatchRun, command: ProduceBatch) -> int:
        if not run.positions:
            return 0
        ranges = run.positions.ranges()
        verified = 0
        found: list[ConsumedRecord] = []  # read back where they landed: records to update

        holds, cache_on = run.positions.holds, run.cache_on

        def check(record: ConsumedRecord) -> None:
            nonlocal verified
            if holds(record.partition, record.offset, kafkaredis_headers(record.headers)[0]):
                verified += 1
                if cache_on:
                    found.append(record)
                    if len(found) >= CACHE_CHUNK:
                        run.mark(updates_for(found, Status.VERIFIED))
                        found.clear()

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
        run.mark(updates_for(found, Status.VERIFIED))
        return verified
