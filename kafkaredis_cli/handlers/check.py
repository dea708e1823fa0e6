"""The handler of `check`: Kafka's rows, then Redis's, then security; a service that
does not answer is one failing row (a bad setting is not a service that is down: it is
raised)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kafkaredis_cli.domain.certificates import certificate_rows
from kafkaredis_cli.domain.cluster_health import CheckRow, ClusterInfo, Expectations, kafka_health
from kafkaredis_cli.domain.security import (
    Posture,
    client_endpoint,
    security_row,
    server_endpoints,
)
from kafkaredis_cli.domain.service_checks import (
    CheckServices,
    ReadCertificates,
    ReadCluster,
    ReadRedisHealth,
)
from kafkaredis_cli.errors import ConfigError, KafkaRedisError

# Redis rows whose target is a node's host:port (a standalone server's row names the URL).
REDIS_NODE_ROWS = ("redis node", "redis sentinel")


class CheckServicesHandler:
    def __init__(
        self,
        read_cluster: ReadCluster,
        read_redis: ReadRedisHealth,
        *,
        bootstrap: str,
        expected_brokers: int | None,
        redis_where: str,
        postures: Sequence[Posture] = (),
        redis_hosts: Sequence[str] = (),
        read_certificates: ReadCertificates | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._read_cluster = read_cluster
        self._read_redis = read_redis
        self._bootstrap = bootstrap
        self._expected_brokers = expected_brokers
        self._redis_where = redis_where
        self._postures = postures
        self._redis_hosts = redis_hosts
        self._read_certificates = read_certificates
        self._clock = clock

    def handle(self, command: CheckServices) -> list[CheckRow]:
        cluster, kafka = self._kafka_rows(command)
        redis = self._redis_rows()
        return kafka + redis + self._security_rows(command, cluster, redis)

    def _kafka_rows(self, command: CheckServices) -> tuple[ClusterInfo | None, list[CheckRow]]:
        brokers = command.expected_brokers
        expect = Expectations(
            bootstrap=self._bootstrap,
            brokers=brokers if brokers is not None else self._expected_brokers,
        )
        try:
            cluster = self._read_cluster()
        except ConfigError:
            raise
        except KafkaRedisError as exc:
            return None, [CheckRow("kafka", self._bootstrap, False, exc.message, "cluster")]
        return cluster, kafka_health(cluster, expect)

    def _redis_rows(self) -> list[CheckRow]:
        try:
            return self._read_redis()
        except ConfigError:
            raise
        except KafkaRedisError as exc:
            return [CheckRow("redis", self._redis_where, False, exc.message)]

    def _security_rows(
        self, command: CheckServices, cluster: ClusterInfo | None, redis: list[CheckRow]
    ) -> list[CheckRow]:
        """Each service's security row, then a row per certificate: every broker's (the
        bootstrap servers' when the metadata was not read), every Redis node's, and the
        client certificates presented."""
        if not self._postures:
            return []
        endpoints = []
        for posture in self._postures:
            if posture.service == "kafka":
                bootstrap = [a.strip() for a in self._bootstrap.split(",") if a.strip()]
                addresses = list(cluster.broker_addresses) if cluster else bootstrap
            else:
                nodes = [r.target for r in redis if r.service in REDIS_NODE_ROWS]
                addresses = nodes or list(self._redis_hosts)
            endpoints.extend(server_endpoints(posture, addresses))
            client = client_endpoint(posture)
            if client is not None:
                endpoints.append(client)
        reports = (
            self._read_certificates(endpoints) if endpoints and self._read_certificates else []
        )
        rows = []
        for posture in self._postures:
            mine = [r for r in reports if r.endpoint.service == posture.service]
            rows.append(security_row(posture, mine))
            rows.extend(certificate_rows(mine, self._clock(), command.cert_min_days))
        return rows
