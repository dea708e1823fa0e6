"""build_app(settings): the one place that wires adapters, handlers and the mediator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from kafkaredis_cli.adapters.kafka import KafkaProducerAdapter
from kafkaredis_cli.adapters.kafka_consumer import KafkaConsumerAdapter
from kafkaredis_cli.behaviours import MapClientErrors, TimingBehaviour
from kafkaredis_cli.domain.commands import (
    ConsumeMessage,
    ProduceBatch,
    ProduceMessage,
    ReadRanges,
    ShareConsume,
)
from kafkaredis_cli.domain.groups import (
    DescribeGroups,
    GroupsLag,
    ListGroups,
    ResetGroupOffsets,
)
from kafkaredis_cli.domain.replay import ReplayMessage
from kafkaredis_cli.handlers.consume import ConsumeMessageHandler
from kafkaredis_cli.handlers.produce_batch import ProduceBatchHandler
from kafkaredis_cli.handlers.produce_message import ProduceMessageHandler
from kafkaredis_cli.handlers.read_back import ReadRangesHandler
from kafkaredis_cli.keys import KeySpace
from kafkaredis_cli.mediator import Handler, Mediator
from kafkaredis_cli.settings import Settings

if TYPE_CHECKING:
    from kafkaredis_cli.adapters.kafka_canary import KafkaTopicLayouts
    from kafkaredis_cli.adapters.kafka_canary_follower import KafkaTopicFollower
    from kafkaredis_cli.adapters.kafka_metadata import KafkaMetadata
    from kafkaredis_cli.adapters.redis import RedisStore

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
        from kafkaredis_cli.adapters.kafka_metadata import KafkaMetadata

        return KafkaMetadata(self.settings.kafka.to_librdkafka(), self.settings.kafka.timeout_s)

    def canary_clients(self) -> tuple[KafkaTopicLayouts, KafkaTopicFollower]:
        """The timer's topic layout admin and its independent consumer."""
        from kafkaredis_cli.adapters.kafka_canary import KafkaTopicLayouts
        from kafkaredis_cli.adapters.kafka_canary_follower import KafkaTopicFollower

        conf, timeout = self.settings.kafka.to_librdkafka(), self.settings.kafka.timeout_s
        return KafkaTopicLayouts(conf, timeout), KafkaTopicFollower(conf, timeout)

    def close(self) -> None:
        for consumer in self._consumers:
            consumer.close()
        self.producer.close()
        self.store.close()


def build_app(
    settings: Settings,
    profile: Profile = "single",
    delivery_timeout_s: float = 30.0,
    *,
    will_read_back: bool = False,
) -> App:
    """The application for one command. A single message's producer, and its read-back
    consumer when `will_read_back`, start connecting at once: their handshakes with the
    brokers (librdkafka's own threads) overlap loading redis-py and the handlers."""
    kafka = settings.kafka
    base = kafka.to_librdkafka()
    producer_conf = {
        **_PRODUCER_PROFILES[profile],
        "message.timeout.ms": str(int(delivery_timeout_s * 1000)),
        **base,
    }
    producer = KafkaProducerAdapter(producer_conf, kafka.timeout_s)
    readback: list[KafkaConsumerAdapter] = []

    def new_consumer() -> KafkaConsumerAdapter:
        return KafkaConsumerAdapter(base, kafka.timeout_s)

    if profile == "single":
        producer.connect()
        if will_read_back:
            readback.append(new_consumer())
            readback[0].connect()
    from kafkaredis_cli.adapters.redis import RedisStore  # redis-py: ~0.1 s to load
    from kafkaredis_cli.cache_wiring import register_cache_handlers

    keys = KeySpace(settings.redis.key_prefix)
    store = RedisStore(settings.redis, keys)
    mediator = Mediator(
        [
            TimingBehaviour(),
            MapClientErrors(settings.redis.masked_url(), f"{settings.redis.key_prefix}:*"),
        ]
    )
    app = App(settings=settings, keys=keys, mediator=mediator, producer=producer, store=store)
    app._consumers.extend(readback)

    def shared_readback() -> KafkaConsumerAdapter:
        if not readback:
            readback.append(new_consumer())
            app._consumers.append(readback[0])
        return readback[0]

    ttl = settings.redis.ttl_s
    register_cache_handlers(mediator, store)
    read_back = ReadRangesHandler(shared_readback)
    produce_one = ProduceMessageHandler(producer, store, read_back.handle, ttl)
    mediator.register(ProduceMessage, produce_one)
    mediator.register(ProduceBatch, ProduceBatchHandler(producer, store, read_back.handle, ttl))
    mediator.register(ConsumeMessage, ConsumeMessageHandler(new_consumer, store))
    mediator.register(ReadRanges, read_back)

    def share_handler() -> Handler[Any, Any]:
        from kafkaredis_cli.adapters.kafka_share import KafkaShareConsumerAdapter
        from kafkaredis_cli.handlers.share_consume import ShareConsumeHandler

        return ShareConsumeHandler(lambda: KafkaShareConsumerAdapter(base, kafka.timeout_s), store)

    mediator.register(ShareConsume, Deferred(share_handler))
    # Built on their first command: a one-shot produce never loads confluent-kafka's admin.
    group_admin: list[Any] = []

    def groups() -> Any:
        if not group_admin:
            from kafkaredis_cli.adapters.kafka_groups import KafkaGroupAdmin

            group_admin.append(KafkaGroupAdmin(base, kafka.timeout_s))
        return group_admin[0]

    def groups_handler(name: str) -> Callable[[], Handler[Any, Any]]:
        def build() -> Handler[Any, Any]:
            from kafkaredis_cli.handlers import groups as group_handlers

            handler: Handler[Any, Any] = getattr(group_handlers, name)(groups())
            return handler

        return build

    def replay_handler() -> Handler[Any, Any]:
        from kafkaredis_cli.handlers.replay import ReplayMessageHandler

        return ReplayMessageHandler(store, produce_one.handle)

    mediator.register(ListGroups, Deferred(groups_handler("ListGroupsHandler")))
    mediator.register(GroupsLag, Deferred(groups_handler("GroupsLagHandler")))
    mediator.register(DescribeGroups, Deferred(groups_handler("DescribeGroupsHandler")))
    mediator.register(ResetGroupOffsets, Deferred(groups_handler("ResetGroupOffsetsHandler")))
    mediator.register(ReplayMessage, Deferred(replay_handler))
    return app


class Deferred:
    """A handler built on its first command, so its modules load only when it is used."""

    def __init__(self, build: Callable[[], Handler[Any, Any]]) -> None:
        self._build = build
        self._handler: Handler[Any, Any] | None = None

    def handle(self, command: Any) -> Any:
        if self._handler is None:
            self._handler = self._build()
        return self._handler.handle(command)
