"""confluent-kafka adapters: what every client shares, and the producer (the consumer:
kafka_consumer.py; cluster metadata: kafka_metadata.py). Clients are created lazily."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import confluent_kafka as ck

from kafkaredis_cli.adapters.errors import (
    describe_kafka_error,
    from_kafka_exception,
    kafka_error_name,
    possibly_persisted,
)
from kafkaredis_cli.domain.messages import (
    DeliveryReport,
    DeliveryTally,
    StampedMessage,
    now_ms,
    wire_headers,
)
from kafkaredis_cli.errors import KafkaError, KafkaRedisError

if TYPE_CHECKING:
    from kafkaredis_cli.domain.ports import DeliverySink

log = logging.getLogger("kafkaredis.kafka")
librdkafka_log = logging.getLogger("kafkaredis.librdkafka")

C = TypeVar("C")  # a confluent-kafka client class
PID_TIMER_S = 0.5  # librdkafka's retry interval for an idempotent producer's id request


def _with_logger(conf: Mapping[str, str]) -> dict[str, Any]:
    full: dict[str, Any] = dict(conf)
    full["logger"] = librdkafka_log
    return full


def _failed_report(message: StampedMessage, err: Any, msg: Any) -> DeliveryReport:
    name = kafka_error_name(err)
    return DeliveryReport(
        message=message,
        delivered_at_ms=now_ms(),
        partition=msg.partition() if msg is not None else -1,
        error=describe_kafka_error(err),
        error_code=name,
        possibly_persisted=possibly_persisted(name),
    )


def _tls_hint(reason: str) -> str:
    """What a TLS alert from the broker usually means."""
    if "alert bad certificate" in reason or "certificate required" in reason:
        return (
            " (the broker wants a client certificate it trusts: ssl.certificate.location "
            "and ssl.key.location)"
        )
    return ""


class KafkaClientBase:
    creates_topics = False  # does this client's metadata request auto-create topics?

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        self._conf = dict(conf)
        self._timeout_s = timeout_s
        self._known_topics: dict[str, int] = {}
        self.last_error: str | None = None
        self.last_error_code: str | None = None
        self.last_tls_error: str | None = None  # a TLS failure's reason, kept past others

    @property
    def where(self) -> str:
        return self._conf.get("bootstrap.servers", "?")

    def _on_error(self, error: Any) -> None:
        self.last_error = describe_kafka_error(error)
        self.last_error_code = kafka_error_name(error)
        if "SSL" in self.last_error:
            self.last_tls_error = self.last_error
        log.debug("librdkafka error: %s", self.last_error)

    def _unreachable(self, exc: ck.KafkaException) -> KafkaRedisError:
        """A failed metadata call, with librdkafka's own reason when it says more
        (a refused SASL login shows up as a mere transport failure otherwise)."""
        error = from_kafka_exception(exc, f"Kafka at {self.where}")
        self._serve_errors()
        # A TLS failure is a mere transport failure too: its reason is in librdkafka's text
        # (and "1/1 brokers are down" may have come after it).
        tls = self.last_tls_error
        if tls:
            error.message = f"{error.message}; before that: {tls}{_tls_hint(tls)}"
        elif self.last_error and self.last_error_code not in (None, error.code):
            error.message = f"{error.message}; before that: {self.last_error}"
        return error

    def _new_client(
        self, make: Callable[[dict[str, Any]], C], what: str, conf: dict[str, Any]
    ) -> C:
        """A confluent-kafka client reporting to _on_error; a bad setting is our error."""
        conf["error_cb"] = self._on_error
        try:
            return make(conf)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"Kafka {what}") from None
        except (ValueError, TypeError) as exc:
            raise KafkaError(f"Kafka {what} configuration: {exc}") from None

    def _metadata_client(self) -> Any:
        raise NotImplementedError

    def _serve_errors(self) -> None:
        """Let librdkafka call error_cb with what it has queued (where that is safe)."""

    def check_topic(self, topic: str) -> int:
        """Partition count of `topic`; a KafkaError if unreachable or unknown (bounded)."""
        if topic in self._known_topics:
            return self._known_topics[topic]
        try:
            meta = self._metadata_client().list_topics(topic, timeout=self._timeout_s)
        except ck.KafkaException as exc:
            raise self._unreachable(exc) from None
        info = meta.topics.get(topic)
        if info is None or info.error is not None:
            name = kafka_error_name(info.error) if info is not None else "UNKNOWN_TOPIC_OR_PART"
            if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "LEADER_NOT_AVAILABLE"):
                # The broker may be creating it right now (auto-create): ask again, briefly.
                count = self._retry_new_topic(topic)
                if count:
                    return count
                why = (
                    " and was not created (is the broker's auto.create.topics.enable off?)"
                    if self.creates_topics
                    else ""
                )
                raise KafkaError(f"topic {topic!r} does not exist on {self.where}{why}", code=name)
            detail = describe_kafka_error(info.error) if info is not None else name
            raise KafkaError(f"topic {topic!r}: {detail}", code=name)
        if not info.partitions:  # listed but not ready yet: wait for its partitions
            count = self._retry_new_topic(topic)
            if not count:
                raise KafkaError(f"topic {topic!r} has no partitions yet", code="NO_PARTITIONS")
            return count
        count = len(info.partitions)
        self._known_topics[topic] = count
        return count

    def forget_topic(self, topic: str) -> None:
        """Drop the cached partition count: the next check_topic asks the broker again."""
        self._known_topics.pop(topic, None)

    def _retry_new_topic(self, topic: str) -> int:
        """Partition count once the topic has leaders, or 0 if it does not appear soon."""
        import time

        # A producer's metadata request creates the topic (when the broker allows it),
        # which takes a moment; a consumer's never does, so it only allows for metadata
        # that has not reached this broker yet.
        wait = self._timeout_s if self.creates_topics else 1.0
        deadline = time.monotonic() + min(self._timeout_s, wait)
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                meta = self._metadata_client().list_topics(topic, timeout=self._timeout_s)
            except ck.KafkaException as exc:
                raise self._unreachable(exc) from None
            info = meta.topics.get(topic)
            ready = info is not None and info.error is None and bool(info.partitions)
            if ready and all(p.leader >= 0 for p in info.partitions.values()):
                self._known_topics[topic] = len(info.partitions)
                return len(info.partitions)
        return 0


class KafkaProducerAdapter(KafkaClientBase):
    """MessageProducer on confluent_kafka.Producer."""

    creates_topics = True

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        super().__init__(conf, timeout_s)
        self._producer: ck.Producer | None = None
        self._sent_at: tuple[int, bytes] = (-1, b"")
        self._counted: tuple[DeliveryTally, Callable[[Any, Any], None]] | None = None
        self._pid_asked = False

    def _client(self) -> ck.Producer:
        if self._producer is None:
            self._producer = self._new_client(ck.Producer, "producer", _with_logger(self._conf))
        return self._producer

    def connect(self) -> None:
        """Create the client now: librdkafka connects (and, idempotent, prepares to ask
        for a producer id) in its own threads while the caller does other work."""
        self._client()

    def _metadata_client(self) -> Any:
        return self._client()

    def check_topic(self, topic: str) -> int:
        first = not self._known_topics and not self._pid_asked
        count = super().check_topic(topic)
        if first and self._conf.get("enable.idempotence", "").lower() == "true":
            self._ask_for_producer_id(topic)
        return count

    def _ask_for_producer_id(self, topic: str) -> None:
        """One more metadata request, so the first send does not wait ~0.5 s.

        An idempotent producer cannot send before it has a producer id. librdkafka asks for
        one after a metadata answer from a broker it has learned from the bootstrap answer,
        else only on a 500 ms timer; the first answer usually comes from the bootstrap
        connection, which is then dropped. This request waits for a learned broker, and its
        answer starts the producer id request (1 round trip when it is already under way).
        """
        self._pid_asked = True
        try:  # no longer than the timer it saves (a broker that hangs must not delay more)
            self._client().list_topics(topic, timeout=min(self._timeout_s, PID_TIMER_S))
        except ck.KafkaException as exc:  # the topic was just found: only time is lost
            log.debug("metadata for the producer id: %s", exc)

    def _serve_errors(self) -> None:
        if self._producer is not None:
            self._producer.poll(0)

    def produce(
        self, message: StampedMessage, on_delivery: Callable[[DeliveryReport], None]
    ) -> None:
        def delivered(err: Any, msg: Any) -> None:
            if err is None:
                on_delivery(DeliveryReport(message, now_ms(), msg.partition(), msg.offset()))
            else:
                on_delivery(_failed_report(message, err, msg))

        self._produce(message, delivered)

    def produce_to(self, message: StampedMessage, sink: DeliverySink) -> None:
        def delivered(err: Any, msg: Any) -> None:
            if err is None:
                sink.on_delivered(message, msg.partition(), msg.offset())
            else:
                sink.on_failed(_failed_report(message, err, msg))

        self._produce(message, delivered)

    def produce_counted(self, message: StampedMessage, tally: DeliveryTally) -> None:
        counted = self._counted
        if counted is None or counted[0] is not tally:
            # One callback for the whole batch (no closure, no report per message).
            def count(err: Any, _msg: Any) -> None:
                if err is None:
                    tally.delivered += 1
                else:
                    unknown = possibly_persisted(kafka_error_name(err))
                    tally.count_error(describe_kafka_error(err), unknown)

            counted = self._counted = (tally, count)
        self._produce(message, counted[1])

    def _produce(self, message: StampedMessage, delivered: Callable[[Any, Any], None]) -> None:
        producer = self._producer if self._producer is not None else self._client()
        outgoing = message.message
        sent_at = message.sent_at_ms
        if sent_at != self._sent_at[0]:  # a batch's messages share their millisecond's text
            self._sent_at = (sent_at, str(sent_at).encode())
        headers = wire_headers(message, self._sent_at[1])
        while True:
            try:
                if outgoing.partition is None:  # the hot path: no keyword dictionary
                    producer.produce(
                        message.topic,
                        outgoing.value,
                        outgoing.key,
                        headers=headers,
                        on_delivery=delivered,
                    )
                else:
                    producer.produce(
                        message.topic,
                        outgoing.value,
                        outgoing.key,
                        outgoing.partition,
                        headers=headers,
                        on_delivery=delivered,
                    )
                return
            except BufferError:
                producer.poll(0.05)  # the local queue is full: serve delivery reports first
            except ck.KafkaException as exc:
                error = exc.args[0]
                if kafka_error_name(error) == "MSG_SIZE_TOO_LARGE":
                    size = len(outgoing.value or b"") + len(outgoing.key or b"")
                    limit = self._conf.get("message.max.bytes", "1000000")
                    raise KafkaError(
                        f"message of {size} bytes is larger than the producer's "
                        f"message.max.bytes ({limit}); raise it with "
                        "-X message.max.bytes=N (and the broker's)",
                        code="MSG_SIZE_TOO_LARGE",
                    ) from None
                raise from_kafka_exception(exc, f"produce to {message.topic!r}") from None

    def poll(self, timeout_s: float = 0.0) -> int:
        if self._producer is None:
            return 0
        return int(self._producer.poll(timeout_s))

    def flush(self, timeout_s: float) -> int:
        if self._producer is None:
            return 0
        return int(self._producer.flush(timeout_s))

    def abandon(self) -> None:
        """A forced stop: close without waiting for messages still in flight."""
        self._timeout_s = 0.0

    def close(self) -> None:
        if self._producer is not None:
            remaining = self._producer.flush(self._timeout_s)
            if remaining:
                log.warning("%d message(s) still undelivered at close: unknown outcome", remaining)
            self._producer = None
