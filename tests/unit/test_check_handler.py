"""`check` through the mediator: the handler's rows from fake ports."""

from __future__ import annotations

import pytest

from kafkaredis_cli.domain.cluster_health import CheckRow, ClusterInfo
from kafkaredis_cli.domain.service_checks import CheckServices
from kafkaredis_cli.errors import ConfigError, KafkaError, RedisError
from kafkaredis_cli.handlers.check import CheckServicesHandler
from kafkaredis_cli.mediator import Mediator

CLUSTER = ClusterInfo(
    cluster_id="c1",
    controller_id=1,
    brokers=("1@127.0.0.1:9092",),
    topics={},
    broker_ids=(1,),
    broker_addresses=("127.0.0.1:9092",),
)
REDIS_OK = [CheckRow("redis", "redis://127.0.0.1:6379/0", True, "standalone, PONG")]


def mediator(read_cluster, read_redis, expected: int | None = None) -> Mediator:  # type: ignore[no-untyped-def]
    m = Mediator()
    handler = CheckServicesHandler(
        read_cluster,
        read_redis,
        bootstrap="127.0.0.1:9092",
        expected_brokers=expected,
        redis_where="redis://127.0.0.1:6379/0",
    )
    m.register(CheckServices, handler)
    return m


def test_kafka_rows_come_first_then_redis_rows() -> None:
    rows = mediator(lambda: CLUSTER, lambda: REDIS_OK).send(CheckServices())
    assert rows[0].service == "kafka" and rows[0].check == "cluster" and rows[0].ok
    assert rows[-1] == REDIS_OK[0]
    assert "check" not in rows[-1].as_dict() and rows[0].as_dict()["check"] == "cluster"


def test_the_option_overrides_the_expected_brokers_setting() -> None:
    by_setting = mediator(lambda: CLUSTER, lambda: REDIS_OK, expected=1).send(CheckServices())
    assert all(r.ok for r in by_setting)
    rows = mediator(lambda: CLUSTER, lambda: REDIS_OK, expected=1).send(
        CheckServices(expected_brokers=3)
    )
    assert [r.check for r in rows if not r.ok] == ["brokers"]


def test_a_service_that_does_not_answer_is_one_failing_row() -> None:
    def down() -> ClusterInfo:
        raise KafkaError("broker unreachable")

    def redis_down() -> list[CheckRow]:
        raise RedisError("Redis at redis://127.0.0.1:6379/0 unreachable")

    rows = mediator(down, redis_down).send(CheckServices())
    assert [(r.service, r.ok, r.detail) for r in rows] == [
        ("kafka", False, "broker unreachable"),
        ("redis", False, "Redis at redis://127.0.0.1:6379/0 unreachable"),
    ]


def test_a_bad_setting_is_raised_not_a_row() -> None:
    def bad() -> ClusterInfo:
        raise ConfigError("Kafka configuration: bad property")

    with pytest.raises(ConfigError):
        mediator(bad, lambda: REDIS_OK).send(CheckServices())
