"""build_app(settings): the one place that wires adapters, handlers and the mediator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kafkaredis_cli.adapters.errors import MapClientErrors
from kafkaredis_cli.adapters.kafka import KafkaConsumerAdapter, KafkaMetadata, KafkaProducerAdapter
from kafkaredis_cli.adapters.kafka_canary import KafkaTopicFollower, KafkaTopicLayouts
from kafkaredis_cli.adapters.kafka_groups import KafkaGroupAdmin
from kafkaredis_cli.adapters.redis import RedisStore
from kafkaredis_cli.behaviours import TimingBehaviour
from kafkaredis_cli.cache_wiring import register_cache_handlers
from kafkaredis_cli.domain.commands import ConsumeMessage, ProduceBatch, ProduceMessage
from kafkaredis_cli.domain.groups import GroupsLag, ListGroups, ResetGroupOffsets
from kafkaredis_cli.domain.replay import ReplayMessage
from kafkaredis_cli.handlers.consume import ConsumeMessageHandler
from kafkaredis_cli.handlers.groups import (
    GroupsLagHandler,
    ListGroupsHandler,
    ResetGroupOffsetsHandler,
)
from kafkaredis_cli.handlers.produce import ProduceBatchHandler, ProduceMessageHandler
from kafkaredis_cli.handlers.replay import ReplayMessageHandler
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.mediator import Mediator
from kafkaredis_cli.settings import Settings

Profile = Literal["single", "batch", "timer"]

# Producer tuning per use: one message wants latency, a batch wants throughput.
_PRODUCER_PROFILES: dict[Profile, dict[str, str]] = {
    "single": {"linger.ms": "0", "enable.idempotence": "true"},
    # The canary: no idempotence handshake (it delays the first send by ~0.5 s) and no
    # fatal idempotence state to outlive a broker restart; one message in flight anyway.
    "timer": {"linger.ms": "0", "acks": "all", "enable.idempotence": "false"},
    "batch": {
        "linger.ms": "20",
        "batch.size": "1000000",
        "batch.num.messages": "10000",
        # In flight at most: every queued message also holds its Python objects (about
        # 1 kB), so this bounds the memory of a batch of any length (the issue-6 benchmark:
        # no slower than 500,000 here, and RSS stays flat at 1,000,000 messages).
        "queue.buffering.max.messages": "20000",
        "queue.buffering.max.kbytes": "65536",
        "enable.idempotence": "true",
    },
}


@dataclass
class App:
    settings: Settings
    keys: KeySpace
    mediator: Mediator
    producer: KafkaProducerAdapter
    store: RedisStore
    _consumers: list[KafkaConsumerAdapter] = field(default_factory=list)

    def metadata(self) -> KafkaMetadata:
        return KafkaMetadata(self.settings.kafka.to_librdkafka(), self.settings.kafka.timeout_s)

    def canary_clients(self) -> tuple[KafkaTopicLayouts, KafkaTopicFollower]:
        """The timer's topic layout admin and its independent consumer."""
        conf, timeout = self.settings.kafka.to_librdkafka(), self.settings.kafka.timeout_s
        return KafkaTopicLayouts(conf, timeout), KafkaTopicFollower(conf, timeout)

    def close(self) -> None:
        for consumer in self._consumers:
            consumer.close()
        self.producer.close()
        self.store.close()


def build_app(
    settings: Settings, profile: Profile = "single", delivery_timeout_s: float = 30.0
) -> App:
    kafka = settings.kafka
    base = kafka.to_librdkafka()
    producer_conf = {
        **_PRODUCER_PROFILES[profile],
        "message.timeout.ms": str(int(delivery_timeout_s * 1000)),
        **base,
    }
    keys = KeySpace(settings.redis.key_prefix)
    store = RedisStore(settings.redis, keys)
    producer = KafkaProducerAdapter(producer_conf, kafka.timeout_s)
    mediator = Mediator([TimingBehaviour(), MapClientErrors(settings.redis.masked_url())])
    app = App(settings=settings, keys=keys, mediator=mediator, producer=producer, store=store)

    readback: list[KafkaConsumerAdapter] = []

    def new_consumer() -> KafkaConsumerAdapter:
        return KafkaConsumerAdapter(base, kafka.timeout_s)

    def shared_readback() -> KafkaConsumerAdapter:
        if not readback:
            readback.append(new_consumer())
            app._consumers.append(readback[0])
        return readback[0]

    ttl = settings.redis.ttl_s
    register_cache_handlers(mediator, store)
    mediator.register(ProduceMessage, ProduceMessageHandler(producer, store, mediator, ttl))
    mediator.register(ProduceBatch, ProduceBatchHandler(producer, store, mediator, ttl))
    mediator.register(ConsumeMessage, ConsumeMessageHandler(new_consumer, shared_readback, store))
    groups = KafkaGroupAdmin(base, kafka.timeout_s)  # its AdminClient is made on first use
    mediator.register(ListGroups, ListGroupsHandler(groups))
    mediator.register(GroupsLag, GroupsLagHandler(groups))
    mediator.register(ResetGroupOffsets, ResetGroupOffsetsHandler(groups))
    mediator.register(ReplayMessage, ReplayMessageHandler(store, mediator))
    return app
