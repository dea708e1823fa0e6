"""ReadRangesHandler: read exact offset ranges back (how produce verifies its messages)."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafkaredis_cli.domain.commands import RangesRead, ReadRanges
from kafkaredis_cli.domain.messages import ConsumedRecord
from kafkaredis_cli.domain.ports import MessageConsumer
from kafkaredis_cli.handlers.consume import FETCH_MAX, POLL_S


class ReadRangesHandler:
    def __init__(self, readback: Callable[[], MessageConsumer]) -> None:
        self._readback = readback  # one consumer shared by every read-back of the app

    def handle(self, command: ReadRanges) -> RangesRead:
        ranges = dict(command.ranges)
        consumer = self._readback()
        consumer.read_ranges(command.topic, ranges)
        pending = {p: first for p, (first, _last) in ranges.items()}
        kept: list[ConsumedRecord] = []
        consumed = 0
        timeout = command.timeout_s
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
        return RangesRead(consumed=consumed, complete=not pending, records=tuple(kept))
