"""ProduceBatchHandler on in-memory fakes of the ports: delivery, cache and read-back counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkaredis_cli.domain.commands import (
    BatchProgress,
    ProduceBatch,
)
from kafkaredis_cli.domain.messages import (
    ID_HEADER,
    SENT_AT_HEADER,
    OutgoingMessage,
)
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.errors import UsageError
from kafkaredis_cli.handlers.batch_accounting import CACHE_CHUNK
from tests.fakes import FakeBroker, FakeProducer, fake_app


def lines(n: int, start: int = 0) -> Iterator[OutgoingMessage]:
    for i in range(start, start + n):
        yield OutgoingMessage(value=f"line {i}".encode(), key=f"k{i % 7}".encode())


def test_batch_delivers_caches_and_verifies_every_message() -> None:
    app = fake_app()
    seen: list[BatchProgress] = []
    n = CACHE_CHUNK * 2 + 345
    result = app.mediator.send(ProduceBatch(topic="t", messages=lines(n), progress=seen.append))
    assert (result.read, result.delivered, result.failed) == (n, n, 0)
    assert (result.cached, result.cache_failed, result.verified) == (n, 0, n)
    assert result.errors == () and result.input_error is None and not result.interrupted
    assert [r.value for r in app.broker.log("t")] == [f"line {i}".encode() for i in range(n)]
    assert len(app.store.records) == n
    assert all(r.status is Status.VERIFIED for r in app.store.records.values())
    # Redis written in pipelined chunks, not per message; no flush per message.
    assert len(app.store.saves) <= n // CACHE_CHUNK + 1
    assert max(app.store.saves) <= CACHE_CHUNK + 1000
    assert app.producer.flushes <= 3
    assert seen and seen[-1] == BatchProgress(read=n, delivered=n, failed=0)
    # Only one check_topic and one read-back positioning for the whole batch.
    assert app.events.count("check_topic:t") == 1
    assert app.events.count("readback:read_ranges") == 1


def test_batch_ids_are_unique_and_time_ordered() -> None:
    app = fake_app()
    app.mediator.send(ProduceBatch(topic="t", messages=lines(500), verify=False))
    ids = [m.id for m in app.producer.produced]
    assert len(set(ids)) == 500
    assert ids == sorted(ids)


def test_batch_bad_input_line_stops_there_and_reports_it() -> None:
    def messages() -> Iterator[OutgoingMessage]:
        yield from lines(3)
        raise UsageError("line 4: not valid JSON (Expecting value)")

    app = fake_app()
    result = app.mediator.send(ProduceBatch(topic="t", messages=messages()))
    assert result.input_error == "line 4: not valid JSON (Expecting value)"
    assert (result.read, result.delivered, result.cached, result.verified) == (4, 3, 3, 3)
    assert (result.sent, result.not_sent, result.failed) == (3, 1, 0)  # the bad line itself


def test_batch_with_redis_down_delivers_everything_and_counts_the_cache_failures() -> None:
    app = fake_app()
    app.store.fail = "Redis at redis://h:1/0 unreachable"
    result = app.mediator.send(ProduceBatch(topic="t", messages=lines(100)))
    assert (result.delivered, result.cached, result.cache_failed) == (100, 0, 100)
    assert result.verified == 100
    assert any("cache: Redis at redis://h:1/0 unreachable" in e for e in result.errors)
    assert len(app.broker.log("t")) == 100


def test_batch_failed_deliveries_are_counted_not_cached() -> None:
    broker = FakeBroker()
    app = fake_app(broker=broker, producer=FakeProducer(broker, fail_with="Broker: down"))
    result = app.mediator.send(ProduceBatch(topic="t", messages=lines(10)))
    assert (result.read, result.delivered, result.failed) == (10, 0, 10)
    assert result.cached == 0 and result.verified == 0
    assert result.errors == ("Broker: down (x10)",)


def test_batch_undelivered_within_the_timeout_are_counted_as_unknown_outcome() -> None:
    broker = FakeBroker()
    app = fake_app(broker=broker, producer=FakeProducer(broker, hold=True))
    result = app.mediator.send(ProduceBatch(topic="t", messages=lines(5), timeout_s=0.2))
    assert (result.read, result.delivered, result.failed, result.unknown) == (5, 0, 0, 5)
    assert any("5 without a delivery report within 0.2s" in e for e in result.errors)


@pytest.mark.parametrize("cache", [True, False])  # False: the counting-only path
def test_batch_timed_out_deliveries_are_unknown_outcome_apart_from_failed(cache: bool) -> None:
    broker = FakeBroker()
    producer = FakeProducer(broker, fail_with="Local: Message timed out", possibly_persisted=True)
    app = fake_app(broker=broker, producer=producer)
    result = app.mediator.send(
        ProduceBatch(topic="t", messages=lines(6), cache=cache, verify=cache)
    )
    assert (result.read, result.delivered, result.failed, result.unknown) == (6, 0, 0, 6)
    assert result.errors == ("Local: Message timed out (x6)",)


def test_batch_stop_ends_the_input_and_still_counts_what_was_sent() -> None:
    app = fake_app()
    stop_after = 250
    sent: list[int] = []

    def messages() -> Iterator[OutgoingMessage]:
        for message in lines(1000):
            sent.append(1)
            yield message

    result = app.mediator.send(
        ProduceBatch(topic="t", messages=messages(), should_stop=lambda: len(sent) > stop_after)
    )
    assert result.interrupted is True
    assert result.read == stop_after
    assert result.delivered == stop_after and result.cached == stop_after
    assert result.verified == 0  # no read-back after an interrupt


def test_batch_no_cache_and_no_verify() -> None:
    app = fake_app()
    result = app.mediator.send(
        ProduceBatch(topic="t", messages=lines(10), cache=False, verify=False)
    )
    assert (result.delivered, result.cached, result.verified) == (10, 0, 0)
    assert result.verify_asked is False
    assert app.store.records == {}
    assert not any(e.startswith("readback") for e in app.events)


def test_batch_no_cache_and_no_verify_only_counts_delivery_reports() -> None:
    app = fake_app()
    result = app.mediator.send(
        ProduceBatch(topic="t", messages=lines(25), cache=False, verify=False)
    )
    assert app.producer.counted == 25  # the counting path: no report kept per message
    assert (result.read, result.delivered, result.failed) == (25, 25, 0)
    # Every message is still stamped with its id and send time.
    wire = [dict(r.headers) for r in app.broker.log("t")]
    assert all(ID_HEADER in h and SENT_AT_HEADER in h for h in wire)
    assert len({h[ID_HEADER] for h in wire}) == 25


def test_batch_counting_path_counts_failed_deliveries_with_their_error() -> None:
    broker = FakeBroker()
    app = fake_app(broker=broker, producer=FakeProducer(broker, fail_with="Broker: down"))
    result = app.mediator.send(
        ProduceBatch(topic="t", messages=lines(7), cache=False, verify=False)
    )
    assert app.producer.counted == 7
    assert (result.read, result.delivered, result.failed) == (7, 0, 7)
    assert result.errors == ("Broker: down (x7)",)


def test_batch_that_caches_keeps_a_report_per_message() -> None:
    app = fake_app()
    result = app.mediator.send(ProduceBatch(topic="t", messages=lines(5), verify=False))
    assert app.producer.counted == 0 and result.cached == 5
