"""ShareConsumeHandler: a member of a share group (KIP-932). Each poll's records are
shown, their Redis records marked consumed, and only then acknowledged (ACCEPT); the
acknowledgements are committed at every poll and at the end. A handling that fails
(Redis down, a record that cannot be shown) releases its records (RELEASE) so another
member gets them, and stops this one: going on would acquire and release record after
record until the broker archives them (share.delivery.count.limit)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kafkaredis_cli.domain.commands import ShareConsume, ShareConsumeResult
from kafkaredis_cli.domain.consumed_updates import updates_for
from kafkaredis_cli.domain.messages import ConsumedRecord
from kafkaredis_cli.domain.ports import MessageStore, ShareConsumer
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.errors import KafkaRedisError
from kafkaredis_cli.handlers.consume import _matching
from kafkaredis_cli.handlers.late_records import LateRecords

log = logging.getLogger("kafkaredis.consume")

MAX_RECORDS = 500  # records a poll acquires at most (librdkafka's max.poll.records)
POLL_S = 0.2


class ShareConsumeHandler:
    def __init__(
        self, new_consumer: Callable[[], ShareConsumer], store: MessageStore | None
    ) -> None:
        self._new_consumer = new_consumer
        self._store = store

    def handle(self, command: ShareConsume) -> ShareConsumeResult:
        consumer = self._new_consumer()
        try:
            return self._member(consumer, command)
        finally:
            consumer.close()

    def _member(self, consumer: ShareConsumer, command: ShareConsume) -> ShareConsumeResult:
        count, match = command.count, command.match
        wanted = MAX_RECORDS if count is None else min(MAX_RECORDS, count)
        new = consumer.join(command.topic, command.group, latest=command.latest, max_records=wanted)
        late = (
            LateRecords(self._store) if command.update_cache and self._store is not None else None
        )
        consumed = accepted = released = failures = updated = filtered_out = 0
        stopped_by = "interrupt"
        failure: KafkaRedisError | None = None
        last_activity = time.monotonic()
        while not command.should_stop():
            records = consumer.fetch(POLL_S)
            if late is not None:
                updated += late.retry()
            if records:
                last_activity = time.monotonic()
                left = None if count is None else count - consumed
                handled, shown = _handled(records, match, left)
                try:
                    if command.show is not None and shown:
                        command.show(shown)
                    if late is not None:
                        updated += late.mark(updates_for(handled, Status.CONSUMED))
                except (KafkaRedisError, ValueError) as exc:
                    consumer.acknowledge(records, accept=False)
                    consumer.commit()
                    released += len(records)
                    failures += 1
                    failure = _as_error(exc, len(records), command.group)
                    stopped_by = "failure"
                    break
                consumer.acknowledge(handled, accept=True)
                rest = records[len(handled) :]  # past --count: for another member
                if rest:
                    consumer.acknowledge(rest, accept=False)
                consumer.commit()
                accepted += len(handled)
                released += len(rest)
                consumed += len(shown)
                filtered_out += len(handled) - len(shown)
                if count is not None and consumed >= count:
                    stopped_by = "count"
                    break
            if (
                command.timeout_s is not None
                and time.monotonic() - last_activity >= command.timeout_s
            ):
                stopped_by = "timeout"
                break
        consumer.commit()
        if late is not None:
            updated += late.retry(now=True)
        return ShareConsumeResult(
            consumed=consumed,
            accepted=accepted,
            released=released,
            failures=failures,
            redelivered=consumer.redelivered,
            cache_updated=updated,
            stopped_by=stopped_by,
            no_record=late.no_record if late is not None else 0,
            filtered_out=filtered_out,
            new_group=new,
            failure=failure,
        )


def _handled(
    records: list[ConsumedRecord],
    match: Callable[[ConsumedRecord], bool] | None,
    left: int | None,
) -> tuple[list[ConsumedRecord], list[ConsumedRecord]]:
    """(the records handled and accepted, those of them shown): up to the count."""
    if match is not None:
        return _matching(records, match, left)
    handled = records if left is None else records[:left]
    return handled, handled


def _as_error(exc: Exception, released: int, group: str) -> KafkaRedisError:
    what = exc.message if isinstance(exc, KafkaRedisError) else f"a record: {exc}"
    error = KafkaRedisError(
        f"{what} ({released} record(s) released to share group {group!r} for another member)"
    )
    if isinstance(exc, KafkaRedisError):
        error.exit_status = exc.exit_status
        error.code = exc.code
    return error
