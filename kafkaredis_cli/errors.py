"""The project's own errors; each kind carries the exit status the CLI returns."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit statuses scripts can rely on (documented in the README)."""

    OK = 0
    FAILED = 1  # the checked thing failed: loss over --max-loss, check failed, not verified
    USAGE = 2  # bad input: options, arguments, input file lines
    CONFIG = 3  # bad setting value, bad URL, unknown librdkafka property
    KAFKA = 4  # broker unreachable, unknown topic, message too large, delivery failed
    REDIS = 5  # Redis unreachable, auth failure, cache write failed
    NOT_FOUND = 6  # cache get: no such key
    UNKNOWN_OUTCOME = 7  # produce: delivery timed out, the message may be on the broker
    INTERRUPTED = 130  # Ctrl-C (SIGINT) before the work was done: 128 + 2
    TERMINATED = 143  # SIGTERM before the work was done: 128 + 15


class KafkaRedisError(Exception):
    """Base class: a one-line message meant for the user, and an exit status."""

    exit_status: ExitStatus = ExitStatus.FAILED

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class UsageError(KafkaRedisError):
    exit_status = ExitStatus.USAGE


class ConfigError(KafkaRedisError):
    exit_status = ExitStatus.CONFIG


class KafkaError(KafkaRedisError):
    """A Kafka failure; `code` keeps librdkafka's error name (e.g. _TRANSPORT)."""

    exit_status = ExitStatus.KAFKA


class UnknownOutcome(KafkaError):
    """A produce whose outcome librdkafka cannot tell: the message may or may not be on
    the broker (no delivery report in time, or one that timed out after the send)."""

    exit_status = ExitStatus.UNKNOWN_OUTCOME


class RedisError(KafkaRedisError):
    exit_status = ExitStatus.REDIS


class NotFoundError(KafkaRedisError):
    exit_status = ExitStatus.NOT_FOUND


class CheckFailed(KafkaRedisError):
    exit_status = ExitStatus.FAILED


class Interrupted(KafkaRedisError):
    """Stopped by a signal: the status is 128 + its number (130 Ctrl-C, 143 SIGTERM)."""

    exit_status = ExitStatus.INTERRUPTED

    def __init__(self, message: str, *, signum: int | None = None) -> None:
        super().__init__(message)
        if signum is not None:
            self.exit_status = ExitStatus(128 + signum)


class UnknownCommandError(KafkaRedisError):
    """The mediator has no handler for a command type (a programming error)."""

    exit_status = ExitStatus.FAILED


def shown(text: str, limit: int = 80) -> str:
    """A user's value as an error message names it: as typed when short and printable,
    else escaped (ascii) and cut short, so a message stays one readable line."""
    if len(text) <= limit and text.isprintable():
        return text
    escaped = ascii(text)
    return escaped if len(escaped) <= limit else f"{escaped[:60]}... ({len(text)} characters)"
