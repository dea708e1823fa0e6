"""redis-py adapter: the message store. One connection factory, bounded retries, pipelines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from typing import Any, cast

import redis

from kafkaredis_cli.adapters.errors import from_redis_exception
from kafkaredis_cli.adapters.redis_connect import RedisConnection, connect
from kafkaredis_cli.adapters.redis_summary import cache_summary
from kafkaredis_cli.adapters.redis_writes import SlotScript
from kafkaredis_cli.domain.ports import CacheEntry, CacheSummary, ConsumedUpdate
from kafkaredis_cli.domain.records import (
    BLOB_HEAD_BYTES,
    BLOB_PREFIXES,
    MessageRecord,
    Status,
    blob_summary,
    state_line,
)
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.settings import RedisSettings

log = logging.getLogger("kafkaredis.redis")

# Every record is one string (MessageRecord.to_blob): a single message, a batch and a
# timer tick alike. SET ... EX for each key; ARGV[1] is the TTL, ARGV[i + 1] the record
# of KEYS[i]. Called once per hash slot's keys (redis_writes.SlotScript).
_SAVE = SlotScript(
    """
local ttl = ARGV[1]
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ttl)
end
return #KEYS
""",
    single=lambda key, record, ttl: ("SET", key, record, "EX", ttl),
)

# Mark records consumed; a record is updated only if it still exists (never resurrected
# as a stub). ARGV[i + 1] is KEYS[i]'s new state line (records.state_line: "status
# consumed_at latency", padded to a fixed width): a record's first line is rewritten in
# place (SETRANGE 0, which keeps its TTL). A hash (what versions before one record
# format wrote for single messages) gets the line's fields.
_MARK_CONSUMED = SlotScript(
    """
local done = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  local line = ARGV[i + 1]
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'string' then
    redis.call('SETRANGE', key, 0, line)
    done = done + 1
  elseif kind == 'hash' then
    local status, at, latency = string.match(line, '^(%S+) (%S+) (%S+)')
    redis.call('HSET', key, 'consumed_at', at, 'status', status)
    if latency ~= '-' then redis.call('HSET', key, 'latency_ms', latency) end
    done = done + 1
  end
end
return done
"""
)

# Delete keys (UNLINK: freed in the background); the number that existed.
_UNLINK = SlotScript(
    "return redis.call('UNLINK', unpack(KEYS))", single=lambda key, _, __: ("UNLINK", key)
)


def _int_or_text(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def _hash_heads(client: redis.Redis, keys: list[str]) -> dict[str, dict[str, Any]]:
    """topic, partition, offset and status of records kept as hashes (earlier versions)."""
    fields = ("topic", "partition", "offset", "status")
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hmget(key, list(fields))
    heads: dict[str, dict[str, Any]] = {}
    for key, values in zip(keys, pipe.execute(raise_on_error=False), strict=True):
        if isinstance(values, list):
            raw = dict(zip(fields, values, strict=True))
            info = {n: v.decode(errors="replace") for n, v in raw.items() if v is not None}
            for n in ("partition", "offset"):
                if n in info:
                    info[n] = _int_or_text(info[n])
            heads[key] = info
    return heads


class RedisStore:
    """MessageStore on redis-py (one server, a Redis Cluster or a Sentinel's master);
    every key comes from KeySpace."""

    def __init__(self, settings: RedisSettings, keys: KeySpace) -> None:
        self._settings = settings
        self._keys = keys
        self._connection: RedisConnection | None = None

    @property
    def where(self) -> str:
        return self._settings.masked_url()

    def _redis(self) -> RedisConnection:
        if self._connection is None:
            self._connection = connect(self._settings)
        return self._connection

    def _fail(self, exc: BaseException) -> Exception:
        return from_redis_exception(exc, self.where, self._keys.everything())

    # -- writes ------------------------------------------------------------------------
    def save(self, records: Sequence[MessageRecord], ttl_s: int) -> None:
        """The records first, then each topic's latest pointer (never a pointer to a
        record that was not written)."""
        if not records:
            return
        message_key = self._keys.message
        latest: dict[str, str] = {}
        for record in records:
            latest[record.topic] = record.id
        self._write([(message_key(r.id), r.to_blob()) for r in records], latest, ttl_s)

    def save_encoded(self, topic: str, records: Sequence[tuple[str, bytes]], ttl_s: int) -> None:
        if not records:
            return
        message_key = self._keys.message
        items = [(message_key(message_id), blob) for message_id, blob in records]
        self._write(items, {topic: records[-1][0]}, ttl_s)

    def _write(self, items: list[tuple[str, bytes]], latest: dict[str, str], ttl_s: int) -> None:
        try:
            connection = self._redis()
            _SAVE.run(connection, items, ttl_s, self._settings.timeout_s)
            client = connection.client
            for topic, message_id in latest.items():
                client.set(self._keys.latest(topic), message_id, ex=ttl_s)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def mark_consumed(self, updates: Sequence[ConsumedUpdate]) -> int:
        if not updates:
            return 0
        message_key = self._keys.message
        # The updates of one fetch share their consumed time and, many of them, their
        # latency: each distinct state line is made once (this runs once a message).
        lines: dict[tuple[int, float | None], tuple[Status, bytes]] = {}
        items: list[tuple[str, bytes]] = []
        append = items.append
        for update in updates:
            status = update[3]
            shape = (update[1], update[2])
            known = lines.get(shape)
            if known is not None and known[0] is status:
                line = known[1]
            else:
                line = state_line(status.value, update[1], update[2])
                lines[shape] = (status, line)
            append((message_key(update[0]), line))
        try:
            return _MARK_CONSUMED.run(self._redis(), items, b"", self._settings.timeout_s)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def put_json(self, key: str, data: Mapping[str, Any], ttl_s: int) -> None:
        try:
            self._redis().client.set(key, json.dumps(data, separators=(",", ":")), ex=ttl_s)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def delete(self, keys: Sequence[str]) -> int:
        """UNLINK, the keys grouped by slot like every multi-key write."""
        if not keys:
            return 0
        items = [(key, b"") for key in dict.fromkeys(self._keys.resolve(k) for k in keys)]
        try:
            return _UNLINK.run(self._redis(), items, b"", self._settings.timeout_s)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: str) -> CacheEntry | None:
        full = self._keys.resolve(key)
        try:
            client = self._redis().client
            entry = self._entry(client, full)
            if entry is None or self._keys.kind_of(full) != "latest":
                return entry
            target = self._entry(client, self._keys.message(str(entry.value)))
            if target is None:
                return entry
            return CacheEntry(
                key=target.key, type=target.type, ttl_s=target.ttl_s, record=target.record, via=full
            )
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def _entry(self, client: Any, key: str) -> CacheEntry | None:
        kind_raw, ttl = client.type(key), client.ttl(key)
        kind = kind_raw.decode() if isinstance(kind_raw, bytes) else str(kind_raw)
        if kind == "none":
            return None
        ttl_s = None if ttl is None or ttl < 0 else int(ttl)
        if kind == "hash":
            data = cast("dict[bytes, bytes]", client.hgetall(key))  # bytes: no decoding
            if self._keys.kind_of(key) == "msg":
                record = MessageRecord.from_hash(data)
                return CacheEntry(key=key, type=kind, ttl_s=ttl_s, record=record)
            value: Any = {
                k.decode(errors="replace"): v.decode(errors="replace") for k, v in data.items()
            }
            return CacheEntry(key=key, type=kind, ttl_s=ttl_s, value=value)
        if kind == "string":
            raw = cast("bytes | None", client.get(key)) or b""
            if self._keys.kind_of(key) == "msg" and raw.startswith(BLOB_PREFIXES):
                with suppress(ValueError):  # else: somebody else's string, shown as is
                    record = MessageRecord.from_blob(raw)
                    return CacheEntry(key=key, type=kind, ttl_s=ttl_s, record=record)
            text = raw.decode("utf-8", "replace")
            try:
                value = json.loads(text) if text[:1] in "{[" else text
            except json.JSONDecodeError:
                value = text
            return CacheEntry(key=key, type=kind, ttl_s=ttl_s, value=value)
        return CacheEntry(key=key, type=kind, ttl_s=ttl_s, value=f"<{kind}>")

    def scan(
        self, pattern: str | None = None, topic: str | None = None, limit: int | None = None
    ) -> Iterator[CacheEntry]:
        """SCAN (never KEYS) under the prefix on every primary, one after the other; with
        `topic`, message records of that topic; at most `limit` entries in all."""
        match = self._keys.pattern(pattern)
        try:
            emitted = 0
            for node in self._redis().primaries():
                client = node.client
                batch: list[str] = []
                for raw in client.scan_iter(match=match, count=1000):
                    batch.append(raw.decode("utf-8", "replace"))
                    if len(batch) < 500:
                        continue
                    for entry in self._describe(client, batch, topic):
                        yield entry
                        emitted += 1
                        if limit is not None and emitted >= limit:
                            return
                    batch = []
                for entry in self._describe(client, batch, topic):
                    yield entry
                    emitted += 1
                    if limit is not None and emitted >= limit:
                        return
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def _describe(
        self, client: redis.Redis, keys: list[str], topic: str | None
    ) -> list[CacheEntry]:
        """Type, TTL and where the message is (msg: topic/partition/offset/status, from
        the record's head; latest: its topic and the id it points at), one pipeline for
        the whole batch of keys."""
        if not keys:
            return []
        kind_of = self._keys.kind_of
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.type(key)
            pipe.ttl(key)
            kind = kind_of(key)
            if kind == "msg":
                pipe.getrange(key, 0, BLOB_HEAD_BYTES - 1)
            elif kind == "latest":
                pipe.get(key)
            else:
                pipe.echo("")
        results = pipe.execute(raise_on_error=False)
        # A hash (a record an earlier version wrote) says WRONGTYPE to GETRANGE.
        hashes = [
            k
            for i, k in enumerate(keys)
            if kind_of(k) == "msg" and isinstance(results[3 * i + 2], redis.ResponseError)
        ]
        legacy = _hash_heads(client, hashes) if hashes else {}
        entries = []
        for i, key in enumerate(keys):
            kind_raw, ttl, extra = results[3 * i : 3 * i + 3]
            if isinstance(kind_raw, redis.exceptions.NoPermissionError):
                raise kind_raw  # an ACL on the keys: no listing to show
            if isinstance(kind_raw, Exception):
                continue
            kind = kind_raw.decode() if isinstance(kind_raw, bytes) else str(kind_raw)
            if kind == "none":
                continue  # expired between SCAN and now
            info: dict[str, Any] = {}
            if kind_of(key) == "msg":
                info = legacy.get(key, {})
                if isinstance(extra, bytes):
                    with suppress(ValueError):  # else: somebody else's string
                        info = blob_summary(extra)
            elif kind_of(key) == "latest":
                info = {"topic": key.rsplit(":", 1)[-1]}
                if isinstance(extra, bytes):
                    info["id"] = extra.decode(errors="replace")
            if topic is not None and info.get("topic") != topic:
                continue
            ttl_s = None if ttl is None or (isinstance(ttl, int) and ttl < 0) else int(ttl)
            entries.append(CacheEntry(key=key, type=kind, ttl_s=ttl_s, value=info or None))
        return entries

    def summary(self) -> CacheSummary:
        """Keys under the prefix by kind, TTLs and memory: each primary's, and the sum."""
        try:
            return cache_summary(self._redis(), self._keys)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def connection(self) -> RedisConnection:
        """The connection (for `check`, which looks at every node)."""
        try:
            return self._redis()
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
