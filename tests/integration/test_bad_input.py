"""Bad input: every case ends with a message naming the problem and a documented exit status.

Most cases run on the shared stack (their own topic and key prefix). The cases that need
a broker or redis-server configured otherwise (auto-create off, a small message.max.bytes,
`requirepass`) share one stack of this module's own: none of them damages it. Bad input
rejected before anything connects is in tests/unit/test_usage_errors.py.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from kafkaredis_cli.errors import ExitStatus
from tests.cli_errors import error_line
from tests.conftest import CliResult, OwnStack, free_port, running_stack
from tests.topics import create_topic, read_topic

pytestmark = pytest.mark.integration

REDIS_PASSWORD = "s3cret-" + uuid.uuid4().hex[:8]
BROKER_MAX_BYTES = 20_000

Cli = Callable[..., CliResult]


# -- helpers --------------------------------------------------------------------------------
def topic_values(bootstrap: str, topic: str, timeout: float = 20.0) -> list[bytes]:
    """Every value in `topic` (all partitions), read from the beginning to the end."""
    return [msg.value() for msg in read_topic(bootstrap, topic, timeout)]


@pytest.fixture(scope="module")
def strict_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStack]:
    with running_stack(
        tmp_path_factory.mktemp("strict-stack"),
        kafka_config=["auto.create.topics.enable=false", f"message.max.bytes={BROKER_MAX_BYTES}"],
        redis_args=[f"--requirepass {REDIS_PASSWORD}"],
    ) as stack:
        yield stack


def strict_redis_url(stack: OwnStack, password: str | None = REDIS_PASSWORD) -> str:
    auth = f":{password}@" if password is not None else ""
    return f"redis://{auth}127.0.0.1:{stack.redis_port}/0"


# -- produce: options and arguments -------------------------------------------------------------


def test_partition_out_of_range(cli: Cli, topic: str, make_topic: Callable[..., str]) -> None:
    make_topic(topic, 2)
    error_line(cli("consume", "--partition", "7", "-e"), ExitStatus.USAGE, "0..1", "7")
    error_line(cli("produce", "--partition", "7", "hi"), ExitStatus.USAGE, "0..1", "7")


def test_json_lines_with_a_bad_line_in_the_middle(
    cli: Cli, services, topic: str, tmp_path: Path
) -> None:
    lines = [json.dumps({"key": f"k{i}", "value": f"before-{i}"}) for i in range(3)]
    lines.append('{"key": "k3", "value": "broken"')  # line 4: not JSON
    lines += [json.dumps({"key": f"k{i}", "value": f"after-{i}"}) for i in range(5, 7)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = cli("produce", "--file", str(path), "--input-format", "json", "--json")
    error_line(
        result, ExitStatus.USAGE, "line 4", "not valid JSON", "3 line(s) from there not sent"
    )
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["delivered"], summary["failed"]) == (6, 3, 0)
    assert (summary["sent"], summary["not_sent"]) == (3, 3)  # the bad line and the 2 after it
    assert "line 4" in summary["input_error"]
    # Lines before it are delivered; nothing after it was sent.
    assert sorted(topic_values(services.bootstrap, topic)) == [
        b"before-0",
        b"before-1",
        b"before-2",
    ]


def test_json_line_that_is_not_an_object(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"value": "ok"}\n[1, 2]\n')
    result = cli("produce", "--file", str(path), "--input-format", "json", "--no-verify")
    error_line(result, ExitStatus.USAGE, "line 2", "JSON object")


def test_value_over_the_client_limit(cli: Cli) -> None:
    result = cli("produce", "x" * 1_100_000)
    error_line(result, ExitStatus.KAFKA, "1100000 bytes", "message.max.bytes")


def test_huge_arguments_give_a_bounded_error(cli: Cli) -> None:
    huge = "h" * 300_000
    line = error_line(cli("produce", "--header", huge, "hi"), ExitStatus.USAGE, "--header")
    assert line.endswith("is not key=value")
    assert len(line) < 2_000  # the problem is named, the argument not echoed whole
    line = error_line(cli("cache", "get", huge), ExitStatus.NOT_FOUND, "no key")
    assert len(line) < 2_000
    line = error_line(cli("produce", "--topic", huge, "hi"), ExitStatus.USAGE, "topic")
    assert len(line) < 2_000


# -- consume -------------------------------------------------------------------------------------


# -- settings: environment, .env, options, -X ----------------------------------------------------


def test_unreachable_broker_fails_within_the_configured_time(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "1")
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    error_line(cli("-b", address, "produce", "hi"), ExitStatus.KAFKA, address, "unreachable")
    error_line(cli("-b", address, "consume", "-e"), ExitStatus.KAFKA, address, "unreachable")
    # Bounded by the setting (1 s each), far from librdkafka's own minutes of retrying.
    assert time.monotonic() - started < 30


def test_unreachable_redis(cli: Cli) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    error_line(cli("--redis-url", url, "cache", "list"), ExitStatus.REDIS, url, "unreachable")
    # produce: the Kafka send stands and is reported; the cache failure is the error.
    result = cli("--redis-url", url, "produce", "--json", "hi")
    error_line(result, ExitStatus.REDIS, "delivered, but not cached", "unreachable")
    out = json.loads(result.stdout)
    assert out["offset"] >= 0 and out["cached"] is False and out["verified"] is True


def test_unresponsive_redis_times_out_within_the_configured_time(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A socket that accepts connections (the kernel does) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        monkeypatch.setenv("KAFKAREDIS_REDIS__TIMEOUT_S", "0.5")
        monkeypatch.setenv("KAFKAREDIS_REDIS__RETRIES", "1")
        started = time.monotonic()
        error_line(cli("--redis-url", url, "cache", "get", "x"), ExitStatus.REDIS, "timed out")
        assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("KAFKAREDIS_REDIS__TIMEOUT_S", "forever", "valid number"),
        ("KAFKAREDIS_REDIS__KEY_PREFIX", "has space", "prefix"),
        ("KAFKAREDIS_LOG_FORMAT", "xml", "text"),
    ],
)
def test_invalid_setting_in_dotenv(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(f"# written by the test\n{name}={value}\n")
    error_line(cli("config"), ExitStatus.CONFIG, name, needle)
    # The same file given with --env-file, from another directory: the same message.
    error_line(cli("--env-file", str(tmp_path / ".env"), "config"), ExitStatus.CONFIG, name, needle)


# -- against a broker and redis-server configured otherwise ---------------------------------------
@pytest.mark.slow
def test_unknown_topic_with_auto_create_off(
    cli: Cli, strict_stack: OwnStack, tmp_path: Path
) -> None:
    missing = f"absent-{uuid.uuid4().hex[:8]}"
    base = ("-b", strict_stack.bootstrap, "--redis-url", strict_redis_url(strict_stack))
    for args in (("produce", "--topic", missing, "hi"), ("consume", "--topic", missing, "-e")):
        error_line(cli(*base, *args), ExitStatus.KAFKA, repr(missing), "does not exist")
    path = Path(tmp_path / "batch.txt")
    path.write_text("a\nb\n")
    error_line(
        cli(*base, "produce", "--topic", missing, "--file", str(path)),
        ExitStatus.KAFKA,
        "does not exist",
    )
    admin = AdminClient({"bootstrap.servers": strict_stack.bootstrap})
    assert missing not in admin.list_topics(timeout=10).topics  # and it was not created


@pytest.mark.slow
def test_value_over_the_brokers_limit(cli: Cli, strict_stack: OwnStack) -> None:
    topic = create_topic(strict_stack.bootstrap, f"small-{uuid.uuid4().hex[:8]}")
    base = ("-b", strict_stack.bootstrap, "--redis-url", strict_redis_url(strict_stack))
    # Under the client's limit (1 MB) but over the broker's (20 kB): the broker refuses it.
    result = cli(*base, "produce", "--topic", topic, "x" * (BROKER_MAX_BYTES * 3))
    error_line(result, ExitStatus.KAFKA, "too large", "MSG_SIZE_TOO_LARGE")
    # A small message on the same topic still goes through.
    ok = cli(*base, "produce", "--topic", topic, "--json", "small")
    assert ok.exit_code == 0, ok.stderr
    assert topic_values(strict_stack.bootstrap, topic) == [b"small"]


@pytest.mark.slow
def test_batch_with_one_value_over_the_brokers_limit(
    cli: Cli, strict_stack: OwnStack, tmp_path: Path
) -> None:
    path = tmp_path / "in.txt"
    path.write_text("one\ntwo\n" + "x" * (BROKER_MAX_BYTES * 3) + "\nfour\n")
    base = ("-b", strict_stack.bootstrap, "--redis-url", strict_redis_url(strict_stack))
    # The broker's limit applies to a whole record batch: by default the small lines
    # travel in the big one's batch and are refused with it. Each is reported, none lost.
    # With batch.size under the broker's limit only the big one is refused.
    for extra, failed in (((), None), (("-X", f"batch.size={BROKER_MAX_BYTES // 2}"), 1)):
        topic = create_topic(strict_stack.bootstrap, f"small-{uuid.uuid4().hex[:8]}")
        result = cli(*base, *extra, "produce", "--topic", topic, "--file", str(path), "--json")
        error_line(result, ExitStatus.KAFKA, "not delivered")
        summary = json.loads(result.stdout)
        assert summary["read"] == 4
        assert summary["delivered"] + summary["failed"] == 4
        assert summary["failed"] >= 1 if failed is None else summary["failed"] == failed
        assert any("MSG_SIZE_TOO_LARGE" in e for e in summary["errors"])
        # What it claims delivered is on the broker, and cached; the big one is not.
        values = topic_values(strict_stack.bootstrap, topic)
        assert len(values) == summary["delivered"] == summary["cached"]
        assert all(len(v) < BROKER_MAX_BYTES for v in values)


@pytest.mark.slow
def test_wrong_redis_password(cli: Cli, strict_stack: OwnStack) -> None:
    wrong = strict_redis_url(strict_stack, "not-the-password")
    line = error_line(cli("--redis-url", wrong, "cache", "list"), ExitStatus.REDIS, "AUTH")
    assert "not-the-password" not in line
    none = strict_redis_url(strict_stack, None)
    error_line(cli("--redis-url", none, "cache", "list"), ExitStatus.REDIS, "needs a password")
    right = cli("--redis-url", strict_redis_url(strict_stack), "cache", "list", "--json")
    assert right.exit_code == 0, right.stderr
    assert json.loads(right.stdout) == []


# -- timer ------------------------------------------------------------------------------------
