"""ProduceMessageHandler on in-memory fakes of the ports: the order of the flow and its failures."""

from __future__ import annotations

import pytest

from kafkaredis_cli.adapters.errors import possibly_persisted
from kafkaredis_cli.domain.commands import (
    ProduceMessage,
)
from kafkaredis_cli.domain.messages import (
    ID_HEADER,
    SENT_AT_HEADER,
    OutgoingMessage,
)
from kafkaredis_cli.domain.records import Status
from kafkaredis_cli.errors import ExitStatus, KafkaError, UnknownOutcome
from tests.fakes import FakeBroker, FakeProducer, fake_app

BINARY = b"\xff\x00\xfe not utf-8"


def produce(topic: str = "t", value: bytes | None = b"hello", **kwargs: object) -> ProduceMessage:
    message = OutgoingMessage(
        value=value,
        key=kwargs.pop("key", None),  # type: ignore[arg-type]
        headers=kwargs.pop("headers", ()),  # type: ignore[arg-type]
    )
    return ProduceMessage(topic=topic, message=message, **kwargs)  # type: ignore[arg-type]


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
