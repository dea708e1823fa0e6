"""build_check_mediator(settings): the wiring of `check` (Kafka metadata, Redis health,
the security settings and the TLS certificates).

The clients are made when the check runs and closed right after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing

from kafkaredis_cli.behaviours import MapClientErrors, TimingBehaviour
from kafkaredis_cli.domain.certificates import CertificateReport, TlsEndpoint
from kafkaredis_cli.domain.cluster_health import CheckRow, ClusterInfo
from kafkaredis_cli.domain.security import kafka_posture, redis_posture
from kafkaredis_cli.domain.service_checks import CheckServices
from kafkaredis_cli.handlers.check import CheckServicesHandler
from kafkaredis_cli.mediator import Mediator
from kafkaredis_cli.settings import Settings


def register_check_handler(mediator: Mediator, settings: Settings) -> None:
    kafka, redis_settings = settings.kafka, settings.redis

    def read_cluster() -> ClusterInfo:
        from kafkaredis_cli.adapters.kafka_metadata import KafkaMetadata

        with closing(KafkaMetadata(kafka.to_librdkafka(), kafka.timeout_s)) as metadata:
            return metadata.cluster(kafka.topics)

    def read_redis() -> list[CheckRow]:
        import redis

        from kafkaredis_cli.adapters.errors import from_redis_exception
        from kafkaredis_cli.adapters.redis import RedisStore
        from kafkaredis_cli.adapters.redis_health import redis_health
        from kafkaredis_cli.keys import KeySpace

        keys = KeySpace(redis_settings.key_prefix)
        with closing(RedisStore(redis_settings, keys)) as store:
            try:
                rows = redis_health(store.connection())
            except redis.RedisError as exc:
                raise from_redis_exception(exc, store.where) from None
        return [CheckRow(r.service, r.target, r.ok, r.detail) for r in rows]

    conf = kafka.to_librdkafka()
    target = redis_settings.target()

    def read_certificates(endpoints: Sequence[TlsEndpoint]) -> list[CertificateReport]:
        from kafkaredis_cli.adapters.tls_certificates import read_certificates as read

        timeout_s = max(kafka.timeout_s, redis_settings.timeout_s)
        return read(endpoints, kafka_conf=conf, redis_options=target.options, timeout_s=timeout_s)

    handler = CheckServicesHandler(
        read_cluster,
        read_redis,
        bootstrap=kafka.bootstrap_servers,
        expected_brokers=kafka.expected_brokers,
        redis_where=redis_settings.masked_url(),
        postures=(kafka_posture(conf), redis_posture(target, redis_settings.masked_url())),
        redis_hosts=[f"{host}:{port}" for host, port in target.hosts],
        read_certificates=read_certificates,
    )
    mediator.register(CheckServices, handler)


def build_check_mediator(settings: Settings) -> Mediator:
    mediator = Mediator([TimingBehaviour(), MapClientErrors(settings.redis.masked_url())])
    register_check_handler(mediator, settings)
    return mediator
