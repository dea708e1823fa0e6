"""Replaying a cached message: produce its key, value and headers again, as a new message."""

from __future__ import annotations

from dataclasses import dataclass

from kafkaredis_cli.domain.commands import ProduceResult
from kafkaredis_cli.domain.records import MessageRecord
from kafkaredis_cli.mediator import Command

REPLAY_HEADER = "kafkaredis-replay-of"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayResult:
    original: MessageRecord
    produced: ProduceResult


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayMessage(Command[ReplayResult]):
    """Read a message's record from Redis and produce it again (new id, a replay header),
    cached and verified like `produce`; to its own topic unless `topic` says otherwise."""

    id: str  # a message id, or latest:TOPIC
    topic: str | None = None
    partition: int | None = None
    verify: bool = True
    cache: bool = True
    ttl_seconds: int | None = None
    timeout_s: float = 10.0
