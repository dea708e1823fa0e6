"""inspect-cache's figures: keys under the prefix by kind, TTLs and memory, per primary."""

from __future__ import annotations

from typing import Any

import redis

from kafkaredis_cli.adapters.redis_connect import RedisConnection
from kafkaredis_cli.domain.ports import CacheSummary
from kafkaredis_cli.keys import KeySpace


def cache_summary(connection: RedisConnection, keys: KeySpace) -> CacheSummary:
    """Keys under the prefix by kind, TTLs and memory: each primary's, and the sum.
    Raises redis-py's errors (the store maps them)."""
    nodes = [_NodeTally(node.name) for node in connection.primaries()]
    for node, tally in zip(connection.primaries(), nodes, strict=True):
        tally.count(node.client, keys)
    ttls = [t for n in nodes for t in (n.min_ttl, n.max_ttl) if t is not None]
    by_kind: dict[str, int] = {}
    for n in nodes:
        for kind, count in n.by_kind.items():
            by_kind[kind] = by_kind.get(kind, 0) + count
    versions = sorted({n.version for n in nodes if n.version})
    return CacheSummary(
        prefix=keys.prefix,
        keys=sum(n.keys for n in nodes),
        by_kind=by_kind,
        with_ttl=sum(n.with_ttl for n in nodes),
        without_ttl=sum(n.without_ttl for n in nodes),
        min_ttl_s=min(ttls) if ttls else None,
        max_ttl_s=max(ttls) if ttls else None,
        memory_bytes=sum(n.memory for n in nodes),
        server_memory_bytes=sum(n.server_memory for n in nodes),
        server_version=", ".join(versions) or None,
        mode=connection.mode,
        nodes=tuple(n.row() for n in nodes),
    )


class _NodeTally:
    """inspect-cache's figures of one primary."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.keys = self.with_ttl = self.without_ttl = self.memory = self.server_memory = 0
        self.by_kind: dict[str, int] = {}
        self.min_ttl: int | None = None
        self.max_ttl: int | None = None
        self.version: str | None = None

    def count(self, client: redis.Redis, keys: KeySpace) -> None:
        batch: list[bytes] = []
        for raw in client.scan_iter(match=keys.everything(), count=1000):
            self.keys += 1
            kind = keys.kind_of(raw.decode("utf-8", "replace"))
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
            batch.append(raw)
            if len(batch) >= 1000:
                self._measure(client, batch)
                batch = []
        self._measure(client, batch)
        self.server_memory = int(client.info("memory").get("used_memory", 0))
        self.version = str(client.info("server").get("redis_version"))

    def _measure(self, client: redis.Redis, batch: list[bytes]) -> None:
        if not batch:
            return
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.ttl(key)
            pipe.memory_usage(key)
        results = pipe.execute(raise_on_error=False)
        for ttl, used in zip(results[::2], results[1::2], strict=True):
            if isinstance(ttl, int) and ttl >= 0:
                self.with_ttl += 1
                self.min_ttl = ttl if self.min_ttl is None else min(self.min_ttl, ttl)
                self.max_ttl = ttl if self.max_ttl is None else max(self.max_ttl, ttl)
            elif ttl == -1:
                self.without_ttl += 1
            if isinstance(used, int):
                self.memory += used

    def row(self) -> dict[str, Any]:
        return {
            "node": self.name,
            "keys": self.keys,
            "by_kind": dict(self.by_kind),
            "with_ttl": self.with_ttl,
            "without_ttl": self.without_ttl,
            "memory_bytes": self.memory,
            "server_memory_bytes": self.server_memory,
            "server_version": self.version,
        }
