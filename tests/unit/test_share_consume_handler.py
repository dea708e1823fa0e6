"""ShareConsumeHandler on in-memory fakes: show, mark in Redis, then ACCEPT and commit; a
failed handling RELEASEs its records and stops; --count releases the rest of a poll."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafkaredis_cli.domain.commands import ShareConsume
from kafkaredis_cli.domain.messages import ID_HEADER, SENT_AT_HEADER, ConsumedRecord
from kafkaredis_cli.domain.ports import ConsumedUpdate
from kafkaredis_cli.errors import ExitStatus, RedisError
from kafkaredis_cli.handlers.share_consume import ShareConsumeHandler


def record(offset: int) -> ConsumedRecord:
    headers = ((ID_HEADER, f"id-{offset}".encode()), (SENT_AT_HEADER, b"1"))
    return ConsumedRecord("t", 0, offset, None, f"v{offset}".encode(), headers, 1, 2)


class FakeShare:
    def __init__(self, polls: list[list[ConsumedRecord]], events: list[str]) -> None:
        self._polls = polls
        self.events = events
        self.redelivered = 0
        self.acks: dict[int, bool] = {}

    def join(self, topic: str, group: str, *, latest: bool, max_records: int) -> bool:
        self.events.append(f"join:{group}:{latest}:{max_records}")
        return True

    def fetch(self, timeout_s: float) -> list[ConsumedRecord]:
        return self._polls.pop(0) if self._polls else []

    def acknowledge(self, records: Sequence[ConsumedRecord], accept: bool) -> None:
        self.events.append(f"{'accept' if accept else 'release'}:{[r.offset for r in records]}")
        self.acks.update((r.offset, accept) for r in records)

    def commit(self) -> None:
        self.events.append("commit")

    def close(self) -> None:
        self.events.append("close")


class FakeStore:
    def __init__(self, events: list[str], fail: bool = False) -> None:
        self.events = events
        self.fail = fail
        self.marked: list[str] = []

    def mark_consumed(self, updates: Sequence[ConsumedUpdate]) -> int:
        if self.fail:
            raise RedisError("Redis at redis://x: connection refused")
        self.events.append("mark")
        self.marked += [u.id for u in updates]
        return len(updates)


def run(polls: list[list[ConsumedRecord]], store: FakeStore, **kw: Any) -> tuple[Any, FakeShare]:
    share = FakeShare(polls, store.events)
    handler = ShareConsumeHandler(lambda: share, store)  # type: ignore[arg-type, return-value]

    def show(records: Sequence[ConsumedRecord]) -> None:
        store.events.append(f"show:{[r.offset for r in records]}")

    return handler.handle(ShareConsume(topic="t", group="g", show=show, **kw)), share


def test_records_are_shown_then_marked_then_accepted_and_committed() -> None:
    events: list[str] = []
    store = FakeStore(events)
    result, _share = run([[record(0), record(1)], [record(2)]], store, count=3)
    assert events == [
        "join:g:False:3",
        "show:[0, 1]",
        "mark",
        "accept:[0, 1]",
        "commit",
        "show:[2]",
        "mark",
        "accept:[2]",
        "commit",
        "commit",
        "close",
    ]
    assert (result.consumed, result.accepted, result.released, result.stopped_by) == (
        3,
        3,
        0,
        "count",
    )
    assert store.marked == ["id-0", "id-1", "id-2"]


def test_a_count_releases_the_rest_of_the_poll() -> None:
    events: list[str] = []
    result, share = run([[record(0), record(1), record(2)]], FakeStore(events), count=1)
    assert share.acks == {0: True, 1: False, 2: False}
    assert (result.accepted, result.released) == (1, 2)


def test_a_redis_failure_releases_the_poll_and_stops_with_the_redis_status() -> None:
    events: list[str] = []
    result, share = run([[record(0), record(1)], [record(2)]], FakeStore(events, fail=True))
    assert share.acks == {0: False, 1: False}
    assert (result.accepted, result.released, result.failures) == (0, 2, 1)
    assert result.stopped_by == "failure"
    assert result.failure is not None
    assert result.failure.exit_status is ExitStatus.REDIS
    assert "2 record(s) released to share group 'g'" in str(result.failure)
    assert events[-2:] == ["commit", "close"]


def test_filtered_out_records_are_accepted_and_marked_but_not_shown() -> None:
    events: list[str] = []
    store = FakeStore(events)
    result, share = run(
        [[record(0), record(1), record(2)]],
        store,
        count=1,
        match=lambda r: r.offset == 1,
    )
    assert "show:[1]" in events
    assert share.acks == {0: True, 1: True, 2: False}  # the one after the count: released
    assert store.marked == ["id-0", "id-1"]
    assert (result.consumed, result.filtered_out, result.accepted) == (1, 1, 2)
