"""ProduceMessageHandler: one message produced, cached, then read back."""

from __future__ import annotations

import time

from kafkaredis_cli.domain.commands import ProduceMessage, ProduceResult, ReadRanges
from kafkaredis_cli.domain.messages import ConsumedRecord, DeliveryReport, stamp
from kafkaredis_cli.domain.partitions import check_partition
from kafkaredis_cli.domain.ports import ConsumedUpdate
from kafkaredis_cli.domain.records import MessageRecord, Status
from kafkaredis_cli.errors import KafkaError, RedisError, UnknownOutcome
from kafkaredis_cli.handlers.produce import ProduceHandler


class ProduceMessageHandler(ProduceHandler):
    def handle(self, command: ProduceMessage) -> ProduceResult:
        partitions = self._producer.check_topic(command.topic)
        if command.message.partition is not None:
            check_partition(command.topic, command.message.partition, partitions)
        stamped = stamp(command.topic, command.message)
        started = time.perf_counter()
        reports: list[DeliveryReport] = []
        delivered_at: list[float] = []

        def on_delivery(report: DeliveryReport) -> None:
            delivered_at.append(time.perf_counter())
            reports.append(report)

        self._producer.produce(stamped, on_delivery)
        deadline = time.monotonic() + command.timeout_s
        while not reports and time.monotonic() < deadline:
            self._producer.poll(min(0.05, max(0.0, deadline - time.monotonic())))
        if not reports:
            raise UnknownOutcome(
                f"no delivery report for {stamped.id} within {command.timeout_s:g}s "
                "(broker unreachable?)",
                code="_MSG_TIMED_OUT",
            )
        report = reports[0]
        if report.possibly_persisted:
            raise UnknownOutcome(
                f"delivery to {command.topic!r}: outcome unknown (possibly on the broker): "
                f"{report.error}",
                code=report.error_code,
            )
        if not report.ok:
            raise KafkaError(
                f"delivery to {command.topic!r} failed: {report.error}", code=report.error_code
            )

        record = MessageRecord.from_delivery(report)
        cached, cache_error = False, None
        if command.cache and self._store is not None:
            try:
                self._store.save([record], command.ttl_seconds or self._ttl_s)
                cached = True
            except RedisError as exc:
                cache_error = str(exc)

        verified: bool | None = None
        verify_error: str | None = None
        round_trip_ms: float | None = None
        if command.verify:
            remaining = max(0.5, deadline - time.monotonic())
            verified, verify_error, found = self._read_back(report, remaining)
            if found is not None:
                round_trip_ms = (time.perf_counter() - started) * 1000
                if cached and self._store is not None:
                    try:
                        latency = float(found.consumed_at_ms - stamped.sent_at_ms)
                        update = ConsumedUpdate(
                            id=stamped.id,
                            consumed_at_ms=found.consumed_at_ms,
                            latency_ms=latency,
                            status=Status.VERIFIED,
                        )
                        self._store.mark_consumed([update])
                    except RedisError as exc:
                        cache_error = str(exc)
        return ProduceResult(
            id=stamped.id,
            topic=command.topic,
            partition=report.partition,
            offset=report.offset,
            sent_at_ms=stamped.sent_at_ms,
            delivered_at_ms=report.delivered_at_ms,
            cached=cached,
            cache_error=cache_error,
            verified=verified,
            verify_error=verify_error,
            delivery_ms=(delivered_at[0] - started) * 1000,
            round_trip_ms=round_trip_ms,
        )

    def _read_back(
        self, report: DeliveryReport, timeout_s: float
    ) -> tuple[bool, str | None, ConsumedRecord | None]:
        where = f"{report.message.topic}[{report.partition}]@{report.offset}"
        result = self._read_ranges(
            ReadRanges(
                topic=report.message.topic,
                ranges={report.partition: (report.offset, report.offset)},
                timeout_s=timeout_s,
            )
        )
        for found in result.records:
            if found.partition == report.partition and found.offset == report.offset:
                if found.message_id == report.message.id:
                    return True, None, found
                return False, f"{where} holds another message ({found.message_id})", None
        return False, f"{where} not read back within {timeout_s:.1f}s", None
