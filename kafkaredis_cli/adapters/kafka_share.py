"""confluent-kafka adapter of a share-group member (KIP-932, "queues for Kafka"): join a
share group, fetch acquired records, acknowledge each (accept or release), commit.

librdkafka marks its share consumer "Preview": its warning saying so goes through this
tool's logging (one info line), never raw to stderr."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.adapters.errors import (
    describe_kafka_error,
    from_kafka_exception,
    kafka_error_name,
)
from kafkaredis_cli.adapters.kafka import librdkafka_log
from kafkaredis_cli.adapters.kafka_consumed import consumed_records
from kafkaredis_cli.adapters.kafka_group_admin import all_group_ids, set_group_configs
from kafkaredis_cli.adapters.kafka_metadata import KafkaMetadata
from kafkaredis_cli.domain.messages import ConsumedRecord, now_ms
from kafkaredis_cli.errors import KafkaError

log = logging.getLogger("kafkaredis.kafka")

PREVIEW_NOTE = (
    "share groups: librdkafka's share consumer is in preview (not yet recommended for "
    "production by librdkafka)"
)
_ACCEPT = ck.AcknowledgeType.ACCEPT
_RELEASE = ck.AcknowledgeType.RELEASE
_FATAL = ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "GROUP_AUTHORIZATION_FAILED")


class _ShareLog:
    """librdkafka's logger for the share consumer: its Preview warning becomes one info
    line of ours; everything else goes on to the librdkafka logger as usual."""

    def __init__(self) -> None:
        self.preview_said = False

    def log(self, level: int, msg: str, *args: Any) -> None:
        text = msg % args if args else msg
        if '"Preview"' in text:
            if not self.preview_said:
                self.preview_said = True
                log.info(PREVIEW_NOTE)
            return
        librdkafka_log.log(level, msg, *args)


class KafkaShareConsumerAdapter:
    """ShareConsumer port on confluent_kafka.ShareConsumer (explicit acknowledgement)."""

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        self._conf = dict(conf)
        self._timeout_s = timeout_s
        self._admin = KafkaMetadata({"allow.auto.create.topics": "false", **conf}, timeout_s)
        self._consumer: Any = None
        self._group = ""
        self._logger = _ShareLog()
        self.redelivered = 0  # records fetched with a delivery count over 1
        self.ack_failures = 0  # partitions whose acknowledgements the broker refused

    @property
    def where(self) -> str:
        return self._conf.get("bootstrap.servers", "?")

    # -- joining -------------------------------------------------------------------------
    def join(self, topic: str, group: str, *, latest: bool, max_records: int) -> bool:
        """Subscribe to `topic` in share group `group`. A group the cluster does not know
        yet is told where to start first (share.auto.offset.reset: earliest, or latest
        with `latest`); a known group keeps its state and settings. True if new."""
        self._admin.check_topic(topic)
        admin = self._admin._metadata_client()
        new = group not in all_group_ids(admin, self._timeout_s, self.where)
        if new:
            reset = "latest" if latest else "earliest"
            try:
                set_group_configs(admin, group, {"share.auto.offset.reset": reset}, self._timeout_s)
            except KafkaError as exc:  # e.g. not allowed to alter the group's configs
                log.warning(
                    "share group %r: could not set share.auto.offset.reset=%s (%s); it starts "
                    "where the group's setting says (Kafka's default: latest)",
                    group,
                    reset,
                    exc,
                )
            else:
                log.info("share group %r is new: it starts at the %s record", group, reset)
        else:
            log.info("share group %r exists: it goes on from its own state", group)
        given = self._conf.get("max.poll.records", "")  # a -X one wins if it is smaller
        if given.isdigit() and int(given) > 0:
            max_records = min(max_records, int(given))
        conf: dict[str, Any] = {
            **self._conf,
            "group.id": group,
            "share.acknowledgement.mode": "explicit",
            "max.poll.records": str(max_records),
            "logger": self._logger,
        }
        conf.setdefault("error_cb", self._on_error)
        try:
            self._consumer = ck.ShareConsumer(conf)
            self._consumer.subscribe([topic])
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"share group {group!r}") from None
        except (ValueError, TypeError) as exc:
            raise KafkaError(f"Kafka share consumer configuration: {exc}") from None
        self._group = group
        return new

    def _on_error(self, error: Any) -> None:
        log.debug("librdkafka error: %s", describe_kafka_error(error))

    # -- fetching and acknowledging ------------------------------------------------------
    def fetch(self, timeout_s: float) -> list[ConsumedRecord]:
        """The records acquired by one poll (each must be acknowledged before the next)."""
        try:
            messages = list(self._consumer.poll(timeout_s))
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"share group {self._group!r}") from None
        records = consumed_records(messages, now_ms())
        if len(records) != len(messages):
            self._errors(messages)
        self.redelivered += sum(
            1 for m in messages if m.error() is None and (m.delivery_count() or 1) > 1
        )
        return records

    def _errors(self, messages: list[Any]) -> None:
        for msg in messages:
            error = msg.error()
            if error is None:
                continue
            name = kafka_error_name(error)
            if name in _FATAL or error.fatal():
                where = f"topic {msg.topic()!r}" if msg.topic() else f"group {self._group!r}"
                raise KafkaError(f"share group: {where}: {describe_kafka_error(error)}", code=name)
            log.warning("share group %r: %s", self._group, describe_kafka_error(error))

    def acknowledge(self, records: Sequence[ConsumedRecord], accept: bool) -> None:
        """Accept (done with) or release (for any member to read again) these records;
        sent to the broker with the next commit or poll."""
        kind = _ACCEPT if accept else _RELEASE
        ack = self._consumer.acknowledge_offset
        try:
            for r in records:
                ack(r[0], r[1], r[2], kind)
        except (ck.KafkaException, ck.IllegalStateException) as exc:
            raise KafkaError(f"acknowledge in share group {self._group!r}: {exc}") from None

    def commit(self) -> None:
        """Send the acknowledgements and wait for the broker's answer. A refused one is
        logged: its records come back to the group when their lock times out."""
        if self._consumer is None:
            return
        try:
            results = self._consumer.commit_sync(self._timeout_s)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"commit in share group {self._group!r}") from None
        for tp, error in (results or {}).items():
            if error is not None:
                self.ack_failures += 1
                log.warning(
                    "share group %r: acknowledgements on %s[%d] refused (%s): those records "
                    "come back after their lock times out",
                    self._group,
                    tp.topic,
                    tp.partition,
                    error,
                )

    def close(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except (ck.KafkaException, RuntimeError) as exc:
                log.debug("closing share consumer: %s", exc)
            self._consumer = None
        self._admin.close()
