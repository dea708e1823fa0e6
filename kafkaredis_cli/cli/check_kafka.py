"""The Kafka rows of `kafkaredis check`: one metadata snapshot through the table of
cluster checks (domain/cluster_health.py), or one failing row when Kafka does not answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kafkaredis_cli.errors import ConfigError, KafkaRedisError

if TYPE_CHECKING:
    from kafkaredis_cli.settings import KafkaSettings


def kafka_rows(kafka: KafkaSettings, expected_brokers: int | None) -> list[dict[str, Any]]:
    from kafkaredis_cli.adapters.kafka import KafkaMetadata
    from kafkaredis_cli.domain.cluster_health import Expectations, kafka_health

    expect = Expectations(
        bootstrap=kafka.bootstrap_servers,
        brokers=expected_brokers if expected_brokers is not None else kafka.expected_brokers,
    )
    metadata = KafkaMetadata(kafka.to_librdkafka(), kafka.timeout_s)
    try:
        cluster = metadata.cluster(kafka.topics)
    except ConfigError:
        raise  # a bad setting is not a service that is down
    except KafkaRedisError as exc:
        return [
            {
                "service": "kafka",
                "target": kafka.bootstrap_servers,
                "ok": False,
                "detail": exc.message,
                "check": "cluster",
            }
        ]
    finally:
        metadata.close()
    return [row.as_dict() for row in kafka_health(cluster, expect)]
