"""Pipeline behaviours around every handler: timing and logging, client errors."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from kafkaredis_cli.errors import KafkaRedisError
from kafkaredis_cli.mediator import Command, Next

log = logging.getLogger("kafkaredis.mediator")


class TimingBehaviour:
    """Logs each command's name, outcome and duration (DEBUG; failures at INFO)."""

    def __call__(self, command: Command[Any], next_: Next) -> Any:
        name = type(command).__name__
        started = time.perf_counter()
        try:
            result = next_()
        except KafkaRedisError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            log.info(
                "%s failed after %.1f ms: %s",
                name,
                elapsed,
                exc,
                extra={"command": name, "duration_ms": round(elapsed, 3), "outcome": "error"},
            )
            raise
        elapsed = (time.perf_counter() - started) * 1000
        log.debug(
            "%s done in %.1f ms",
            name,
            elapsed,
            extra={"command": name, "duration_ms": round(elapsed, 3), "outcome": "ok"},
        )
        return result


class MapClientErrors:
    """A client exception that escaped an adapter becomes the project's error.

    The adapters raise the project's errors themselves; this maps only the client
    libraries' own base exceptions, named here: confluent_kafka.KafkaException and
    redis.RedisError (looked up only when their library is loaded). Anything else,
    the project's errors included, passes unchanged.
    """

    def __init__(self, redis_where: str, redis_keys: str | None = None) -> None:
        self._redis_where = redis_where
        self._redis_keys = redis_keys  # the key pattern, named if an ACL refuses it

    def __call__(self, command: Command[Any], next_: Next) -> Any:
        try:
            return next_()
        except KafkaRedisError:
            raise
        except Exception as exc:
            mapped = self._map(exc, type(command).__name__)
            if mapped is None:
                raise
            raise mapped from exc

    def _map(self, exc: Exception, command_name: str) -> KafkaRedisError | None:
        from kafkaredis_cli.adapters.errors import from_kafka_exception, from_redis_exception

        kafka = sys.modules.get("confluent_kafka")
        if kafka is not None and isinstance(exc, kafka.KafkaException):
            return from_kafka_exception(exc, command_name)
        redis = sys.modules.get("redis")
        if redis is not None and isinstance(exc, redis.RedisError):
            return from_redis_exception(exc, self._redis_where, self._redis_keys)
        return None
