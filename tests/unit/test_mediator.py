"""The mediator: dispatch by command type, behaviours around every handler, errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from kafkaredis_cli.behaviours import MapClientErrors, TimingBehaviour
from kafkaredis_cli.errors import (
    ConfigError,
    ExitStatus,
    KafkaError,
    RedisError,
    UnknownCommandError,
)
from kafkaredis_cli.mediator import Command, Mediator, Next


@dataclass(frozen=True, kw_only=True)
class Add(Command[int]):
    a: int
    b: int


@dataclass(frozen=True, kw_only=True)
class Shout(Command[str]):
    text: str


@dataclass(frozen=True, kw_only=True)
class Unregistered(Command[None]):
    pass


class AddHandler:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def handle(self, command: Add) -> int:
        self.log.append(f"add {command.a}+{command.b}")
        return command.a + command.b


class ShoutHandler:
    def handle(self, command: Shout) -> str:
        return command.text.upper()


class Recording:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def __call__(self, command: Command[Any], next_: Next) -> Any:
        self.log.append(f"{self.name} before {type(command).__name__}")
        result = next_()
        self.log.append(f"{self.name} after {result!r}")
        return result


class Raising:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def handle(self, command: Command[Any]) -> Any:
        raise self.exc


def test_send_dispatches_by_command_type() -> None:
    log: list[str] = []
    mediator = Mediator()
    mediator.register(Add, AddHandler(log))
    mediator.register(Shout, ShoutHandler())
    assert mediator.send(Add(a=2, b=3)) == 5
    assert mediator.send(Shout(text="hi")) == "HI"
    assert log == ["add 2+3"]


def test_unknown_command_is_a_clear_error() -> None:
    mediator = Mediator()
    mediator.register(Add, AddHandler([]))
    with pytest.raises(UnknownCommandError, match="no handler registered for Unregistered"):
        mediator.send(Unregistered())
    assert UnknownCommandError("x").exit_status is ExitStatus.FAILED


def test_dispatch_is_by_exact_type_not_subclass() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Add2(Add):
        pass

    mediator = Mediator()
    mediator.register(Add, AddHandler([]))
    with pytest.raises(UnknownCommandError):
        mediator.send(Add2(a=1, b=1))


def test_behaviours_wrap_the_handler_first_registered_outermost() -> None:
    log: list[str] = []
    mediator = Mediator([Recording("outer", log)])
    mediator.add_behaviour(Recording("inner", log))
    mediator.register(Add, AddHandler(log))
    assert mediator.send(Add(a=1, b=1)) == 2
    assert log == [
        "outer before Add",
        "inner before Add",
        "add 1+1",
        "inner after 2",
        "outer after 2",
    ]


def test_behaviours_run_for_every_send_including_nested_ones() -> None:
    log: list[str] = []

    class Outer:
        def __init__(self, mediator: Mediator) -> None:
            self.mediator = mediator

        def handle(self, command: Shout) -> str:
            return command.text + str(self.mediator.send(Add(a=1, b=2)))

    mediator = Mediator([Recording("b", log)])
    mediator.register(Add, AddHandler([]))
    mediator.register(Shout, Outer(mediator))
    assert mediator.send(Shout(text="n=")) == "n=3"
    assert log == ["b before Shout", "b before Add", "b after 3", "b after 'n=3'"]


def test_a_behaviour_can_short_circuit() -> None:
    log: list[str] = []

    def cached(command: Command[Any], next_: Next) -> Any:
        return 42

    mediator = Mediator([cached])
    mediator.register(Add, AddHandler(log))
    assert mediator.send(Add(a=1, b=1)) == 42
    assert log == []


def test_registering_again_replaces_the_handler() -> None:
    mediator = Mediator()
    mediator.register(Add, AddHandler([]))

    class Times:
        def handle(self, command: Add) -> int:
            return command.a * command.b

    mediator.register(Add, Times())
    assert mediator.send(Add(a=3, b=4)) == 12


def test_commands_are_frozen() -> None:
    from kafkaredis_cli.domain.commands import ConsumeMessage, ProduceMessage
    from kafkaredis_cli.domain.messages import OutgoingMessage

    command = ProduceMessage(topic="t", message=OutgoingMessage(value=b"v"))
    with pytest.raises(AttributeError):
        command.topic = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ConsumeMessage(topic="t").count = 3  # type: ignore[misc]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_timing_behaviour_logs_outcome_and_duration() -> None:
    mediator = Mediator([TimingBehaviour()])
    mediator.register(Add, AddHandler([]))
    mediator.register(Shout, Raising(KafkaError("broker unreachable")))
    logger = logging.getLogger("kafkaredis.mediator")
    capture, level = Capture(), logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        mediator.send(Add(a=1, b=1))
        with pytest.raises(KafkaError):
            mediator.send(Shout(text="x"))
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
    done = [r for r in capture.records if getattr(r, "outcome", None) == "ok"]
    failed = [r for r in capture.records if getattr(r, "outcome", None) == "error"]
    assert [r.command for r in done] == ["Add"]  # type: ignore[attr-defined]
    assert [r.command for r in failed] == ["Shout"]  # type: ignore[attr-defined]
    assert failed[0].levelno == logging.INFO
    assert "broker unreachable" in failed[0].getMessage()
    assert all(r.duration_ms >= 0 for r in done + failed)  # type: ignore[attr-defined]


def _client_error_mediator(exc: Exception) -> Mediator:
    mediator = Mediator([TimingBehaviour(), MapClientErrors("redis://h:6379/0")])
    mediator.register(Shout, Raising(exc))
    return mediator


def test_map_client_errors_turns_redis_exceptions_into_ours() -> None:
    import redis.exceptions as rex

    mediator = _client_error_mediator(rex.ConnectionError("Error 111 connecting. Refused."))
    with pytest.raises(RedisError) as info:
        mediator.send(Shout(text="x"))
    assert info.value.exit_status is ExitStatus.REDIS
    assert (
        str(info.value) == "Redis at redis://h:6379/0 unreachable: Error 111 connecting. Refused."
    )

    mediator = _client_error_mediator(rex.AuthenticationError("invalid password"))
    with pytest.raises(RedisError, match="refused the credentials"):
        mediator.send(Shout(text="x"))


def test_map_client_errors_turns_kafka_exceptions_into_ours() -> None:
    import confluent_kafka as ck

    transport = ck.KafkaException(ck.KafkaError(ck.KafkaError._TRANSPORT, "connection refused"))
    with pytest.raises(KafkaError) as info:
        _client_error_mediator(transport).send(Shout(text="x"))
    assert info.value.code == "_TRANSPORT"
    assert info.value.exit_status is ExitStatus.KAFKA
    assert "broker unreachable" in str(info.value)

    invalid = ck.KafkaException(ck.KafkaError(ck.KafkaError._INVALID_ARG, "no such property"))
    with pytest.raises(ConfigError, match="Kafka configuration: no such property"):
        _client_error_mediator(invalid).send(Shout(text="x"))


def test_map_client_errors_leaves_our_errors_and_bugs_alone() -> None:
    ours = RedisError("already ours")
    with pytest.raises(RedisError) as info:
        _client_error_mediator(ours).send(Shout(text="x"))
    assert info.value is ours
    with pytest.raises(ZeroDivisionError):
        _client_error_mediator(ZeroDivisionError("bug")).send(Shout(text="x"))


def test_map_client_errors_decides_by_class_not_by_module_name() -> None:
    class Lookalike(Exception):  # a bug that merely lives in a client's module
        pass

    Lookalike.__module__ = "cimpl"
    with pytest.raises(Lookalike):
        _client_error_mediator(Lookalike("not a client error")).send(Shout(text="x"))
