"""A small typed mediator: one handler per command type, behaviours around every handler.

Modelled on MediatR's pipeline behaviours: a behaviour receives the command and a
`next` callable and decides what happens around the handler (timing, logging, error
mapping). The first registered behaviour is the outermost.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from kafkaredis_cli.errors import UnknownCommandError

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
C = TypeVar("C", bound="Command[Any]")
C_contra = TypeVar("C_contra", bound="Command[Any]", contravariant=True)


class Command(Generic[R_co]):
    """Marker base class: a command declares its result type as `Command[Result]`."""

    __slots__ = ()


class Handler(Protocol[C_contra, R_co]):
    def handle(self, command: C_contra) -> R_co: ...


Next = Callable[[], Any]


class Behaviour(Protocol):
    def __call__(self, command: Command[Any], next_: Next) -> Any: ...


class Mediator:
    def __init__(self, behaviours: list[Behaviour] | None = None) -> None:
        self._handlers: dict[type[Command[Any]], Handler[Any, Any]] = {}
        self._behaviours: list[Behaviour] = list(behaviours or [])

    def register(self, command_type: type[C], handler: Handler[C, R]) -> None:
        self._handlers[command_type] = handler

    def add_behaviour(self, behaviour: Behaviour) -> None:
        self._behaviours.append(behaviour)

    def send(self, command: Command[R]) -> R:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnknownCommandError(f"no handler registered for {type(command).__name__}")

        # functools.partial, not closures: a partial adds no Python frame, so the handler
        # runs right below the innermost behaviour (tests/unit/test_produce_frames.py).
        call: Next = partial(handler.handle, command)
        for behaviour in reversed(self._behaviours):
            call = partial(behaviour, command, call)
        result: R = call()
        return result
