"""Named contexts against the real broker and redis-server: a context alone (no
KAFKAREDIS_ variable, no option, no .env) takes `produce` to its cluster; `--context`
and KAFKAREDIS_CONTEXT pick another one; the environment wins over the context.

What was sent is read back with a plain confluent-kafka consumer and redis-py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kafkaredis_cli.cli.app import app
from kafkaredis_cli.domain.records import MessageRecord
from kafkaredis_cli.errors import ExitStatus
from tests.conftest import CliResult, Services, free_port, ok
from tests.topics import read_topic

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No KAFKAREDIS_ setting in the environment, no .env, a config home of this test's."""
    for key in list(os.environ):
        if key.startswith("KAFKAREDIS_") and not key.startswith(
            ("KAFKAREDIS_TEST_", "KAFKAREDIS_STACK_")
        ):
            monkeypatch.delenv(key)
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def cli(bare: Path) -> Cli:
    runner = CliRunner()

    def invoke(*args: str) -> CliResult:
        result = runner.invoke(app, list(args))
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke


def add_context(
    cli: Cli, services: Services, name: str, topic: str, prefix: str, *more: str
) -> None:
    ok(
        cli(
            "context", "add", name, "-b", services.bootstrap, "-u", services.redis_url,
            "-t", topic, "--key-prefix", prefix, "-g", f"g-{prefix}", *more,
        )
    )  # fmt: skip


def produced_id(result: CliResult, topic: str) -> str:
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"delivered  {topic} partition 0 offset "), result.stdout
    return lines[1].split()[-1]


def stored(redis_client: Any, prefix: str, message_id: str) -> MessageRecord:
    blob = redis_client.get(f"{prefix}:msg:{message_id}")
    assert blob is not None, f"no record {prefix}:msg:{message_id}"
    return MessageRecord.from_blob(blob)


def test_add_and_use_make_produce_reach_the_context_cluster_with_nothing_else(
    cli: Cli, bare: Path, services: Services, topic: str, prefix: str, redis_client: Any
) -> None:
    add_context(cli, services, "local", topic, prefix)
    ok(cli("context", "use", "local"))
    path = bare / "kafkaredis" / "contexts.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["current"] == "local"
    # A real process whose environment has no KAFKAREDIS_ setting at all, and no option.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAREDIS_")}
    result = subprocess.run(
        [sys.executable, "-m", "kafkaredis_cli", "produce", "from the context", "-k", "k1"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    message_id = produced_id(CliResult(0, result.stdout, result.stderr), topic)
    [msg] = read_topic(services.bootstrap, topic)
    assert (msg.key(), msg.value()) == (b"k1", b"from the context")
    record = stored(redis_client, prefix, message_id)
    assert record.status == "verified" and record.topic == topic
    assert record.value == b"from the context"


def test_context_option_picks_another_one_for_one_command(
    cli: Cli, services: Services, topic: str, prefix: str, redis_client: Any
) -> None:
    add_context(cli, services, "one", topic, prefix, "--use")
    other_topic, other_prefix = f"{topic}-two", f"{prefix}-two"
    add_context(cli, services, "two", other_topic, other_prefix)
    for args in (("--context", "two", "produce", "a"), ("produce", "b", "--context", "two")):
        message_id = produced_id(ok(cli(*args)), other_topic)
        assert stored(redis_client, other_prefix, message_id).topic == other_topic
    assert [m.value() for m in read_topic(services.bootstrap, other_topic)] == [b"a", b"b"]
    assert list(redis_client.scan_iter(f"{prefix}:*")) == []  # "one" was not used
    # Without the option, the current context again.
    message_id = produced_id(ok(cli("produce", "c")), topic)
    assert stored(redis_client, prefix, message_id).value == b"c"
    listed = ok(cli("context", "list")).stdout.splitlines()
    assert [line.split()[:2] for line in listed[1:]] == [["*", "one"], ["two", services.bootstrap]]


def test_a_context_naming_a_dead_broker_is_the_one_used(
    cli: Cli, services: Services, topic: str, prefix: str
) -> None:
    add_context(cli, services, "good", topic, prefix, "--use")
    dead = f"127.0.0.1:{free_port()}"
    ok(
        cli(
            "context",
            "add",
            "dead",
            "-b",
            dead,
            "-u",
            services.redis_url,
            "--set",
            "kafka.timeout_s=1",
        )
    )
    result = cli("check", "--json", "--context", "dead")
    assert result.exit_code == ExitStatus.FAILED
    checks = {c["service"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["kafka"]["ok"] is False and checks["kafka"]["target"] == dead
    assert ok(cli("check", "--json")).exit_code == 0  # the current one still works


def test_the_environment_overrides_the_context(
    cli: Cli,
    services: Services,
    topic: str,
    prefix: str,
    redis_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_context(cli, services, "ctx", f"{topic}-ctx", f"{prefix}-ctx", "--use")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", topic)
    monkeypatch.setenv("KAFKAREDIS_REDIS__KEY_PREFIX", prefix)
    message_id = produced_id(ok(cli("produce", "env wins")), topic)
    assert stored(redis_client, prefix, message_id).topic == topic
    assert list(redis_client.scan_iter(f"{prefix}-ctx:*")) == []
    sources = json.loads(ok(cli("config", "--json")).stdout)["sources"]
    assert sources["kafka.topics"] == "environment"
    assert sources["kafka.bootstrap_servers"] == "context ctx"


def test_kafkaredis_context_and_a_secret_reference(
    cli: Cli,
    services: Services,
    topic: str,
    prefix: str,
    redis_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """KAFKAREDIS_CONTEXT chooses the context; its Redis URL is a reference to a variable
    read when the command runs (a wrong URL in the current context shows it is not used)."""
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    ok(cli("context", "add", "wrong", "-b", services.bootstrap, "-u", dead_redis, "--use"))
    variable = f"KR_TEST_URL_{uuid.uuid4().hex[:6].upper()}"
    add_context(cli, services, "ref", topic, prefix)
    ok(cli("context", "add", "ref", "-b", services.bootstrap, "-u", f"env:{variable}",
           "-t", topic, "--key-prefix", prefix, "--replace"))  # fmt: skip
    monkeypatch.setenv("KAFKAREDIS_CONTEXT", "ref")
    missing = cli("produce", "x")
    assert missing.exit_code == ExitStatus.CONFIG and variable in missing.stderr
    monkeypatch.setenv(variable, services.redis_url)
    message_id = produced_id(ok(cli("produce", "by reference")), topic)
    assert stored(redis_client, prefix, message_id).value == b"by reference"
    shown = json.loads(ok(cli("context", "show", "ref", "--json")).stdout)
    assert shown["settings"]["redis"]["url"] == f"env:{variable}"


def test_shell_completion_offers_context_names_and_follows_the_context(
    cli: Cli, services: Services, topic: str, prefix: str, make_topic: Callable[..., str]
) -> None:
    """Through the protocol a shell uses (a real `kafkaredis` process): context names
    after --context and after `context use`; topics from the broker of --context."""
    make_topic(topic)
    add_context(cli, services, "prod-eu", topic, prefix)
    dead = f"127.0.0.1:{free_port()}"
    ok(cli("context", "add", "prod-us", "-b", dead, "--set", "kafka.timeout_s=1", "--use"))
    ok(cli("context", "add", "dev"))
    program = str(Path(sys.executable).parent / "kafkaredis")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAREDIS_")}

    def complete(words: str) -> list[str]:
        result = subprocess.run(
            [program],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **environment,
                "_KAFKAREDIS_COMPLETE": "complete_bash",
                "COMP_WORDS": words,
                "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
            },
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete("kafkaredis --context prod") == ["prod-eu", "prod-us"]
    assert complete("kafkaredis produce --context ") == ["dev", "prod-eu", "prod-us"]
    assert complete("kafkaredis context use d") == ["dev"]
    assert complete("kafkaredis context delete prod-e") == ["prod-eu"]
    assert complete(f"kafkaredis --context prod-eu produce -t {topic[:-3]}") == [topic]
    assert complete(f"kafkaredis produce -t {topic[:-3]}") == []  # the current: dead broker
