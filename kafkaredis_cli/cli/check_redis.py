"""The Redis rows of `kafkaredis check`: the mode, then every node with role and state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kafkaredis_cli.errors import ConfigError, KafkaRedisError

if TYPE_CHECKING:  # pydantic-settings: ~0.1 s, not for --help
    from kafkaredis_cli.settings import Settings


def redis_rows(settings: Settings) -> list[dict[str, Any]]:
    import redis

    from kafkaredis_cli.adapters.errors import from_redis_exception
    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.adapters.redis_health import redis_health
    from kafkaredis_cli.keys import KeySpace

    where = settings.redis.masked_url()
    with RedisStore(settings.redis, KeySpace(settings.redis.key_prefix)) as store:
        try:
            try:
                health = redis_health(store.connection())
            except redis.RedisError as exc:
                raise from_redis_exception(exc, where) from None
        except ConfigError:
            raise  # a bad setting is not a service that is down
        except KafkaRedisError as exc:
            return [{"service": "redis", "target": where, "ok": False, "detail": exc.message}]
    return [
        {"service": r.service, "target": r.target, "ok": r.ok, "detail": r.detail} for r in health
    ]
