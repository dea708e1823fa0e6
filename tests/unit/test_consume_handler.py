"""ConsumeMessageHandler on in-memory fakes of the ports: Redis first, then show, then commit."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from kafkaredis_cli.domain.commands import (
    ConsumeMessage,
    ProduceBatch,
    ProduceMessage,
    ReadRanges,
)
from kafkaredis_cli.domain.messages import (
    ConsumedRecord,
    OutgoingMessage,
)
from kafkaredis_cli.domain.positions import Start, StartKind
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.errors import RedisError, UsageError
from tests.fakes import fake_app
from tests.unit.test_produce_batch_handler import lines

BINARY = b"\xff\x00\xfe not utf-8"


def produced(app_count: int = 10, topic: str = "t"):  # type: ignore[no-untyped-def]
    app = fake_app()
    app.mediator.send(ProduceBatch(topic=topic, messages=lines(app_count), verify=False))
    app.events.clear()
    return app


def test_consume_updates_redis_then_shows_then_commits() -> None:
    app = produced(3)
    shown: list[ConsumedRecord] = []

    def show(records: Sequence[ConsumedRecord]) -> None:
        for record in records:
            app.events.append(f"show:{record.offset}")
            shown.append(record)

    result = app.mediator.send(
        ConsumeMessage(topic="t", group="g", start=Start(StartKind.BEGINNING), count=3, show=show)
    )
    assert app.events == [
        "consumer0:follow",
        "consumer0:fetch:3",
        "mark_consumed",
        "show:0",
        "show:1",
        "show:2",
        "consumer0:commit",
    ]
    assert (result.consumed, result.cache_updated, result.stopped_by) == (3, 3, "count")
    assert result.committed is True
    assert app.broker.committed[("g", "t", 0)] == 3
    assert all(r.status is Status.CONSUMED for r in app.store.records.values())
    assert all(r.latency_ms is not None for r in app.store.records.values())
    assert app.consumers[0].closed


def test_consume_with_redis_down_commits_nothing() -> None:
    app = produced(3)
    app.store.fail = "Redis down"
    with pytest.raises(RedisError, match="Redis down"):
        app.mediator.send(
            ConsumeMessage(topic="t", group="g", start=Start(StartKind.BEGINNING), count=3)
        )
    assert ("g", "t", 0) not in app.broker.committed
    assert app.consumers[0].closed


def test_consume_no_group_commits_nothing_and_exits_at_end() -> None:
    app = produced(5)
    result = app.mediator.send(
        ConsumeMessage(topic="t", start=Start(StartKind.BEGINNING), exit_at_end=True)
    )
    assert (result.consumed, result.stopped_by, result.reached_end) == (5, "end", True)
    assert result.committed is False
    assert app.broker.committed == {}
    assert app.consumers[0].commits == []


def test_consume_count_is_exact_across_fetches() -> None:
    app = produced(1200)
    shown: list[int] = []
    result = app.mediator.send(
        ConsumeMessage(
            topic="t",
            group="g",
            start=Start(StartKind.BEGINNING),
            count=1001,
            show=lambda rs: shown.extend(r.offset for r in rs),
        )
    )
    assert result.consumed == 1001
    assert shown == list(range(1001))
    assert app.broker.committed[("g", "t", 0)] == 1001


def test_consume_in_a_group_resumes_where_it_stopped() -> None:
    app = produced(10)
    first: list[int] = []
    second: list[int] = []
    app.mediator.send(
        ConsumeMessage(
            topic="t", group="g", count=4, show=lambda rs: first.extend(r.offset for r in rs)
        )
    )
    app.mediator.send(
        ConsumeMessage(
            topic="t",
            group="g",
            exit_at_end=True,
            show=lambda rs: second.extend(r.offset for r in rs),
        )
    )
    assert first == [0, 1, 2, 3]
    assert second == [4, 5, 6, 7, 8, 9]


def test_consume_last_n_and_offset_and_timestamp_starts() -> None:
    app = produced(10)

    def read(start: Start) -> list[int]:
        got: list[int] = []
        app.mediator.send(
            ConsumeMessage(
                topic="t",
                start=start,
                exit_at_end=True,
                show=lambda rs: got.extend(r.offset for r in rs),
            )
        )
        return got

    assert read(Start(StartKind.LAST, 3)) == [7, 8, 9]
    assert read(Start(StartKind.OFFSET, 8)) == [8, 9]
    assert read(Start(StartKind.END)) == []
    sixth = app.broker.log("t")[6].timestamp_ms
    assert sixth is not None
    assert read(Start(StartKind.TIMESTAMP, sixth)) == [6, 7, 8, 9]


def test_consume_timeout_stops_after_a_quiet_spell() -> None:
    app = produced(2)
    result = app.mediator.send(
        ConsumeMessage(topic="t", start=Start(StartKind.BEGINNING), timeout_s=0.1)
    )
    assert (result.consumed, result.stopped_by) == (2, "timeout")


def test_consume_should_stop_ends_the_loop() -> None:
    app = produced(2)
    result = app.mediator.send(
        ConsumeMessage(topic="t", group="g", start=Start(StartKind.END), should_stop=lambda: True)
    )
    assert (result.consumed, result.stopped_by) == (0, "interrupt")


def test_consume_messages_without_an_id_do_not_touch_redis_records() -> None:
    app = fake_app()
    app.broker.append("t", b"foreign")
    result = app.mediator.send(
        ConsumeMessage(topic="t", start=Start(StartKind.BEGINNING), exit_at_end=True)
    )
    assert (result.consumed, result.cache_updated) == (1, 0)
    assert app.store.records == {}


def test_consume_without_cache_does_not_call_redis() -> None:
    app = produced(3)
    app.store.fail = "must not be called"
    result = app.mediator.send(
        ConsumeMessage(
            topic="t", start=Start(StartKind.BEGINNING), exit_at_end=True, update_cache=False
        )
    )
    assert (result.consumed, result.cache_updated) == (3, 0)


def test_read_ranges_returns_exactly_those_offsets() -> None:
    app = produced(10)
    result = app.mediator.send(ReadRanges(topic="t", ranges={0: (3, 5)}))
    assert [r.offset for r in result.records] == [3, 4, 5]
    assert (result.consumed, result.complete) == (3, True)


def test_read_ranges_that_never_arrive_time_out() -> None:
    app = produced(2)
    result = app.mediator.send(ReadRanges(topic="t", ranges={0: (5, 6)}, timeout_s=0.1))
    assert (result.consumed, result.complete) == (0, False)


def test_partition_out_of_range_is_a_usage_error_before_anything_is_sent() -> None:
    app = fake_app()
    app.broker.create("three", 3)
    message = OutgoingMessage(value=b"v", partition=3)
    with pytest.raises(UsageError, match=r"topic 'three' has partitions 0\.\.2, not 3"):
        app.mediator.send(ProduceMessage(topic="three", message=message))
    # A batch stops at that message and still accounts for every line: it failed (never
    # sent), the one after it was not sent.
    batch = app.mediator.send(ProduceBatch(topic="three", messages=[message, message]))
    assert isinstance(batch.stop_error, UsageError) and "not 3" in str(batch.stop_error)
    assert (batch.read, batch.failed, batch.not_sent, batch.delivered) == (2, 1, 1, 0)
    assert app.producer.produced == []
    ok = app.mediator.send(
        ProduceMessage(topic="three", message=OutgoingMessage(value=b"v", partition=2))
    )
    assert ok.partition == 2 and ok.verified is True
