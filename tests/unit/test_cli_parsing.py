"""The CLI through Typer's CliRunner: parsing, errors and output shapes, on in-memory fakes.

No broker or Redis here: the settings point at closed ports, and commands that would
talk to Kafka get the mediator wired to the fakes (tests/fakes.py). The same commands
against the real services are in tests/integration.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kafkaredis_cli.cli.app import app
from kafkaredis_cli.domain.messages import ID_HEADER
from kafkaredis_cli.errors import ExitStatus
from tests.fakes import FakeApp, fake_app

CLOSED = "127.0.0.1:1"  # nothing listens here


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


Run = Callable[..., Result]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    for key in list(os.environ):
        if key.startswith("KAFKAREDIS_") and not key.startswith(("KAFKAREDIS_TEST_",)):
            monkeypatch.delenv(key)
    monkeypatch.setenv("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", CLOSED)
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", f"redis://{CLOSED}/0")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", "events")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "0.5")
    monkeypatch.setenv("KAFKAREDIS_REDIS__TIMEOUT_S", "0.5")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    """Every command that builds the app gets the mediator wired to the in-memory fakes."""
    from kafkaredis_cli.cli.state import CliState

    the_app = fake_app()
    monkeypatch.setattr(CliState, "app", lambda self, *args, **kwargs: the_app)
    return the_app


def one_error_line(result: Result, status: ExitStatus, *fragments: str) -> str:
    assert result.exit_code == status, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    last = lines[-1]
    assert last.startswith("kafkaredis: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in last, (fragment, last)
    return last


# -- help and version ---------------------------------------------------------------------


def test_version_and_help(run: Run) -> None:
    import confluent_kafka
    import redis

    from kafkaredis_cli import __version__

    version = run("--version")
    assert version.exit_code == 0
    lines = version.stdout.splitlines()
    assert lines[0] == f"kafkaredis {__version__}"
    librdkafka = confluent_kafka.libversion()[0]
    assert lines[1] == f"confluent-kafka {confluent_kafka.version()} (librdkafka {librdkafka})"
    assert lines[2] == f"redis-py {redis.__version__}"
    top = run("--help")
    assert top.exit_code == 0
    for command in ("produce", "consume", "timer", "cache", "inspect-cache", "check", "config"):
        assert command in top.stdout


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (["produce"], ["--topic", "--key", "--header", "--partition", "--file", "--no-verify"]),
        (["produce"], ["--no-cache", "--ttl", "--json", "--input-format"]),
        (["consume"], ["--group", "--from", "--count", "--exit-at-end", "--format", "--timeout"]),
        (["cache", "list"], ["--pattern", "--topic", "--limit", "--json"]),
        (["cache", "get"], ["--json"]),
        (["cache", "delete"], ["--pattern", "--yes"]),
        (["inspect-cache"], ["--json"]),
        (["check"], ["--json"]),
        (["config"], ["--json"]),
    ],
)
def test_every_command_documents_its_options(
    run: Run, command: list[str], options: list[str]
) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.stderr
    for option in options:
        assert option in result.stdout


# -- usage errors: exit 2, one line, before any connection -------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["produce", "m", "--file", "x.txt"], ["either a MESSAGE or --file"]),
        (["produce", "m", "--header", "novalue"], ["--header 'novalue' is not key=value"]),
        (["produce", "m", "-H", "=v"], ["--header '=v' is not key=value"]),
        (["produce", "--file", "missing.txt"], ["--file missing.txt: no such file"]),
        (["produce", "--file", "."], ["--file .: is a directory"]),
        (["produce", "--file", "-", "-K", ""], ["--key-delimiter must not be empty"]),
        (["consume", "--from", "yesterday"], ["--from 'yesterday' is not"]),
        (["consume", "--from", "-0"], ["--from", "-N needs N > 0"]),
        (["consume", "--count", "0"], ["--count must be at least 1"]),
        (["consume", "--timeout", "0"], ["--timeout must be more than 0"]),
        (["cache", "list", "--limit", "0"], ["--limit must be at least 1"]),
        (["cache", "delete"], ["name the keys to delete"]),
        (["cache", "delete", "--pattern", "msg:*"], ["add --yes to confirm"]),
        (["-X", "linger.ms", "produce", "m"], ["-X 'linger.ms' is not key=value"]),
    ],
)
def test_usage_errors(run: Run, args: list[str], fragments: list[str]) -> None:
    one_error_line(run(*args), ExitStatus.USAGE, *fragments)


def test_produce_without_message_at_a_terminal_says_how(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kafkaredis_cli.cli.produce.stdin_is_terminal", lambda: True)
    one_error_line(run("produce"), ExitStatus.USAGE, "give a MESSAGE, pipe lines into stdin")


@pytest.mark.parametrize(
    "args",
    [
        ["produce", "m", "--ttl", "0"],
        ["produce", "m", "--partition", "-1"],
        ["produce", "--file", "-", "--input-format", "xml"],
        ["consume", "--format", "xml"],
        ["produce", "m", "--no-such-option"],
    ],
)
def test_options_typer_refuses_are_exit_2_without_traceback(run: Run, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == ExitStatus.USAGE
    assert "Traceback" not in result.stderr
    assert "Usage:" in result.stderr


def test_bad_setting_is_exit_3_naming_the_variable_not_the_value(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", "http://user:hunter2@h:1/0")
    last = one_error_line(run("config"), ExitStatus.CONFIG, "KAFKAREDIS_REDIS__URL", "scheme")
    assert "hunter2" not in last
    one_error_line(
        run("-b", "no-port", "config"), ExitStatus.CONFIG, "bootstrap_servers", "not host:port"
    )


# -- config: secrets masked ------------------------------------------------------------------


def test_config_masks_every_secret(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__SASL_PASSWORD", "sasl-hunter2")
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", "rediss://app:redis-hunter2@cache.example:6380/1")
    args = ("-X", "ssl.key.password=x-hunter2", "-X", "acks=all")
    table = run(*args, "config")
    as_json = run(*args, "config", "--json")
    for result in (table, as_json):
        assert result.exit_code == 0, result.stderr
        assert "hunter2" not in result.stdout + result.stderr
    data = json.loads(as_json.stdout)
    assert data["kafka"]["sasl_password"] == "****"
    assert data["kafka"]["properties"] == {"ssl.key.password": "****", "acks": "all"}
    assert data["redis"]["url"] == "rediss://app:****@cache.example:6380/1"
    assert data["kafka"]["bootstrap_servers"] == CLOSED
    assert data["kafka"]["topics"] == ["events"]
    assert set(data) == {"context", "kafka", "redis", "log_level", "log_format", "sources"}
    # The table names each setting with its environment variable, nothing cut short.
    assert "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS" in table.stdout
    assert "rediss://app:****@cache.example:6380/1" in table.stdout
    assert "acks=all" in table.stdout


# -- produce on the fakes: output shapes -------------------------------------------------------


def test_produce_prints_topic_partition_offset_id_and_round_trip(run: Run, fake: FakeApp) -> None:
    fake.broker.append("events", b"earlier")
    result = run("produce", "hello", "-k", "k1", "-H", "a=1", "-H", "b=x=y")
    assert result.exit_code == 0, result.stderr
    [record] = fake.store.records.values()
    lines = result.stdout.splitlines()
    assert lines[0] == "delivered  events partition 0 offset 1"
    assert lines[1] == f"id         {record.id}"
    assert f"cached     fake:msg:{record.id}" in lines
    assert any(line.startswith("verified   read back in ") for line in lines)
    assert record.key == b"k1" and record.value == b"hello"
    assert record.headers == (("a", b"1"), ("b", b"x=y"))
    assert fake.closed


def test_produce_json_shape(run: Run, fake: FakeApp) -> None:
    result = run("produce", "hello", "--json", "--ttl", "60", "-t", "other")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "id",
        "topic",
        "partition",
        "offset",
        "sent_at",
        "delivered_at",
        "delivery_ms",
        "cached",
        "cache_key",
        "cache_error",
        "verified",
        "verify_error",
        "round_trip_ms",
    }
    assert (data["topic"], data["partition"], data["offset"]) == ("other", 0, 0)
    assert data["cached"] is True and data["cache_key"] == f"fake:msg:{data['id']}"
    assert data["verified"] is True and data["verify_error"] is None
    assert isinstance(data["round_trip_ms"], float) and data["round_trip_ms"] >= 0
    assert isinstance(data["sent_at"], int) and data["delivered_at"] >= data["sent_at"]
    assert fake.store.ttls[data["id"]] == 60
    assert result.stdout.count("\n") == 1


def test_produce_no_cache_no_verify(run: Run, fake: FakeApp) -> None:
    result = run("produce", "hello", "--no-cache", "--no-verify", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0
    assert (data["cached"], data["cache_key"], data["verified"]) == (False, None, None)
    assert fake.store.records == {}


def test_produce_with_redis_down_reports_the_send_and_exits_5(run: Run, fake: FakeApp) -> None:
    fake.store.fail = "Redis at redis://127.0.0.1:1/0 unreachable"
    result = run("produce", "hello")
    one_error_line(result, ExitStatus.REDIS, "delivered, but not cached", "unreachable")
    assert "delivered  events partition 0 offset 0" in result.stdout
    assert "cached     NO: Redis at redis://127.0.0.1:1/0 unreachable" in result.stdout
    assert len(fake.broker.log("events")) == 1


def test_produce_not_read_back_exits_1(run: Run, fake: FakeApp) -> None:
    fake.readback.replace_at[(0, 0)] = "someone-else"
    result = run("produce", "hello", "--json")
    one_error_line(result, ExitStatus.FAILED, "delivered, but not verified", "another message")
    assert json.loads(result.stdout)["verified"] is False


def test_produce_batch_from_stdin_summary(run: Run, fake: FakeApp) -> None:
    lines = "".join(f"k{i}:v{i}\n" for i in range(50))
    text = run("produce", "--file", "-", "-K", ":", input=lines)
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith(
        "sent 50  delivered 50  failed 0  unknown outcome 0  cached 50  cache failed 0"
    )
    assert "verified 50" in text.stdout and "msg/s" in text.stdout
    assert [(r.key, r.value) for r in fake.broker.log("events")[:2]] == [
        (b"k0", b"v0"),
        (b"k1", b"v1"),
    ]
    as_json = run("produce", "--file", "-", "--json", input="a\n\nb\n")
    data = json.loads(as_json.stdout)
    assert data["sent"] == data["delivered"] == data["cached"] == data["verified"] == 2
    assert data["failed"] == data["cache_failed"] == 0
    assert data["errors"] == [] and data["input_error"] is None and data["interrupted"] is False
    assert isinstance(data["msg_per_s"], float) and isinstance(data["elapsed_s"], float)


def test_produce_batch_bad_json_line_names_it_and_keeps_what_was_sent(
    run: Run, fake: FakeApp
) -> None:
    lines = '{"value": "a"}\n{"value": "b"}\n{"value": oops}\n{"value": "never"}\n'
    result = run("produce", "--file", "-", "--input-format", "json", "--json", input=lines)
    one_error_line(result, ExitStatus.USAGE, "line 3: not valid JSON")
    data = json.loads(result.stdout)
    assert (data["sent"], data["delivered"]) == (2, 2)
    assert [r.value for r in fake.broker.log("events")] == [b"a", b"b"]


def test_produce_batch_from_a_file_with_redis_down_exits_5(
    run: Run, fake: FakeApp, tmp_path: Path
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\n\xff\xfe binary line\n")
    fake.store.fail = "Redis down"
    result = run("produce", "--file", str(path))
    one_error_line(result, ExitStatus.REDIS, "2 delivered messages could not be cached")
    assert [r.value for r in fake.broker.log("events")] == [b"one", b"\xff\xfe binary line"]


# -- consume on the fakes: formats --------------------------------------------------------------


def seed(fake: FakeApp) -> None:
    fake.broker.append("events", b"plain", key=b"k", headers=(("h", b"1"), (ID_HEADER, b"i1")))
    fake.broker.append("events", b"\xff\x00", key=None, headers=(("bin", b"\x80"),))


def test_consume_formats(run: Run, fake: FakeApp) -> None:
    seed(fake)
    raw = run("consume", "--from", "beginning", "-e", "--format", "raw", "--no-group")
    assert raw.exit_code == 0, raw.stderr
    assert raw.stdout.encode("utf-8", "surrogateescape").startswith(b"plain\n")
    table = run("consume", "--from", "beginning", "-e", "--no-group")
    first, second = table.stdout.splitlines()
    assert first.startswith("events[0]@0  ") and first.endswith("key=k  headers=h=1  plain")
    assert second.endswith(r"key=null  headers=bin=\x80  \xff\x00")  # non-UTF-8 escaped
    assert "consumed 2 message(s)" in table.stderr
    as_json = run("consume", "--from", "beginning", "-e", "--format", "json", "--no-group")
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert lines[0]["key"] == "k" and lines[0]["value"] == "plain" and lines[0]["id"] == "i1"
    assert lines[0]["headers"] == [{"name": "h", "value": "1"}]
    assert lines[1]["encoding"] == {"value": "base64"} and lines[1]["value"] == "/wA="
    assert set(lines[1]) == {
        "topic",
        "partition",
        "offset",
        "timestamp",
        "key",
        "value",
        "headers",
        "encoding",
    }


def test_consume_json_piped_into_produce_reproduces_the_messages(run: Run, fake: FakeApp) -> None:
    seed(fake)
    dump = run("consume", "--from", "beginning", "-e", "-f", "json", "--no-group")
    copy = run("produce", "--file", "-", "--input-format", "json", "-t", "copy", input=dump.stdout)
    assert copy.exit_code == 0, copy.stderr
    original, copied = fake.broker.log("events"), fake.broker.log("copy")
    assert [(r.key, r.value, r.user_headers) for r in copied] == [
        (r.key, r.value, r.user_headers) for r in original
    ]


def test_consume_count_with_timeout_short_exits_1(run: Run, fake: FakeApp) -> None:
    seed(fake)
    result = run("consume", "--from", "beginning", "--count", "5", "--timeout", "0.2")
    one_error_line(result, ExitStatus.FAILED, "timed out after 0.2s with 2 of 5 messages")
    assert "offsets committed for group kafkaredis" in result.stderr
    assert fake.broker.committed[("kafkaredis", "events", 0)] == 2


# -- without services: bounded errors -----------------------------------------------------------


def test_cache_get_with_redis_unreachable_is_exit_5(run: Run) -> None:
    one_error_line(run("cache", "get", "x"), ExitStatus.REDIS, f"redis://{CLOSED}/0", "unreachable")


def test_check_with_nothing_reachable_says_fail_for_both(run: Run) -> None:
    result = run("check", "--json")
    one_error_line(result, ExitStatus.FAILED, "not working: kafka, redis")
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [(c["service"], c["ok"]) for c in data["checks"]] == [
        ("kafka", False),
        ("redis", False),
        ("kafka security", True),  # what the settings say: no TLS, so no certificate rows
        ("redis security", True),
    ]
