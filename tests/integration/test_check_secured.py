"""`check` and the canary's certificate gauge on the secured stack (tests/secure.py): a
Kafka node with SASL_SSL (SCRAM-SHA-512) and mTLS listeners and ACLs, a TLS-only Redis
with ACL users, and a Redis whose certificate expires in 3 days. Each claim is read from
check's own rows; no secret is ever printed."""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import CliResult, free_port, kafkaredis_process, wait_for
from tests.secure import SecureStack

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
Env = Callable[..., dict[str, str]]
GAUGE = "kafkaredis_canary_certificate_expiry_timestamp_seconds"


def check(cli: Cli, stack: SecureStack, *args: str) -> tuple[CliResult, dict[str, Any]]:
    result = cli("check", "--json", *args)
    assert "Traceback" not in result.stderr
    no_secret(stack, result)
    return result, json.loads(result.stdout)


def no_secret(stack: SecureStack, result: CliResult) -> None:
    for secret in stack.secrets():
        assert secret not in result.stdout and secret not in result.stderr


def rows(data: dict[str, Any], check_name: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["service"], c["target"]): c for c in data["checks"] if c.get("check") == check_name}


def days(row: dict[str, Any]) -> int:
    left = row["days_left"]
    assert isinstance(left, int) and f"({left} days left)" in row["detail"], row
    return left


def test_check_names_sasl_ssl_scram_the_user_and_both_certificates_days_left(
    secure_env: Env, secure_cli: Cli, secure_stack: SecureStack
) -> None:
    secure_env("kr-user")
    result, data = check(secure_cli, secure_stack)
    assert result.exit_code == 0, (result.stderr, [c for c in data["checks"] if not c["ok"]])
    security = rows(data, "security")
    kafka = security[("kafka security", secure_stack.bootstrap)]
    assert kafka["detail"] == "SASL_SSL, mechanism SCRAM-SHA-512, principal User:kr-user"
    assert (kafka["protocol"], kafka["mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    [redis] = [c for (service, _), c in security.items() if service == "redis security"]
    assert redis["detail"] == "TLS on, principal ACL user kr-user (password set)"
    certificates = rows(data, "certificate")
    broker = certificates[("kafka certificate", secure_stack.bootstrap)]
    node = certificates[("redis certificate", f"127.0.0.1:{secure_stack.redis_port}")]
    for row in (broker, node):
        assert row["ok"] is True and 25 <= days(row) <= 30
        assert row["subject"] == "CN=kafkaredis-broker,O=kafkaredis test"
    assert (broker["role"], node["role"]) == ("kafka", "redis")

    text = secure_cli("check")
    assert text.exit_code == 0
    no_secret(secure_stack, text)
    assert "SASL_SSL, mechanism SCRAM-SHA-512" in text.stdout and "TLS on" in text.stdout
    assert text.stdout.count(f"({days(broker)} days left)") == 2


def test_check_over_mtls_names_the_client_certificates_subject(
    secure_env: Env, secure_cli: Cli, secure_stack: SecureStack
) -> None:
    secure_env("mtls")
    result, data = check(secure_cli, secure_stack)
    assert result.exit_code == 0, (result.stderr, [c for c in data["checks"] if not c["ok"]])
    [kafka] = [c for c in data["checks"] if c["service"] == "kafka security"]
    assert kafka["detail"] == "SSL, principal User:CN=kr-mtls,O=kafkaredis test"
    certificates = rows(data, "certificate")
    broker = certificates[("kafka certificate", secure_stack.mtls_bootstrap)]
    [client] = [c for c in certificates.values() if c["role"] == "client"]
    assert client["target"].startswith("client ") and client["target"].endswith("client.pem")
    assert client["ok"] and 25 <= days(client) <= 30 and days(broker) >= 25
    assert client["subject"] == "CN=kr-mtls,O=kafkaredis test"


def test_cert_min_days_above_the_days_left_fails(
    secure_env: Env, secure_cli: Cli, secure_stack: SecureStack
) -> None:
    secure_env("kr-user")
    result, data = check(secure_cli, secure_stack, "--cert-min-days", "31")
    assert result.exit_code == 1
    certificates = rows(data, "certificate")
    assert len(certificates) == 2 and not any(c["ok"] for c in certificates.values())
    assert all(
        c["detail"].startswith("expires within 31 days (--cert-min-days)")
        for c in certificates.values()
    )
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == ["kafkaredis: error: not working: kafka certificate, redis certificate"]


def test_a_certificate_that_expires_soon_fails_until_the_threshold_is_lowered(
    secure_env: Env, secure_cli: Cli, secure_stack: SecureStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    secure_env("kr-user")
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", secure_stack.expiring_redis_url("kr-user"))
    result, data = check(secure_cli, secure_stack)
    assert result.exit_code == 1
    address = f"127.0.0.1:{secure_stack.expiring_port}"
    row = rows(data, "certificate")[("redis certificate", address)]
    assert row["ok"] is False and days(row) == 2
    assert row["detail"].startswith("expires within 14 days (--cert-min-days); expires ")
    assert row["subject"] == "CN=kafkaredis-expiring,O=kafkaredis test"
    result, data = check(secure_cli, secure_stack, "--cert-min-days", "2")
    assert result.exit_code == 0, result.stderr
    assert rows(data, "certificate")[("redis certificate", address)]["ok"] is True


def test_a_host_the_certificates_do_not_name_fails(
    secure_env: Env, secure_cli: Cli, secure_stack: SecureStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """127.1 is 127.0.0.1 to the resolver, but a name no certificate holds."""
    secure_env("kr-user")
    url = secure_stack.redis_url("kr-user").replace("@127.0.0.1:", "@127.1:")
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", url)
    bootstrap = secure_stack.bootstrap.replace("127.0.0.1:", "127.1:")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "3")
    result, data = check(secure_cli, secure_stack)
    assert result.exit_code == 1
    certificates = rows(data, "certificate")
    node = certificates[("redis certificate", f"127.1:{secure_stack.redis_port}")]
    assert node["ok"] is False
    assert node["detail"].startswith(
        "does not match host 127.1 (it names DNS:localhost, IP:127.0.0.1)"
    )
    broker = certificates[("kafka certificate", bootstrap)]  # the metadata was refused
    assert broker["ok"] is False and "does not match host 127.1" in broker["detail"]


def test_the_timer_exports_the_certificates_expiry(
    secure_env: Env, secure_cli: Cli, secure_stack: SecureStack
) -> None:
    variables = secure_env("mtls")
    _, data = check(secure_cli, secure_stack)
    expected = {
        (c["endpoint"], c["role"]): c["expires_at"] for c in rows(data, "certificate").values()
    }
    assert {role for _endpoint, role in expected} == {"kafka", "redis", "client"}
    port = free_port()
    proc = kafkaredis_process(
        ["timer", "--interval", "0.5", "--count", "1000", "--metrics-port", str(port)], variables
    )
    found: dict[tuple[str, str], float] = {}

    def exported() -> bool:
        from prometheus_client.parser import text_string_to_metric_families

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                text = r.read().decode()
        except OSError:
            assert proc.poll() is None, proc.communicate(timeout=10)
            return False
        found.clear()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == GAUGE:
                    found[(sample.labels["endpoint"], sample.labels["role"])] = sample.value
        return len(found) == len(expected)

    try:
        wait_for(exported, 60, interval=0.3, what="the certificate expiry gauges")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert {key: round(value) for key, value in found.items()} == expected
    for secret in secure_stack.secrets():
        assert secret.encode() not in out + err
