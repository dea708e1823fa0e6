"""`timer --metrics-port`: the run's counts on /metrics for Prometheus (prometheus_client).

Every counter has the labels topic, partition and broker (the partition's leader when
the probe was sent; "unknown" when none was known), so sum by (broker) gives the
per-broker figures. Counters never go down: a tick not read back within --timeout
adds to lost_total, and if its probe arrives later late_total goes up too, so the
run's current loss is lost_total - late_total (the summary's "lost").

Gauges: the last success per broker, each broker of the topics' layout missing from
the cluster's metadata (1) or not (0), the independent consumer's gaps per partition
(sequence numbers not read while a later one was; they can close again). The port
also answers /healthz (health.py, http.py); deploy/prometheus has the alert rules and
deploy/grafana the dashboard that use these names (tests check them against a scrape).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kafkaredis_cli.canary.figures import UNKNOWN_BROKER, Where
from kafkaredis_cli.errors import UsageError

if TYPE_CHECKING:
    from kafkaredis_cli.canary.http import HealthCheck, MetricsServer

PREFIX = "kafkaredis_canary"
# Latency buckets (seconds), fixed: from a loopback round trip to a --timeout.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
COUNTERS = {
    "produced": "Probes sent",
    "produce_failed": "Probes without a successful delivery report within --timeout",
    "verified": "Probes read back within --timeout",
    "lost": "Probes not read back within --timeout (late ones included: counters never drop)",
    "late": "Probes not read back within --timeout that the independent consumer read later",
    "duplicated": "Probes the independent consumer read more than once",
    "cache_failed": "Probes whose Redis write or update failed",
}
HISTOGRAMS = {
    "round_trip": "Send to read back of a verified probe",
    "delivery": "Send to delivery report",
}
LABELS = ("topic", "partition", "broker")


def _labels(where: Where) -> tuple[str, str, str]:
    broker = "unknown" if where.broker == UNKNOWN_BROKER else str(where.broker)
    partition = "unknown" if where.partition < 0 else str(where.partition)
    return where.topic, partition, broker


class PrometheusSink:
    """A Sink (statistics.py) that keeps prometheus_client metrics in a registry of its own."""

    def __init__(self, producer_id: str) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            Info,
            disable_created_metrics,
        )

        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        self.registry = CollectorRegistry(auto_describe=True)
        self._counters = {
            name: Counter(f"{PREFIX}_{name}", text, LABELS, registry=self.registry)
            for name, text in COUNTERS.items()
        }
        self._histograms = {
            name: Histogram(
                f"{PREFIX}_{name}_seconds", text, LABELS, buckets=BUCKETS, registry=self.registry
            )
            for name, text in HISTOGRAMS.items()
        }
        self._last_success = Gauge(
            f"{PREFIX}_broker_last_success_timestamp_seconds",
            "Unix time of the last probe verified on a partition this broker led",
            ("broker",),
            registry=self.registry,
        )
        self._missing = Gauge(
            f"{PREFIX}_broker_missing",
            "1 while a broker of the canary topics' layout is missing from the cluster",
            ("broker",),
            registry=self.registry,
        )
        self._missing_now: set[str] = set()
        self._gaps = Gauge(
            f"{PREFIX}_gaps",
            "Sequence numbers the independent consumer has not read while a later one was",
            ("topic", "partition"),
            registry=self.registry,
        )
        self._certificate_expiry = Gauge(
            f"{PREFIX}_certificate_expiry_timestamp_seconds",
            "Unix time when the TLS certificate of an endpoint (a broker, a Redis node) or "
            "the client certificate presented (endpoint: its path) expires",
            ("endpoint", "role"),
            registry=self.registry,
        )
        Info(f"{PREFIX}_run", "The timer run", registry=self.registry).info(
            {"producer_id": producer_id, "started_at": str(round(time.time()))}
        )
        self._server: MetricsServer | None = None

    def prepare(self, where: Where) -> None:
        """Show every series of this partition from the start, at zero."""
        labels = _labels(where)
        for counter in self._counters.values():
            counter.labels(*labels)
        for histogram in self._histograms.values():
            histogram.labels(*labels)
        self._gaps.labels(labels[0], labels[1])
        if where.broker != UNKNOWN_BROKER:
            self._missing.labels(labels[2])

    def brokers_missing(self, brokers: list[int]) -> None:
        now = {str(b) for b in brokers}
        for broker in self._missing_now | now:
            self._missing.labels(broker).set(1 if broker in now else 0)
        self._missing_now = now

    def set_gaps(self, where: Where, gaps: int) -> None:
        topic, partition, _broker = _labels(where)
        self._gaps.labels(topic, partition).set(gaps)

    def count(self, figure: str, where: Where) -> None:
        self._counters[figure].labels(*_labels(where)).inc()

    def observe(self, figure: str, where: Where, ms: float) -> None:
        self._histograms[figure].labels(*_labels(where)).observe(ms / 1000)

    def succeeded(self, where: Where) -> None:
        if where.broker != UNKNOWN_BROKER:
            self._last_success.labels(str(where.broker)).set(time.time())

    def certificate_expiry(self, endpoint: str, role: str, not_after: float) -> None:
        """role: kafka | redis | client."""
        self._certificate_expiry.labels(endpoint, role).set(not_after)

    def exposition(self) -> tuple[str, bytes]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return CONTENT_TYPE_LATEST, generate_latest(self.registry)

    def serve(self, host: str, port: int, health: HealthCheck) -> None:
        """/metrics and /healthz on host:port, on a thread of their own."""
        from kafkaredis_cli.canary.http import MetricsServer

        try:
            self._server = MetricsServer((host, port), self.exposition, health)
            self._server.start()
        except OSError as exc:
            raise UsageError(
                f"--metrics-port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
