"""Commands on the Redis records alone (`cache get|list|delete`, `inspect-cache`)."""

from __future__ import annotations

from dataclasses import dataclass

from kafkaredis_cli.domain.ports import CacheEntry, CacheSummary
from kafkaredis_cli.mediator import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class GetCacheEntry(Command["CacheEntry | None"]):
    """One record: a message id, latest:TOPIC, or any key under the prefix."""

    key: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ListCache(Command[list[CacheEntry]]):
    """Keys under the prefix (SCAN on every primary), sorted by key, at most `limit`."""

    pattern: str | None = None
    topic: str | None = None
    limit: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Deleted:
    deleted: int
    asked: int


@dataclass(frozen=True, kw_only=True, slots=True)
class DeleteCache(Command[Deleted]):
    """The keys named, plus every key under the prefix matching `pattern`."""

    keys: tuple[str, ...] = ()
    pattern: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InspectCache(Command[CacheSummary]):
    """Keys under the prefix by kind, TTLs and memory, per node and in total."""
