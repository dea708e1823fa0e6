"""A batch's input as the produce loop reads it: a bad line (an input error) told apart
from a failed send, and the lines after a stop counted, never sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kafkaredis_cli.domain.messages import OutgoingMessage
from kafkaredis_cli.errors import KafkaRedisError


class InputError(Exception):
    def __init__(self, error: KafkaRedisError) -> None:
        self.error = error
        # the bad line, and the lines after it when the input counted them
        self.not_sent: int = getattr(error, "not_sent", 1)


def count_rest(messages: Iterator[OutgoingMessage], should_stop: Callable[[], bool]) -> int:
    """The input's remaining messages, read and counted but never sent (to the end, a bad
    line, or a stop signal)."""
    count = 0
    try:
        for _message in messages:
            count += 1
            if should_stop():
                break
    except InputError as exc:
        count += exc.not_sent
    return count


def guarded(messages: object) -> Iterator[OutgoingMessage]:
    """Tell input errors (bad line) apart from errors of the produce itself."""
    iterator = iter(messages)  # type: ignore[call-overload]
    while True:
        try:
            message = next(iterator)
        except StopIteration:
            return
        except KafkaRedisError as exc:
            raise InputError(exc) from None
        yield message
