"""ConsumeMessageHandler: read, update the Redis record, then commit (at-least-once)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kafkaredis_cli.domain.commands import ConsumeMessage, ConsumeResult
from kafkaredis_cli.domain.messages import ConsumedRecord, kafkaredis_headers
from kafkaredis_cli.domain.ports import ConsumedUpdate, MessageConsumer, MessageStore
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.handlers.late_records import LateRecords

FETCH_MAX = 5000  # records a fetch returns at most: one Redis call and one commit each
POLL_S = 0.1
DEFAULT_RANGE_TIMEOUT_S = 10.0


def updates_for(records: Sequence[ConsumedRecord], status: Status) -> list[ConsumedUpdate]:
    out: list[ConsumedUpdate] = []
    append = out.append
    for record in records:
        message_id, sent = kafkaredis_headers(record.headers)
        if not message_id:
            continue
        consumed_at = record.consumed_at_ms
        try:
            latency = float(consumed_at - int(sent)) if sent else None
        except ValueError:
            latency = None
        append(ConsumedUpdate(message_id.decode("utf-8", "replace"), consumed_at, latency, status))
    return out


class ConsumeMessageHandler:
    def __init__(
        self,
        new_consumer: Callable[[], MessageConsumer],
        readback: Callable[[], MessageConsumer],
        store: MessageStore | None,
    ) -> None:
        self._new_consumer = new_consumer
        self._readback = readback
        self._store = store

    def handle(self, command: ConsumeMessage) -> ConsumeResult:
        if command.ranges is not None:
            return self._read_ranges(command)
        consumer = self._new_consumer()
        try:
            return self._follow(consumer, command)
        finally:
            consumer.close()

    def _follow(self, consumer: MessageConsumer, command: ConsumeMessage) -> ConsumeResult:
        consumer.follow(
            command.topic, group=command.group, start=command.start, partition=command.partition
        )
        if command.until is not None:
            consumer.stop_at(command.topic, command.until, command.partition)
        exit_at_end = command.exit_at_end or command.until is not None
        match, count = command.match, command.count
        consumed = updated = filtered_out = 0
        stopped_by = "interrupt"
        last_activity = time.monotonic()
        late = (
            LateRecords(self._store) if command.update_cache and self._store is not None else None
        )
        while not command.should_stop():
            # A filter counts only what it shows: fetch in full, and cut at the count below.
            want = FETCH_MAX if count is None or match else min(FETCH_MAX, count - consumed)
            records = consumer.fetch(want, POLL_S)
            if late is not None:
                updated += late.retry()
            if records:
                last_activity = time.monotonic()
                shown = records
                if match is not None:
                    records, shown = _matching(
                        records, match, None if count is None else count - consumed
                    )
                    filtered_out += len(records) - len(shown)
                if late is not None:
                    # Redis first, then show, then commit: a failure here commits nothing.
                    # Records a filter leaves out are handled (cached, committed) all the same.
                    updated += late.mark(updates_for(records, Status.CONSUMED))
                if command.sink is not None and shown:
                    sink = command.sink
                    for record in shown:
                        sink(record)
                    if command.flush is not None:
                        command.flush()
                consumed += len(shown)
                if command.group is not None:
                    consumer.commit(records)
                if count is not None and consumed >= count:
                    stopped_by = "count"
                    break
            if exit_at_end and consumer.at_end():
                stopped_by = "end"
                break
            if (
                command.timeout_s is not None
                and time.monotonic() - last_activity >= command.timeout_s
            ):
                stopped_by = "timeout"
                break
        if late is not None:
            updated += late.retry(now=True)
        return ConsumeResult(
            consumed=consumed,
            cache_updated=updated,
            cache_error=None,
            committed=command.group is not None,
            reached_end=consumer.at_end(),
            stopped_by=stopped_by,
            no_record=late.no_record if late is not None else 0,
            filtered_out=filtered_out,
        )

    def _read_ranges(self, command: ConsumeMessage) -> ConsumeResult:
        """Read exactly the given offsets back (how produce verifies *its* messages)."""
        assert command.ranges is not None
        ranges = dict(command.ranges)
        consumer = self._readback()
        consumer.read_ranges(command.topic, ranges)
        pending = {p: first for p, (first, _last) in ranges.items()}
        kept: list[ConsumedRecord] = []
        consumed = 0
        timeout = command.timeout_s if command.timeout_s is not None else DEFAULT_RANGE_TIMEOUT_S
        deadline = time.monotonic() + timeout
        while pending and not command.should_stop():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            before = consumed
            for record in consumer.fetch(FETCH_MAX, min(POLL_S, remaining)):
                bounds = ranges.get(record.partition)
                if record.topic != command.topic or bounds is None:
                    continue
                first, last = bounds
                if first <= record.offset <= last and record.partition in pending:
                    consumed += 1
                    if command.sink is not None:
                        command.sink(record)
                    else:
                        kept.append(record)
                if record.offset >= last:
                    pending.pop(record.partition, None)
                elif record.partition in pending:
                    pending[record.partition] = record.offset + 1
            if consumed > before:  # the bound is on waiting for the next record, not on the
                # whole read: a batch of a million messages takes longer than one does
                deadline = time.monotonic() + timeout
        return ConsumeResult(
            consumed=consumed,
            cache_updated=0,
            cache_error=None,
            committed=False,
            reached_end=not pending,
            stopped_by="ranges" if not pending else "timeout",
            records=tuple(kept),
        )


def _matching(
    records: list[ConsumedRecord], match: Callable[[ConsumedRecord], bool], wanted: int | None
) -> tuple[list[ConsumedRecord], list[ConsumedRecord]]:
    """(the records up to the `wanted`-th match, which are handled; the matches among
    them, which are shown). Records after it are left for the next read."""
    shown: list[ConsumedRecord] = []
    for index, record in enumerate(records):
        if match(record):
            shown.append(record)
            if wanted is not None and len(shown) >= wanted:
                return records[: index + 1], shown
    return records, shown
