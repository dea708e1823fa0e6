"""`kafkaredis check` as a command: the rows saying whether Kafka and Redis work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafkaredis_cli.domain.certificates import DEFAULT_MIN_DAYS, CertificateReport, TlsEndpoint
from kafkaredis_cli.domain.cluster_health import CheckRow, ClusterInfo
from kafkaredis_cli.mediator import Command

# The ports of the check: one metadata snapshot of the cluster, the Redis rows, the
# certificates of the TLS endpoints.
ReadCluster = Callable[[], ClusterInfo]
ReadRedisHealth = Callable[[], list[CheckRow]]
ReadCertificates = Callable[[Sequence[TlsEndpoint]], list[CertificateReport]]


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckServices(Command[list[CheckRow]]):
    """Kafka's rows (the table of cluster checks), then Redis's (the mode, every node),
    then security (each service's, then every TLS certificate's).

    `expected_brokers` overrides the setting kafka.expected_brokers; a certificate that
    expires within `cert_min_days` fails."""

    expected_brokers: int | None = None
    cert_min_days: int = DEFAULT_MIN_DAYS
