"""ConsumeMessageHandler: follow a topic; read, update the Redis records, show, then
commit (at-least-once). Reading exact offsets back is handlers/read_back.py."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafkaredis_cli.domain.commands import ConsumeMessage, ConsumeResult
from kafkaredis_cli.domain.consumed_updates import updates_for
from kafkaredis_cli.domain.messages import ConsumedRecord
from kafkaredis_cli.domain.ports import MessageConsumer, MessageStore
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.handlers.late_records import LateRecords

FETCH_MAX = 5000  # records a fetch returns at most: one Redis call and one commit each
POLL_S = 0.1


class ConsumeMessageHandler:
    def __init__(
        self,
        new_consumer: Callable[[], MessageConsumer],
        store: MessageStore | None,
    ) -> None:
        self._new_consumer = new_consumer
        self._store = store

    def handle(self, command: ConsumeMessage) -> ConsumeResult:
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
                if command.show is not None and shown:
                    command.show(shown)
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
