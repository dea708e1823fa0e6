"""The canary's certificate watch: every TLS certificate's expiry on /metrics.

With --metrics-port and TLS in the settings, a thread reads the certificates `check`
reads (each broker's, each Redis node's, the client certificates presented) at start and
then every REFRESH_S, and sets kafkaredis_canary_certificate_expiry_timestamp_seconds
{endpoint, role}. It never touches the ticks: a handshake that fails is logged and the
last value kept.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Protocol

from kafkaredis_cli.domain.certificates import TlsEndpoint
from kafkaredis_cli.domain.security import (
    Posture,
    client_endpoint,
    kafka_posture,
    redis_posture,
    server_endpoints,
)

if TYPE_CHECKING:
    from kafkaredis_cli.settings import Settings

log = logging.getLogger("kafkaredis.canary")
REFRESH_S = 600.0  # certificates change seldom; expiry alerts work in days


class ExpirySink(Protocol):
    def certificate_expiry(self, endpoint: str, role: str, not_after: float) -> None: ...


class CertificateWatch:
    def __init__(self, settings: Settings, sink: ExpirySink, refresh_s: float = REFRESH_S) -> None:
        self._kafka = settings.kafka
        self._redis = settings.redis
        self._sink = sink
        self._refresh_s = refresh_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        target = self._redis.target()
        self._postures: tuple[Posture, ...] = (
            kafka_posture(self._kafka.to_librdkafka()),
            redis_posture(target, self._redis.masked_url()),
        )

    @property
    def wanted(self) -> bool:
        """Is there any certificate to watch?"""
        return any(p.tls or p.client_certificate for p in self._postures)

    def start(self) -> None:
        if not self.wanted:
            return
        self._thread = threading.Thread(target=self._run, name="kafkaredis-certs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.refresh()
            except Exception as exc:  # a watch must never end the run
                log.warning("certificate expiry not read: %s", exc)
            if self._stop.wait(self._refresh_s):
                return

    def endpoints(self) -> list[TlsEndpoint]:
        found: list[TlsEndpoint] = []
        for posture in self._postures:
            found.extend(server_endpoints(posture, self._addresses(posture)))
            client = client_endpoint(posture)
            if client is not None:
                found.append(client)
        return found

    def _addresses(self, posture: Posture) -> list[str]:
        if not posture.tls:
            return []
        if posture.service == "redis":
            return [f"{host}:{port}" for host, port in self._redis.target().hosts]
        bootstrap = [a.strip() for a in self._kafka.bootstrap_servers.split(",") if a.strip()]
        try:  # every broker, as the metadata lists them
            from contextlib import closing

            from kafkaredis_cli.adapters.kafka_metadata import KafkaMetadata

            conf = self._kafka.to_librdkafka()
            with closing(KafkaMetadata(conf, self._kafka.timeout_s)) as metadata:
                return list(metadata.cluster([]).broker_addresses) or bootstrap
        except Exception as exc:
            log.info("broker list not read for the certificate watch: %s", exc)
            return bootstrap

    def refresh(self) -> None:
        from kafkaredis_cli.adapters.tls_certificates import read_certificates

        reports = read_certificates(
            self.endpoints(),
            kafka_conf=self._kafka.to_librdkafka(),
            redis_options=self._redis.target().options,
            timeout_s=max(self._kafka.timeout_s, self._redis.timeout_s),
        )
        for report in reports:
            endpoint = report.endpoint
            if report.certificate is None:
                log.warning("certificate of %s not read: %s", endpoint.address, report.error)
                continue
            self._sink.certificate_expiry(
                endpoint.address, endpoint.role, report.certificate.not_after
            )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self._kafka.timeout_s, self._redis.timeout_s) + 5)
            self._thread = None
