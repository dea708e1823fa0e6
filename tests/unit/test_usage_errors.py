"""Bad input the CLI rejects before it connects: a usage or configuration error that names
the problem, with its documented exit status. No services: the settings point at closed
ports (the `run` fixture), so a case that tried to connect would fail with another status.
Bad input that needs a broker or Redis to show is in tests/integration/test_bad_input.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.cli_errors import error_line, usage_error
from tests.unit.test_cli_parsing import Run

Cli = Run


@pytest.fixture
def cli(run: Run) -> Run:
    return run


def test_header_without_equals_is_named(cli: Cli) -> None:
    error_line(cli("produce", "--header", "colour", "hi"), ExitStatus.USAGE, "--header", "colour")


def test_header_with_empty_name_is_named(cli: Cli) -> None:
    error_line(cli("produce", "-H", "=blue", "hi"), ExitStatus.USAGE, "--header", "=blue")


def test_message_and_file_together(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a\n")
    error_line(
        cli("produce", "--file", str(tmp_path / "in.txt"), "hi"), ExitStatus.USAGE, "not both"
    )


def test_missing_file_is_named(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "messages.txt"
    error_line(
        cli("produce", "--file", str(missing)), ExitStatus.USAGE, str(missing), "no such file"
    )


def test_directory_as_file(cli: Cli, tmp_path: Path) -> None:
    error_line(cli("produce", "--file", str(tmp_path)), ExitStatus.USAGE, "is a directory")


def test_bad_topic_name_is_named(cli: Cli) -> None:
    error_line(cli("produce", "--topic", "no spaces!", "hi"), ExitStatus.USAGE, "no spaces!")
    error_line(cli("consume", "--topic", "a/b", "-e"), ExitStatus.USAGE, "a/b")


def test_option_of_the_wrong_type(cli: Cli) -> None:
    usage_error(cli("consume", "--count", "many"), "--count", "valid integer")
    usage_error(cli("produce", "--ttl", "0", "hi"), "--ttl")


@pytest.mark.parametrize("start", ["garbage", "yesterday", "-0", "@soon", "12abc"])
def test_from_garbage_is_named(cli: Cli, start: str) -> None:
    error_line(cli("consume", "--from", start, "-e"), ExitStatus.USAGE, "--from", start)


def test_count_zero_for_consume(cli: Cli) -> None:
    error_line(cli("consume", "--count", "0"), ExitStatus.USAGE, "--count")


@pytest.mark.parametrize(
    "address", ["not a host", "localhost", "localhost:99999", "host:port", "a:1,,b"]
)
def test_bad_bootstrap_syntax(cli: Cli, address: str) -> None:
    error_line(
        cli("-b", address, "check"),
        ExitStatus.CONFIG,
        "bootstrap_servers",
        "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS",
    )


def test_bad_bootstrap_in_environment(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", "kafka:nine")
    error_line(
        cli("config"), ExitStatus.CONFIG, "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", "kafka:nine"
    )


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:6379/0", "http://"),
        ("127.0.0.1:6379", "scheme"),
        ("redis://", "no host"),
        ("redis://localhost:port/0", "port"),
    ],
)
def test_bad_redis_url(cli: Cli, url: str, needle: str) -> None:
    error_line(cli("--redis-url", url, "cache", "list"), ExitStatus.CONFIG, "redis.url", needle)


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("KAFKAREDIS_REDIS__TTL_S", "an hour", "valid integer"),
        ("KAFKAREDIS_REDIS__TTL_S", "-5", "greater than 0"),
        ("KAFKAREDIS_KAFKA__TIMEOUT_S", "soon", "valid number"),
        ("KAFKAREDIS_REDIS__RETRIES", "2.5", "valid integer"),
        ("KAFKAREDIS_LOG_LEVEL", "LOUD", "DEBUG"),
        ("KAFKAREDIS_KAFKA__TOPICS", "ok,not ok", "not ok"),
    ],
)
def test_invalid_setting_in_the_environment(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(name, value)
    error_line(cli("config"), ExitStatus.CONFIG, name, needle)


def test_missing_env_file(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "prod.env"
    error_line(cli("--env-file", str(missing), "config"), ExitStatus.CONFIG, str(missing))


def test_bad_log_level_option(cli: Cli) -> None:
    # A choice, checked by the parser: a usage error that lists the choices.
    result = cli("--log-level", "chatty", "config")
    assert result.exit_code == ExitStatus.USAGE, result.stderr
    assert "--log-level" in result.stderr and "debug" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_librdkafka_property(cli: Cli) -> None:
    error_line(
        cli("-X", "no.such.property=1", "produce", "hi"), ExitStatus.CONFIG, "no.such.property"
    )
    error_line(
        cli("-X", "no.such.property=1", "consume", "-e"), ExitStatus.CONFIG, "no.such.property"
    )


def test_bad_librdkafka_value(cli: Cli) -> None:
    error_line(cli("-X", "acks=banana", "produce", "hi"), ExitStatus.CONFIG, "acks")


def test_librdkafka_property_without_value(cli: Cli) -> None:
    error_line(cli("-X", "linger.ms", "produce", "hi"), ExitStatus.USAGE, "-X", "linger.ms")


@pytest.mark.parametrize("interval", ["0", "-1", "-0.5", "nan"])
def test_timer_interval_must_be_positive(cli: Cli, interval: str) -> None:
    error_line(cli("timer", "--interval", interval, "--count", "1"), ExitStatus.USAGE, "--interval")


def test_timer_count_zero(cli: Cli) -> None:
    error_line(cli("timer", "--interval", "0.1", "--count", "0"), ExitStatus.USAGE, "--count")
