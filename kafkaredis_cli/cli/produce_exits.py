"""What a produce's result means for the exit status: the error to raise, if any."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkaredis_cli.errors import (
    CheckFailed,
    Interrupted,
    KafkaError,
    KafkaRedisError,
    RedisError,
    UnknownOutcome,
    UsageError,
)

if TYPE_CHECKING:
    from kafkaredis_cli.domain.commands import BatchResult, ProduceResult


def message_exit(result: ProduceResult, done: str = "delivered") -> KafkaRedisError | None:
    """One message (`done`: what happened to it, "delivered" or "replayed")."""
    if result.cache_error:
        return RedisError(f"{done}, but not cached: {result.cache_error}")
    if result.verified is False:
        return CheckFailed(f"{done}, but not verified: {result.verify_error}")
    return None


def batch_exit(batch: BatchResult, signum: int | None) -> KafkaRedisError | None:
    """A batch, in the order of what matters most (`signum`: the signal that stopped it)."""
    if batch.input_error:
        return UsageError(
            f"input stopped at {batch.input_error}; {batch.not_sent} line(s) from there not sent"
        )
    if batch.stop_error is not None:
        stop = batch.stop_error
        stop.message = (
            f"batch stopped at message {batch.sent}: {stop.message}; "
            f"{batch.not_sent} line(s) after it not sent"
        )
        return stop
    if batch.interrupted:
        return Interrupted(
            "interrupted: input not finished; every message read was flushed or counted",
            signum=signum,
        )
    if batch.failed:
        return KafkaError(f"{batch.failed} of {batch.read} messages not delivered")
    if batch.unknown:
        return UnknownOutcome(
            f"{batch.unknown} of {batch.read} messages with an unknown outcome "
            "(delivery timed out: each may or may not be on the broker)"
        )
    if batch.cache_failed:
        return RedisError(f"{batch.cache_failed} delivered messages could not be cached")
    if batch.verify_asked and batch.verified < batch.delivered:
        return CheckFailed(f"{batch.delivered - batch.verified} delivered messages not read back")
    return None
