"""build_cache_app(settings): the wiring of the commands that need Redis alone.

`cache get|list|delete` and `inspect-cache` go through the mediator like every other
command, but never load confluent-kafka (about a third of a one-shot command's start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkaredis_cli.adapters.redis import RedisStore
from kafkaredis_cli.behaviours import MapClientErrors, TimingBehaviour
from kafkaredis_cli.domain.cache_queries import DeleteCache, GetCacheEntry, InspectCache, ListCache
from kafkaredis_cli.domain.ports import MessageStore
from kafkaredis_cli.handlers.cache import (
    DeleteCacheHandler,
    GetCacheEntryHandler,
    InspectCacheHandler,
    ListCacheHandler,
)
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.mediator import Mediator
from kafkaredis_cli.settings import Settings


@dataclass
class CacheApp:
    keys: KeySpace
    mediator: Mediator
    store: RedisStore

    def close(self) -> None:
        self.store.close()


def register_cache_handlers(mediator: Mediator, store: MessageStore) -> None:
    mediator.register(GetCacheEntry, GetCacheEntryHandler(store))
    mediator.register(ListCache, ListCacheHandler(store))
    mediator.register(DeleteCache, DeleteCacheHandler(store))
    mediator.register(InspectCache, InspectCacheHandler(store))


def build_cache_app(settings: Settings) -> CacheApp:
    keys = KeySpace(settings.redis.key_prefix)
    store = RedisStore(settings.redis, keys)
    mediator = Mediator(
        [
            TimingBehaviour(),
            MapClientErrors(settings.redis.masked_url(), f"{settings.redis.key_prefix}:*"),
        ]
    )
    register_cache_handlers(mediator, store)
    return CacheApp(keys=keys, mediator=mediator, store=store)
