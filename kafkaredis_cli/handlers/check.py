"""The handler of `check`: Kafka's rows, then Redis's; a service that does not answer
is one failing row (a bad setting is not a service that is down: it is raised)."""

from __future__ import annotations

from kafkaredis_cli.domain.cluster_health import CheckRow, Expectations, kafka_health
from kafkaredis_cli.domain.service_checks import CheckServices, ReadCluster, ReadRedisHealth
from kafkaredis_cli.errors import ConfigError, KafkaRedisError


class CheckServicesHandler:
    def __init__(
        self,
        read_cluster: ReadCluster,
        read_redis: ReadRedisHealth,
        *,
        bootstrap: str,
        expected_brokers: int | None,
        redis_where: str,
    ) -> None:
        self._read_cluster = read_cluster
        self._read_redis = read_redis
        self._bootstrap = bootstrap
        self._expected_brokers = expected_brokers
        self._redis_where = redis_where

    def handle(self, command: CheckServices) -> list[CheckRow]:
        return self._kafka_rows(command) + self._redis_rows()

    def _kafka_rows(self, command: CheckServices) -> list[CheckRow]:
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
            return [CheckRow("kafka", self._bootstrap, False, exc.message, "cluster")]
        return kafka_health(cluster, expect)

    def _redis_rows(self) -> list[CheckRow]:
        try:
            return self._read_redis()
        except ConfigError:
            raise
        except KafkaRedisError as exc:
            return [CheckRow("redis", self._redis_where, False, exc.message)]
