"""The accounting of one batch: counters, delivery reports, the records written to Redis
in chunks by a thread of their own, and the result of a batch cut short."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from time import time_ns

from kafkaredis_cli.domain.commands import BatchProgress, BatchResult, ProduceBatch
from kafkaredis_cli.domain.messages import DeliveryReport, DeliveryTally, StampedMessage
from kafkaredis_cli.domain.ports import ConsumedUpdate, MessageStore
from kafkaredis_cli.domain.records import record_blob
from kafkaredis_cli.errors import RedisError
from kafkaredis_cli.handlers.batch_positions import Positions

CACHE_CHUNK = 5000  # records per pipelined Redis write in a batch


class BatchRun:
    """Counters and buffers of one batch; delivery reports land here (a DeliverySink)."""

    def __init__(self, command: ProduceBatch, store: MessageStore | None, ttl_s: int) -> None:
        self.store = store if command.cache else None
        self.cache_on = self.store is not None
        self.topic = command.topic
        self.ttl_s = ttl_s
        self.verify = command.verify
        self.read = 0
        self.cached = self.cache_failed = 0
        self.tally = DeliveryTally()  # delivered, failed and the errors by text
        self.errors: Counter[str] = self.tally.errors
        # Nothing kept per message: the producer only counts its delivery reports.
        self.counting_only = not self.cache_on and not self.verify
        self.pending: list[tuple[str, bytes]] = []  # (id, stored record) to write
        self._writer: ThreadPoolExecutor | None = None
        self._saving: tuple[Future[None], int] | None = None  # the chunk being written
        self.positions = Positions()

    @property
    def delivered(self) -> int:
        return self.tally.delivered

    @property
    def failed(self) -> int:
        return self.tally.failed

    def on_delivered(self, message: StampedMessage, partition: int, offset: int) -> None:
        """A message on the broker: counted, its record encoded at once (no objects in
        between: the hot path of a cached batch), its place kept for the read-back."""
        self.tally.delivered += 1
        message_id = message.id
        if self.cache_on:
            outgoing = message.message
            self.pending.append(
                (
                    message_id,
                    record_blob(
                        message_id,
                        message.topic,
                        partition,
                        offset,
                        outgoing.key,
                        outgoing.value,
                        outgoing.headers,
                        message.sent_at_ms,
                        time_ns() // 1_000_000,  # now_ms(), one call less
                    ),
                )
            )
        if self.verify:
            self.positions.add(partition, offset, message_id)

    def on_failed(self, report: DeliveryReport) -> None:
        self.tally.add(report)

    def maybe_cache(self, *, force: bool) -> None:
        """Write a full chunk (any rest with `force`) while the batch goes on: one chunk at
        a time is written by a thread of its own, so the wait for Redis overlaps the
        produce loop; `force` also waits for it. The records are encoded already (in
        on_delivered): the thread only sends, and holds the GIL little."""
        store = self.store
        if store is None:
            return
        if self.pending and (force or len(self.pending) >= CACHE_CHUNK):
            chunk, self.pending = self.pending, []
            self._collect()  # at most one chunk in flight (bounded memory, kept in order)
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="kafkaredis-cache")
            saving = self._writer.submit(store.save_encoded, self.topic, chunk, self.ttl_s)
            self._saving = (saving, len(chunk))
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


def forced_result(run: BatchRun, command: ProduceBatch, elapsed_s: float) -> BatchResult:
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
