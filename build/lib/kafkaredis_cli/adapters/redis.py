"""redis-py adapter: the message store. One connection factory, bounded retries, pipelines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from itertools import islice
from typing import Any, cast

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from kafkaredis_cli.adapters.closing import ClosesOnExit
from kafkaredis_cli.adapters.errors import from_redis_exception
from kafkaredis_cli.domain.ports import CacheEntry, CacheSummary, ConsumedUpdate
from kafkaredis_cli.domain.records import (
    BLOB_HEAD_BYTES,
    BLOB_PREFIXES,
    STATE_WIDTH,
    MessageRecord,
    blob_summary,
    state_line,
)
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.settings import RedisSettings

log = logging.getLogger("kafkaredis.redis")

CHUNK = 1000  # records one pipeline or script call carries at once

# A batch's records: one string per message (MessageRecord.to_blob), written by one
# script call per chunk: SET ... EX for each key. ARGV[1] is the TTL, ARGV[i + 1] the
# record of KEYS[i]. (Single messages keep a hash: readable with HGETALL.)
_SAVE_BLOBS = """
local ttl = ARGV[1]
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ttl)
end
return #KEYS
"""

# Mark records consumed, a chunk per call; a record is updated only if it still exists
# (never resurrected as a stub). ARGV[1] holds every key's new state line, one after the
# other, each WIDTH + 1 bytes (records.state_line: "status consumed_at latency", padded,
# a newline): one argument per call, not three per key, is far less for redis-py to
# encode. A batch's string gets its first line rewritten in place with that line (which
# keeps its TTL); a hash gets the line's fields.
_MARK_CONSUMED = """
local done = 0
local lines = ARGV[1]
for i = 1, #KEYS do
  local key = KEYS[i]
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'string' then
    redis.call('SETRANGE', key, 0, string.sub(lines, (i - 1) * LINE + 1, i * LINE))
    done = done + 1
  elseif kind == 'hash' then
    local line = string.sub(lines, (i - 1) * LINE + 1, i * LINE)
    local status, at, latency = string.match(line, '^(%S+) (%S+) (%S+)')
    redis.call('HSET', key, 'consumed_at', at, 'status', status)
    if latency ~= '-' then redis.call('HSET', key, 'latency_ms', latency) end
    done = done + 1
  end
end
return done
""".replace("LINE", str(STATE_WIDTH))


def connect(settings: RedisSettings) -> redis.Redis:
    """The one Redis connection factory: bounded timeouts and retries."""
    retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), settings.retries)
    return redis.Redis.from_url(
        settings.url.get_secret_value(),
        socket_timeout=settings.timeout_s,
        socket_connect_timeout=settings.timeout_s,
        retry=retry,
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
        health_check_interval=30,
    )


def _int_or_text(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def _blob_heads(client: redis.Redis, keys: list[str]) -> dict[str, dict[str, Any]]:
    """topic, partition, offset and status of batch records (strings), from their head."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.getrange(key, 0, BLOB_HEAD_BYTES - 1)
    heads: dict[str, dict[str, Any]] = {}
    for key, head in zip(keys, pipe.execute(raise_on_error=False), strict=True):
        if isinstance(head, bytes):
            with suppress(ValueError):
                heads[key] = blob_summary(head)
    return heads


class RedisStore(ClosesOnExit):
    """MessageStore on redis-py; every key comes from KeySpace."""

    def __init__(self, settings: RedisSettings, keys: KeySpace) -> None:
        self._settings = settings
        self._keys = keys
        self._client: redis.Redis | None = None
        self._mark_script: Any = None
        self._save_script: Any = None

    @property
    def where(self) -> str:
        return self._settings.masked_url()

    def _redis(self) -> redis.Redis:
        if self._client is None:
            self._client = connect(self._settings)
            self._mark_script = self._client.register_script(_MARK_CONSUMED)
            self._save_script = self._client.register_script(_SAVE_BLOBS)
        return self._client

    def _fail(self, exc: BaseException) -> Exception:
        return from_redis_exception(exc, self.where)

    # -- writes ------------------------------------------------------------------------
    def save(self, records: Sequence[MessageRecord], ttl_s: int) -> None:
        if not records:
            return
        try:
            client = self._redis()
            latest: dict[str, str] = {}
            if len(records) == 1:
                record = records[0]
                key = self._keys.message(record.id)
                pipe = client.pipeline(transaction=False)
                pipe.hset(key, mapping=record.to_hash())  # type: ignore[arg-type]
                pipe.expire(key, ttl_s)
                latest[record.topic] = record.id
            else:
                message_key = self._keys.message
                for start in range(0, len(records), CHUNK):
                    chunk = records[start : start + CHUNK]
                    self._save_script(
                        keys=[message_key(r.id) for r in chunk],
                        args=[ttl_s, *[r.to_blob() for r in chunk]],
                    )
                for record in records:
                    latest[record.topic] = record.id
                pipe = client.pipeline(transaction=False)
            for topic, message_id in latest.items():
                pipe.set(self._keys.latest(topic), message_id, ex=ttl_s)
            pipe.execute()
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def mark_consumed(self, updates: Sequence[ConsumedUpdate]) -> int:
        if not updates:
            return 0
        try:
            self._redis()
            message_key = self._keys.message
            done = 0
            it = iter(updates)
            while chunk := list(islice(it, CHUNK)):
                lines = b"".join(
                    [state_line(u.status.value, u.consumed_at_ms, u.latency_ms) for u in chunk]
                )
                keys = [message_key(u.id) for u in chunk]
                done += int(self._mark_script(keys=keys, args=[lines]))
            return done
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def put_json(self, key: str, data: Mapping[str, Any], ttl_s: int) -> None:
        try:
            self._redis().set(key, json.dumps(data, separators=(",", ":")), ex=ttl_s)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def delete(self, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        try:
            return int(self._redis().unlink(*[self._keys.resolve(k) for k in keys]))
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: str) -> CacheEntry | None:
        full = self._keys.resolve(key)
        try:
            client = self._redis()
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

    def _entry(self, client: redis.Redis, key: str) -> CacheEntry | None:
        pipe = client.pipeline(transaction=False)
        pipe.type(key)
        pipe.ttl(key)
        kind_raw, ttl = pipe.execute()
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
        """SCAN (never KEYS) under the prefix; with `topic`, message records of that topic."""
        match = self._keys.pattern(pattern)
        try:
            client = self._redis()
            emitted = 0
            batch: list[str] = []
            for raw in client.scan_iter(match=match, count=1000):
                batch.append(raw.decode("utf-8", "replace"))
                if len(batch) >= 500:
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
        """Type, TTL and where the message is (msg: topic/partition/offset/status; latest:
        its topic and the id it points at), one pipeline for the whole batch of keys."""
        if not keys:
            return []
        fields = ("topic", "partition", "offset", "status")
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.type(key)
            pipe.ttl(key)
            kind = self._keys.kind_of(key)
            if kind == "msg":
                pipe.hmget(key, list(fields))
            elif kind == "latest":
                pipe.get(key)
            else:
                pipe.echo("")
        results = pipe.execute(raise_on_error=False)
        # A batch's records are strings, not hashes (HMGET says WRONGTYPE): read their head.
        wrong_type = redis.ResponseError
        blobs = [
            k
            for i, k in enumerate(keys)
            if self._keys.kind_of(k) == "msg" and isinstance(results[3 * i + 2], wrong_type)
        ]
        heads = _blob_heads(client, blobs) if blobs else {}
        entries = []
        for i, key in enumerate(keys):
            kind_raw, ttl, extra = results[3 * i : 3 * i + 3]
            if isinstance(kind_raw, Exception):
                continue
            kind = kind_raw.decode() if isinstance(kind_raw, bytes) else str(kind_raw)
            if kind == "none":
                continue  # expired between SCAN and now
            info: dict[str, Any] = {}
            if self._keys.kind_of(key) == "msg" and isinstance(extra, list):
                raw = dict(zip(fields, extra, strict=True))
                info = {n: v.decode(errors="replace") for n, v in raw.items() if v is not None}
                for n in ("partition", "offset"):
                    if n in info:
                        info[n] = _int_or_text(info[n])
            elif key in heads:
                info = heads[key]
            elif self._keys.kind_of(key) == "latest":
                info = {"topic": key.rsplit(":", 1)[-1]}
                if isinstance(extra, bytes):
                    info["id"] = extra.decode(errors="replace")
            if topic is not None and info.get("topic") != topic:
                continue
            ttl_s = None if ttl is None or (isinstance(ttl, int) and ttl < 0) else int(ttl)
            entries.append(CacheEntry(key=key, type=kind, ttl_s=ttl_s, value=info or None))
        return entries

    def summary(self) -> CacheSummary:
        try:
            client = self._redis()
            by_kind: dict[str, int] = {}
            ttls: list[int] = []
            no_ttl = 0
            memory = 0
            keys = 0
            batch: list[bytes] = []

            def flush(batch: list[bytes]) -> None:
                nonlocal no_ttl, memory
                pipe = client.pipeline(transaction=False)
                for key in batch:
                    pipe.ttl(key)
                    pipe.memory_usage(key)
                results = pipe.execute(raise_on_error=False)
                for i in range(len(batch)):
                    ttl, used = results[2 * i], results[2 * i + 1]
                    if isinstance(ttl, int) and ttl >= 0:
                        ttls.append(ttl)
                    elif ttl == -1:
                        no_ttl += 1
                    if isinstance(used, int):
                        memory += used

            for raw in client.scan_iter(match=self._keys.everything(), count=1000):
                keys += 1
                kind = self._keys.kind_of(raw.decode("utf-8", "replace"))
                by_kind[kind] = by_kind.get(kind, 0) + 1
                batch.append(raw)
                if len(batch) >= 1000:
                    flush(batch)
                    batch = []
            flush(batch)
            info = client.info("memory")
            server = client.info("server")
            return CacheSummary(
                prefix=self._keys.prefix,
                keys=keys,
                by_kind=by_kind,
                with_ttl=len(ttls),
                without_ttl=no_ttl,
                min_ttl_s=min(ttls) if ttls else None,
                max_ttl_s=max(ttls) if ttls else None,
                memory_bytes=memory,
                server_memory_bytes=int(info.get("used_memory", 0)),
                server_version=str(server.get("redis_version")),
            )
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def server_info(self) -> Mapping[str, Any]:
        try:
            client = self._redis()
            client.ping()
            server = client.info("server")
            return {"version": server.get("redis_version"), "mode": server.get("redis_mode")}
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
