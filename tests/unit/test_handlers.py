"""The handlers on in-memory fakes of the ports: the order of the flow and its failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import pytest

from kafkaredis_cli.adapters.errors import possibly_persisted
from kafkaredis_cli.domain.commands import (
    BatchProgress,
    ConsumeMessage,
    ProduceBatch,
    ProduceMessage,
)
from kafkaredis_cli.domain.messages import (
    ID_HEADER,
    SENT_AT_HEADER,
    ConsumedRecord,
    OutgoingMessage,
)
from kafkaredis_cli.domain.positions import Start, StartKind
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.errors import ExitStatus, KafkaError, RedisError, UnknownOutcome, UsageError
from kafkaredis_cli.handlers.produce import CACHE_CHUNK
from tests.fakes import FakeBroker, FakeProducer, fake_app

BINARY = b"\xff\x00\xfe not utf-8"


def produce(topic: str = "t", value: bytes | None = b"hello", **kwargs: object) -> ProduceMessage:
    message = OutgoingMessage(
        value=value,
        key=kwargs.pop("key", None),  # type: ignore[arg-type]
        headers=kwargs.pop("headers", ()),  # type: ignore[arg-type]
    )
    return ProduceMessage(topic=topic, message=message, **kwargs)  # type: ignore[arg-type]


# -- ProduceMessageHandler ------------------------------------------------------------


def test_produce_then_cache_then_read_back_then_mark_verified() -> None:
    app = fake_app()
    result = app.mediator.send(produce(key=b"k", headers=(("trace", b"abc"),)))
    assert app.events == [
        "check_topic:t",
        "produce",
        "delivered",
        "save",
        "readback:read_ranges",
        "readback:fetch:1",
        "mark_consumed",
    ]
    assert (result.topic, result.partition, result.offset) == ("t", 0, 0)
    assert result.cached is True and result.cache_error is None
    assert result.verified is True and result.verify_error is None
    assert result.round_trip_ms is not None and result.round_trip_ms >= result.delivery_ms >= 0
    record = app.store.records[result.id]
    assert record.status is Status.VERIFIED
    assert (record.topic, record.partition, record.offset) == ("t", 0, 0)
    assert record.key == b"k" and record.value == b"hello"
    assert record.headers == (("trace", b"abc"),)
    assert record.consumed_at_ms is not None and record.latency_ms is not None
    assert record.delivered_at_ms is not None and record.sent_at_ms == result.sent_at_ms
    assert app.store.latest["t"] == result.id
    assert app.store.ttls[result.id] == 3600


def test_produce_puts_id_and_send_time_headers_on_the_wire() -> None:
    app = fake_app()
    result = app.mediator.send(produce(value=BINARY, headers=(("h", b"\x00\xff"),)))
    [on_wire] = app.broker.log("t")
    assert on_wire.value == BINARY
    assert on_wire.header("h") == b"\x00\xff"
    assert on_wire.header(ID_HEADER) == result.id.encode()
    assert on_wire.header(SENT_AT_HEADER) == str(result.sent_at_ms).encode()
    assert on_wire.user_headers == (("h", b"\x00\xff"),)


def test_read_back_finds_this_message_not_the_next_one() -> None:
    app = fake_app()
    app.broker.append("t", b"someone else's, earlier")
    app.broker.append("t", b"someone else's, earlier too")
    result = app.mediator.send(produce())
    assert result.offset == 2
    assert result.verified is True
    assert app.readback.positions[("t", 0)] == 3  # it started at our offset, not at 0


def test_read_back_of_another_message_at_our_offset_is_not_verified() -> None:
    app = fake_app()
    app.readback.replace_at[(0, 0)] = "01900000-0000-7000-8000-000000000000"
    result = app.mediator.send(produce())
    assert result.verified is False
    assert result.verify_error is not None and "holds another message" in result.verify_error
    assert result.round_trip_ms is None
    assert app.store.records[result.id].status is Status.DELIVERED
    assert "mark_consumed" not in app.events


def test_no_verify_skips_the_read_back() -> None:
    app = fake_app()
    result = app.mediator.send(produce(verify=False))
    assert result.verified is None and result.round_trip_ms is None
    assert app.events == ["check_topic:t", "produce", "delivered", "save"]
    assert app.store.records[result.id].status is Status.DELIVERED


def test_no_cache_writes_nothing_to_redis_but_still_verifies() -> None:
    app = fake_app()
    result = app.mediator.send(produce(cache=False))
    assert result.cached is False and result.cache_error is None
    assert result.verified is True
    assert app.store.records == {}
    assert "save" not in app.events and "mark_consumed" not in app.events


def test_ttl_option_wins_over_the_default() -> None:
    app = fake_app(ttl_s=3600)
    result = app.mediator.send(produce(ttl_seconds=60))
    assert app.store.ttls[result.id] == 60


def test_redis_down_the_send_stands_and_the_cache_failure_is_reported() -> None:
    app = fake_app()
    app.store.fail = "Redis at redis://h:1/0 unreachable"
    result = app.mediator.send(produce())
    assert len(app.broker.log("t")) == 1  # the Kafka send stands
    assert result.offset == 0
    assert result.cached is False
    assert result.cache_error == "Redis at redis://h:1/0 unreachable"
    assert result.verified is True  # the read-back does not need Redis
    assert app.events.count("save") == 1
    assert "mark_consumed" not in app.events


def test_redis_failing_after_the_save_is_reported_too() -> None:
    app = fake_app()
    original = app.store.mark_consumed

    def failing(updates):  # type: ignore[no-untyped-def]
        app.store.fail = "Redis went away"
        return original(updates)

    app.store.mark_consumed = failing  # type: ignore[method-assign]
    result = app.mediator.send(produce())
    assert result.cached is True
    assert result.cache_error == "Redis went away"
    assert result.verified is True


def test_failed_delivery_is_a_kafka_error_and_nothing_is_cached() -> None:
    broker = FakeBroker()
    app = fake_app(broker=broker, producer=FakeProducer(broker, fail_with="Broker: boom"))
    with pytest.raises(KafkaError, match="delivery to 't' failed: Broker: boom"):
        app.mediator.send(produce())
    assert app.store.records == {}
    assert "save" not in app.events


def test_no_delivery_report_in_time_is_an_unknown_outcome() -> None:
    broker = FakeBroker()
    app = fake_app(broker=broker, producer=FakeProducer(broker, hold=True))
    with pytest.raises(UnknownOutcome, match=r"no delivery report .* within 0.2s") as info:
        app.mediator.send(produce(timeout_s=0.2))
    assert info.value.code == "_MSG_TIMED_OUT"
    assert info.value.exit_status is ExitStatus.UNKNOWN_OUTCOME
    assert app.store.records == {}


def test_a_delivery_that_timed_out_after_the_send_is_an_unknown_outcome_not_a_failure() -> None:
    broker = FakeBroker()
    producer = FakeProducer(broker, fail_with="Local: Message timed out", possibly_persisted=True)
    app = fake_app(broker=broker, producer=producer)
    with pytest.raises(UnknownOutcome, match=r"outcome unknown \(possibly on the broker\)") as info:
        app.mediator.send(produce())
    assert info.value.exit_status is ExitStatus.UNKNOWN_OUTCOME
    assert app.store.records == {}


@pytest.mark.parametrize(
    ("code", "possibly"),
    [
        ("_MSG_TIMED_OUT", True),
        ("_TRANSPORT", True),
        ("REQUEST_TIMED_OUT", True),
        ("NOT_ENOUGH_REPLICAS_AFTER_APPEND", True),
        ("_PURGE_INFLIGHT", True),
        ("SOMETHING_NEW", True),  # not known to be refused: never claimed "failed"
        ("MSG_SIZE_TOO_LARGE", False),
        ("NOT_ENOUGH_REPLICAS", False),
        ("UNKNOWN_TOPIC_OR_PART", False),
        ("TOPIC_AUTHORIZATION_FAILED", False),
        ("_PURGE_QUEUE", False),
        (None, False),
    ],
)
def test_which_delivery_errors_leave_the_outcome_unknown(code: str | None, possibly: bool) -> None:
    assert possibly_persisted(code) is possibly


def test_unknown_topic_with_auto_create_off_produces_nothing() -> None:
    broker = FakeBroker(auto_create=False)
    app = fake_app(broker=broker)
    with pytest.raises(KafkaError, match="does not exist"):
        app.mediator.send(produce(topic="missing"))
    assert app.producer.produced == []


def test_oversized_message_is_refused_before_anything_is_cached() -> None:
    broker = FakeBroker()
    app = fake_app(broker=broker, producer=FakeProducer(broker, max_bytes=10))
    with pytest.raises(KafkaError, match="too large"):
        app.mediator.send(produce(value=b"x" * 11))
    assert app.store.records == {}


# -- ProduceBatchHandler --------------------------------------------------------------


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


# -- ConsumeMessageHandler ------------------------------------------------------------


def produced(app_count: int = 10, topic: str = "t"):  # type: ignore[no-untyped-def]
    app = fake_app()
    app.mediator.send(ProduceBatch(topic=topic, messages=lines(app_count), verify=False))
    app.events.clear()
    return app


def test_consume_updates_redis_then_shows_then_commits() -> None:
    app = produced(3)
    shown: list[ConsumedRecord] = []

    def sink(record: ConsumedRecord) -> None:
        app.events.append(f"show:{record.offset}")
        shown.append(record)

    result = app.mediator.send(
        ConsumeMessage(topic="t", group="g", start=Start(StartKind.BEGINNING), count=3, sink=sink)
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
            sink=lambda r: shown.append(r.offset),
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
        ConsumeMessage(topic="t", group="g", count=4, sink=lambda r: first.append(r.offset))
    )
    app.mediator.send(
        ConsumeMessage(
            topic="t", group="g", exit_at_end=True, sink=lambda r: second.append(r.offset)
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
                topic="t", start=start, exit_at_end=True, sink=lambda r: got.append(r.offset)
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
    result = app.mediator.send(ConsumeMessage(topic="t", ranges={0: (3, 5)}, update_cache=False))
    assert [r.offset for r in result.records] == [3, 4, 5]
    assert (result.consumed, result.stopped_by, result.reached_end) == (3, "ranges", True)


def test_read_ranges_that_never_arrive_time_out() -> None:
    app = produced(2)
    result = app.mediator.send(
        ConsumeMessage(topic="t", ranges={0: (5, 6)}, update_cache=False, timeout_s=0.1)
    )
    assert (result.consumed, result.stopped_by, result.reached_end) == (0, "timeout", False)


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


# -- the real adapters are lazy: no network until first used ---------------------------------


def test_adapters_connect_lazily_and_close_by_context_manager() -> None:
    from kafkaredis_cli.adapters.kafka import KafkaProducerAdapter
    from kafkaredis_cli.adapters.kafka_consumer import KafkaConsumerAdapter
    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.keys import KeySpace
    from kafkaredis_cli.settings import RedisSettings

    nowhere = {"bootstrap.servers": "127.0.0.1:1"}
    with closing(KafkaProducerAdapter(nowhere, 0.5)) as producer:
        assert producer._producer is None  # nothing created, nothing connected
        assert producer.poll(0) == 0 and producer.flush(0) == 0
    with closing(KafkaConsumerAdapter(nowhere, 0.5)) as consumer:
        assert consumer._consumer is None
    settings = RedisSettings.model_validate({"url": "redis://127.0.0.1:1/0", "timeout_s": 0.5})
    with closing(RedisStore(settings, KeySpace("p"))) as store:
        assert store._connection is None
    with pytest.raises(RedisError, match=r"Redis at redis://127\.0\.0\.1:1/0 unreachable"):
        RedisStore(settings, KeySpace("p")).get("x")
