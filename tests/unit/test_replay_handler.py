"""ReplayMessageHandler on the in-memory fakes: the record in, a ProduceMessage out."""

from __future__ import annotations

import pytest

from kafkaredis_cli.domain.commands import ProduceMessage
from kafkaredis_cli.domain.messages import OutgoingMessage
from kafkaredis_cli.domain.replay import REPLAY_HEADER, ReplayMessage
from kafkaredis_cli.errors import NotFoundError, RedisError
from kafkaredis_cli.handlers.replay import ReplayMessageHandler
from tests.fakes import FakeApp, fake_app


def app_with_replay() -> FakeApp:
    app = fake_app()
    app.broker.create("t", 1)
    app.broker.create("other", 3)
    app.mediator.register(ReplayMessage, ReplayMessageHandler(app.store, app.mediator.send))
    return app


def produce(app: FakeApp, headers: tuple[tuple[str, bytes | None], ...]) -> str:
    message = OutgoingMessage(b"\x00value", b"key", headers)
    return app.mediator.send(ProduceMessage(topic="t", message=message)).id


def test_replay_produces_key_value_headers_again_with_the_replay_header_once() -> None:
    app = app_with_replay()
    first = produce(app, (("h", b"1"), (REPLAY_HEADER, b"an-older-one"), ("h", None)))
    app.events.clear()
    result = app.mediator.send(ReplayMessage(id=first, topic="other", partition=2))
    assert app.events[:3] == ["check_topic:other", "produce", "delivered"]
    produced = result.produced
    assert (produced.topic, produced.partition, produced.verified) == ("other", 2, True)
    assert produced.id != first and result.original.id == first
    record = app.store.records[produced.id]
    assert (record.key, record.value) == (b"key", b"\x00value")
    assert record.headers == (("h", b"1"), ("h", None), (REPLAY_HEADER, first.encode()))


def test_replay_of_latest_topic_goes_to_the_original_topic() -> None:
    app = app_with_replay()
    first = produce(app, ())
    result = app.mediator.send(ReplayMessage(id="latest:t"))
    assert result.original.id == first and result.produced.topic == "t"
    assert result.produced.offset == 1


def test_unknown_id_is_not_found_and_nothing_is_produced() -> None:
    app = app_with_replay()
    with pytest.raises(NotFoundError, match="no cached message 'nope' to replay"):
        app.mediator.send(ReplayMessage(id="nope"))
    assert "produce" not in app.events


def test_redis_down_is_a_redis_error_before_anything_is_produced() -> None:
    app = app_with_replay()
    app.store.fail = "Redis down"
    with pytest.raises(RedisError):
        app.mediator.send(ReplayMessage(id="01a00000-0000-7000-8000-000000000000"))
    assert "produce" not in app.events
