"""Handlers of the cache commands: the Redis store is all they need."""

from __future__ import annotations

from kafkaredis_cli.domain.cache_queries import (
    DeleteCache,
    Deleted,
    GetCacheEntry,
    InspectCache,
    ListCache,
)
from kafkaredis_cli.domain.ports import CacheEntry, CacheSummary, MessageStore


class GetCacheEntryHandler:
    def __init__(self, store: MessageStore) -> None:
        self._store = store

    def handle(self, command: GetCacheEntry) -> CacheEntry | None:
        return self._store.get(command.key)


class ListCacheHandler:
    def __init__(self, store: MessageStore) -> None:
        self._store = store

    def handle(self, command: ListCache) -> list[CacheEntry]:
        found = self._store.scan(command.pattern, command.topic, command.limit)
        return sorted(found, key=lambda e: e.key)


class DeleteCacheHandler:
    def __init__(self, store: MessageStore) -> None:
        self._store = store

    def handle(self, command: DeleteCache) -> Deleted:
        targets = list(command.keys)
        if command.pattern:
            found = self._store.scan(command.pattern)
            targets += [entry.key for entry in found]
        return Deleted(deleted=self._store.delete(targets), asked=len(targets))


class InspectCacheHandler:
    def __init__(self, store: MessageStore) -> None:
        self._store = store

    def handle(self, command: InspectCache) -> CacheSummary:
        return self._store.summary()
