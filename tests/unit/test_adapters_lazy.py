"""The real adapters are lazy: no network until first used; closing() closes them."""

from __future__ import annotations

from contextlib import closing

import pytest

from kafkaredis_cli.errors import RedisError

BINARY = b"\xff\x00\xfe not utf-8"


def test_adapters_connect_lazily_and_close_by_context_manager() -> None:
    from kafkaredis_cli.adapters.kafka import KafkaProducerAdapter
    from kafkaredis_cli.adapters.kafka_consumer import KafkaConsumerAdapter
    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.keys import KeySpace
    from kafkaredis_cli.settings import RedisSettings

    nowhere = {"bootstrap.servers": "127.0.0.1:1"}
    with closing(KafkaProducerAdapter(nowhere, 0.5)) as producer:
        assert producer._producer is None  # nothing created, nothing connected
        assert producer.poll(0) == 0 and producer.flush(0) == 0
    with closing(KafkaConsumerAdapter(nowhere, 0.5)) as consumer:
        assert consumer._consumer is None
    settings = RedisSettings.model_validate({"url": "redis://127.0.0.1:1/0", "timeout_s": 0.5})
    with closing(RedisStore(settings, KeySpace("p"))) as store:
        assert store._connection is None
    with pytest.raises(RedisError, match=r"Redis at redis://127\.0\.0\.1:1/0 unreachable"):
        RedisStore(settings, KeySpace("p")).get("x")
