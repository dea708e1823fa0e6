"""check and config against the real services: what works, what does not, no secret shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import CliResult, Services, free_port

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
PASSWORD = "pw-Zq81-never-shown"


def rows(table: str) -> dict[str, str]:
    """The table's lines by their first cell (service name)."""
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) >= 4 and cells[0].startswith(("kafka", "redis")):
            out[cells[0]] = line
    return out


def test_check_with_everything_up(cli: Cli, services: Services, topic: str) -> None:
    cli("produce", "create the topic", "--no-verify", "--no-cache")
    result = cli("check")
    assert result.exit_code == 0, result.stderr
    by_service = rows(result.stdout)
    assert set(by_service) == {"kafka", "kafka topic", "redis", "kafka security", "redis security"}
    assert "PLAINTEXT, principal User:ANONYMOUS" in by_service["kafka security"]
    assert "TLS off, principal ACL user default (no password)" in by_service["redis security"]
    assert " ok " in by_service["kafka"] and services.bootstrap in by_service["kafka"]
    assert "brokers 1@" in by_service["kafka"]
    assert topic in by_service["kafka topic"] and "1 partition(s)" in by_service["kafka topic"]
    assert " ok " in by_service["redis"] and "PONG" in by_service["redis"]
    assert "FAIL" not in result.stdout
    assert result.stderr == ""

    data = json.loads(cli("check", "--json").stdout)
    assert data["ok"] is True
    assert [(c["service"], c["target"], c["ok"]) for c in data["checks"]] == [
        ("kafka", services.bootstrap, True),
        ("kafka topic", topic, True),
        ("redis", services.redis_url, True),
        ("kafka security", services.bootstrap, True),
        ("redis security", services.redis_url, True),
    ]
    assert all(isinstance(c["detail"], str) and c["detail"] for c in data["checks"])


def test_check_names_a_topic_not_created_yet(cli: Cli, topic: str) -> None:
    data = json.loads(cli("check", "--json").stdout)
    [row] = [c for c in data["checks"] if c["service"] == "kafka topic"]
    assert row["target"] == topic and row["ok"] is True
    assert "not created yet" in row["detail"]


def test_check_with_a_wrong_redis_port(cli: Cli) -> None:
    wrong = f"redis://127.0.0.1:{free_port()}/0"
    result = cli("--redis-url", wrong, "check")
    assert result.exit_code == 1
    by_service = rows(result.stdout)
    assert "FAIL" in by_service["redis"] and wrong in by_service["redis"]
    assert "unreachable" in by_service["redis"]
    assert " ok " in by_service["kafka"] and "FAIL" not in by_service["kafka"]
    assert result.stderr.strip() == "kafkaredis: error: not working: redis"

    data = json.loads(cli("--redis-url", wrong, "check", "--json").stdout)
    assert data["ok"] is False
    assert {c["service"]: c["ok"] for c in data["checks"]} == {
        "kafka": True,
        "kafka topic": True,
        "redis": False,
        "kafka security": True,
        "redis security": True,
    }


def test_check_with_a_wrong_kafka_port(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "1")
    wrong = f"127.0.0.1:{free_port()}"
    result = cli("-b", wrong, "check", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    checks = {c["service"]: c for c in data["checks"]}
    assert checks["kafka"]["ok"] is False and checks["kafka"]["target"] == wrong
    assert checks["redis"]["ok"] is True
    assert result.stderr.strip() == "kafkaredis: error: not working: kafka"


def test_config_shows_the_effective_settings_with_secrets_masked(
    cli: Cli, services: Services, topic: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("KAFKAREDIS_KAFKA__SASL_USERNAME", "user")
    url = services.redis_url.replace("redis://", f"redis://app:{PASSWORD}@")
    args = ("--redis-url", url, "-X", f"ssl.key.password={PASSWORD}", "-X", "linger.ms=7")
    data = json.loads(cli(*args, "config", "--json").stdout)
    assert data["kafka"]["bootstrap_servers"] == services.bootstrap
    assert data["kafka"]["topics"] == [topic]
    assert data["kafka"]["sasl_username"] == "****"  # librdkafka redacts it too
    assert data["kafka"]["sasl_password"] == "****"
    assert data["kafka"]["properties"] == {"ssl.key.password": "****", "linger.ms": "7"}
    assert data["redis"]["url"] == url.replace(PASSWORD, "****")
    assert data["redis"]["key_prefix"] == prefix
    table = cli(*args, "config")
    assert table.exit_code == 0
    assert url.replace(PASSWORD, "****") in table.stdout
    assert PASSWORD not in table.stdout + table.stderr


def test_a_redis_password_never_shows_in_errors(cli: Cli, services: Services) -> None:
    """This redis-server has no password: AUTH fails, and the failure hides ours."""
    url = services.redis_url.replace("redis://", f"redis://app:{PASSWORD}@")
    outputs: list[Any] = [
        cli("--redis-url", url, "check"),
        cli("--redis-url", url, "cache", "get", "x"),
        cli("--redis-url", url, "produce", "m"),
        cli("--redis-url", url, "--log-level", "DEBUG", "cache", "list"),
    ]
    for result in outputs:
        assert result.exit_code != 0
        assert PASSWORD not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert "****" in outputs[1].stderr
    assert outputs[1].exit_code == 5
    assert outputs[2].exit_code == 5  # the Kafka send stood; the cache failure is reported
    assert "delivered, but not cached" in outputs[2].stderr


def test_cli_version_and_check(cli: Cli) -> None:
    version = cli("--version")
    assert version.exit_code == 0
    assert version.stdout.startswith("kafkaredis ")
    result = cli("check", "--json")
    assert result.exit_code == 0, result.stderr
    assert '"ok":true' in result.stdout
