"""kafkaredis on the secured stack (tests/secure.py): as `kr-user`, whose SCRAM login has
rights only on topics and groups prefixed kr- and whose Redis user only on keys kr:*,
everything works (the read-backs need no group rights); over mTLS too; each refusal has
its exit status and names its cause, within seconds; no secret is ever printed.
The examples of docs/security.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.conftest import CliResult, ok
from tests.secure import SecureStack

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
Env = Callable[..., dict[str, str]]


def _read_back(stack: SecureStack, topic: str, partition: int, offset: int) -> bytes | None:
    """The value at topic/partition/offset, read as kr-user with confluent-kafka."""
    conf = {**stack.kafka_conf("kr-user"), "group.id": f"kr-check-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": "false"}  # fmt: skip
    consumer = Consumer(conf)
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                value: bytes | None = msg.value()
                return value
    finally:
        consumer.close()
    return None


def _no_secret(stack: SecureStack, *results: CliResult | subprocess.CompletedProcess[str]) -> None:
    for result in results:
        text = (
            result.stdout + result.stderr
            if isinstance(result, CliResult)
            else str(result.stdout) + str(result.stderr)
        )
        for secret in stack.secrets():
            assert secret not in text


def test_produce_verified_cached_and_read_back(
    secure_stack: SecureStack, secure_env: Env, secure_cli: Cli
) -> None:
    env = secure_env()
    result = ok(secure_cli("produce", "--json", "hello secured"))
    report = json.loads(result.stdout)
    assert report["verified"] is True and report["cached"] is True, report
    topic = env["KAFKAREDIS_KAFKA__TOPICS"]
    value = _read_back(secure_stack, topic, report["partition"], report["offset"])
    assert value == b"hello secured"
    with secure_stack.redis_client("admin") as admin:
        assert admin.exists(report["cache_key"]) == 1
        assert report["cache_key"].startswith(env["KAFKAREDIS_REDIS__KEY_PREFIX"] + ":msg:")
    _no_secret(secure_stack, result)


def test_batch_verified(secure_stack: SecureStack, secure_env: Env, secure_cli: Cli) -> None:
    env = secure_env()
    lines = "".join(f"m{i}\n" for i in range(200))
    summary = json.loads(ok(secure_cli("produce", "-l", "-", "--json", input=lines)).stdout)
    assert summary["delivered"] == summary["verified"] == summary["cached"] == 200, summary
    topic = env["KAFKAREDIS_KAFKA__TOPICS"]
    assert _read_back(secure_stack, topic, 0, 199) == b"m199"


def test_consume_with_a_kr_group_commits(
    secure_stack: SecureStack, secure_env: Env, secure_cli: Cli
) -> None:
    env = secure_env()
    ok(secure_cli("produce", "-l", "-", "--no-verify", input="a\nb\nc\n"))
    result = ok(secure_cli("consume", "-e", "-f", "raw", "--timeout", "20"))
    assert result.stdout.split() == ["a", "b", "c"]
    group, topic = env["KAFKAREDIS_KAFKA__GROUP_ID"], env["KAFKAREDIS_KAFKA__TOPICS"]
    from confluent_kafka import ConsumerGroupTopicPartitions

    admin = AdminClient(secure_stack.kafka_conf("admin"))
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])]
    offsets = admin.list_consumer_group_offsets(request)[group].result(timeout=10)
    assert [tp.offset for tp in offsets.topic_partitions] == [3]
    groups = ok(secure_cli("groups", "--json"))
    assert group in [g["group"] for g in json.loads(groups.stdout)]
    # Without a group (nothing stored, nothing committed): from the beginning.
    plain = ok(secure_cli("consume", "--no-group", "-e", "-f", "raw", "--timeout", "20"))
    assert plain.stdout.split() == ["a", "b", "c"]


def test_timer_5_of_5_verified(secure_env: Env, secure_cli: Cli) -> None:
    secure_env()
    result = ok(secure_cli("timer", "--count", "5", "--interval", "0.2", "--json"))
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["type"] == "summary"
    assert (summary["sent"], summary["verified"], summary["lost"]) == (5, 5, 0), summary
    assert summary["failed"] == summary["cache_failed"] == 0


def test_cache_get_and_replay(secure_env: Env, secure_cli: Cli) -> None:
    secure_env()
    first = json.loads(ok(secure_cli("produce", "--json", "-k", "k1", "again")).stdout)
    got = ok(secure_cli("cache", "get", first["id"], "--json"))
    assert first["id"] in got.stdout
    replay = ok(secure_cli("cache", "replay", first["id"]))
    assert "verified" in replay.stdout and "replay of" in replay.stdout


def test_mtls_produce_verified(secure_stack: SecureStack, secure_env: Env, secure_cli: Cli) -> None:
    env = secure_env("mtls")
    assert env["KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS"] == secure_stack.mtls_bootstrap
    result = ok(secure_cli("produce", "--json", "over mtls"))
    report = json.loads(result.stdout)
    assert report["verified"] is True and report["cached"] is True, report
    topic = env["KAFKAREDIS_KAFKA__TOPICS"]
    assert _read_back(secure_stack, topic, report["partition"], report["offset"]) == b"over mtls"
    _no_secret(secure_stack, result)


# -- refusals ---------------------------------------------------------------------------


def _refused(cli: Cli, *args: str) -> tuple[CliResult, float]:
    began = time.monotonic()
    result = cli(*args)
    return result, time.monotonic() - began


def _properties(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], **changes: str) -> None:
    properties = json.loads(env["KAFKAREDIS_KAFKA__PROPERTIES"])
    properties.update(changes)
    monkeypatch.setenv("KAFKAREDIS_KAFKA__PROPERTIES", json.dumps(properties))


def test_wrong_sasl_password_is_4_naming_authentication(
    secure_stack: SecureStack, secure_env: Env, secure_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = secure_env()
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "3")
    _properties(monkeypatch, env, **{"sasl.password": "not-the-password"})
    result, took = _refused(secure_cli, "produce", "x")
    assert result.exit_code == 4, result
    assert "authentication" in result.stderr.lower() and "SCRAM" in result.stderr
    assert took < 20 and "not-the-password" not in result.stderr
    _no_secret(secure_stack, result)


def test_untrusted_broker_certificate_is_4(
    secure_stack: SecureStack, secure_env: Env, secure_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = secure_env()
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "3")
    _properties(monkeypatch, env, **{"ssl.ca.location": str(secure_stack.untrusted_ca)})
    result, took = _refused(secure_cli, "produce", "x")
    assert result.exit_code == 4, result
    assert "certificate verify failed" in result.stderr and took < 20


def test_mtls_without_a_client_certificate_is_4_naming_it(
    secure_env: Env, secure_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = secure_env("mtls")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "3")
    properties = json.loads(env["KAFKAREDIS_KAFKA__PROPERTIES"])
    for name in ("ssl.certificate.location", "ssl.key.location", "ssl.key.password"):
        del properties[name]
    monkeypatch.setenv("KAFKAREDIS_KAFKA__PROPERTIES", json.dumps(properties))
    result, took = _refused(secure_cli, "produce", "x")
    assert result.exit_code == 4, result
    assert "client certificate" in result.stderr and took < 20


def test_topic_without_rights_is_4(secure_env: Env, secure_cli: Cli) -> None:
    secure_env()
    result, took = _refused(secure_cli, "produce", "-t", f"other-{uuid.uuid4().hex[:8]}", "x")
    assert result.exit_code == 4, result
    assert "TOPIC_AUTHORIZATION_FAILED" in result.stderr and took < 20


def test_untrusted_redis_certificate_is_5(
    secure_stack: SecureStack, secure_env: Env, secure_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = secure_env()
    url = env["KAFKAREDIS_REDIS__URL"].replace(str(secure_stack.ca), str(secure_stack.untrusted_ca))
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", url)
    result, took = _refused(secure_cli, "cache", "get", "latest:kr-x")
    assert result.exit_code == 5, result
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr and took < 20
    _no_secret(secure_stack, result)


def test_redis_user_without_rights_on_the_prefix_is_5_naming_noperm(
    secure_stack: SecureStack, secure_env: Env, secure_cli: Cli
) -> None:
    env = secure_env("kr-other")
    prefix = env["KAFKAREDIS_REDIS__KEY_PREFIX"]
    with secure_stack.redis_client("admin") as admin:  # a key to list (SCAN needs no rights)
        admin.set(f"{prefix}:latest:kr-x", "id")
    for args in (("produce", "x"), ("cache", "get", "latest:kr-x"), ("cache", "list")):
        result, took = _refused(secure_cli, *args)
        assert result.exit_code == 5, (args, result)
        error = result.stderr.strip().splitlines()[-1]
        assert "NOPERM" in error and f"keys {prefix}:*" in error and took < 20, error
        _no_secret(secure_stack, result)


def test_no_secret_in_config_or_debug_output(
    secure_stack: SecureStack, secure_env: Env, tmp_path: Path
) -> None:
    """`config` and `--log-level debug -X debug=all` (librdkafka's every line), as real
    processes, for the SCRAM user and the mTLS one (its key password)."""
    for user in ("kr-user", "mtls"):
        env = {**os.environ, **secure_env(user)}
        outputs = []
        for args in (["config"], ["--log-level", "debug", "-X", "debug=all", "produce", "d"]):
            run = subprocess.run([sys.executable, "-m", "kafkaredis_cli", *args], env=env,
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
            assert run.returncode == 0, run.stderr[-2000:]
            outputs.append(run)
        assert "sasl" in outputs[1].stderr.lower() or "ssl" in outputs[1].stderr.lower()
        _no_secret(secure_stack, *outputs)
