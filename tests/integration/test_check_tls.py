"""`check` against a TLS-only redis-server of the test's own (a throwaway CA made with
openssl, client certificates required): TLS on and the ACL user, the server's and the
client's certificate with their days left, --cert-min-days, a host the certificate does
not name. (The secured Kafka is tests/integration/test_check_secured.py.)"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, free_port, wait_for
from tests.tls import Pair, make_ca, make_cert

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]


@dataclass(frozen=True)
class TlsRedis:
    port: int
    ca: Pair
    client: Pair

    def url(self, host: str = "127.0.0.1") -> str:
        return (
            f"rediss://{host}:{self.port}/0?ssl_ca_certs={self.ca.cert}"
            f"&ssl_certfile={self.client.cert}&ssl_keyfile={self.client.key}"
        )


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    """redis-server with a TLS port only; its certificate names IP:127.0.0.1 alone."""
    pki = tmp_path_factory.mktemp("redis-tls")
    ca = make_ca(pki)
    server = make_cert(ca, pki, "redis-server", days=30, san="IP:127.0.0.1")
    client = make_cert(ca, pki, "kr-client", days=20)
    port = free_port()
    proc = subprocess.Popen(
        [
            *("redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"),
            *("--tls-cert-file", str(server.cert), "--tls-key-file", str(server.key)),
            *("--tls-ca-cert-file", str(ca.cert), "--tls-auth-clients", "yes"),
            *("--save", "", "--appendonly", "no", "--dir", str(pki)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tls = TlsRedis(port, ca, client)
    try:
        import redis

        def answers() -> bool:
            try:
                with redis.Redis.from_url(tls.url(), socket_timeout=1) as r:
                    return bool(r.ping())
            except redis.RedisError:
                return False

        wait_for(answers, 20, interval=0.1, what="the TLS redis-server")
        yield tls
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def check(cli: Cli, url: str, *args: str) -> tuple[CliResult, dict[str, Any]]:
    result = cli("--redis-url", url, "check", "--json", *args)
    assert "Traceback" not in result.stderr
    return result, json.loads(result.stdout)


def certificate_rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["role"]: c for c in data["checks"] if c.get("check") == "certificate"}


def test_check_shows_tls_and_both_certificates_days_left(cli: Cli, tls_redis: TlsRedis) -> None:
    result, data = check(cli, tls_redis.url())
    assert result.exit_code == 0, (result.stderr, data)
    [security] = [c for c in data["checks"] if c["service"] == "redis security"]
    assert security["detail"] == "TLS on, principal ACL user default (no password)"
    assert security["tls"] is True
    certs = certificate_rows(data)
    server, client = certs["redis"], certs["client"]
    assert server["target"] == f"127.0.0.1:{tls_redis.port}" and server["ok"] is True
    assert server["subject"] == "CN=redis-server,O=kafkaredis"
    assert server["days_left"] == 29 and "(29 days left)" in server["detail"]
    assert client["target"] == f"client {tls_redis.client.cert}" and client["ok"] is True
    assert client["days_left"] == 19 and client["subject"] == "CN=kr-client,O=kafkaredis"
    assert not any(c.get("check") == "certificate" and c["service"].startswith("kafka")
                   for c in data["checks"])  # fmt: skip

    text = cli("--redis-url", tls_redis.url(), "check")
    assert text.exit_code == 0 and "29 days left" in text.stdout and "19 days left" in text.stdout


def test_a_certificate_expiring_within_cert_min_days_fails(cli: Cli, tls_redis: TlsRedis) -> None:
    result, data = check(cli, tls_redis.url(), "--cert-min-days", "25")
    assert result.exit_code == 1
    certs = certificate_rows(data)
    assert certs["redis"]["ok"] is True  # 29 days left
    assert certs["client"]["ok"] is False
    assert certs["client"]["detail"].startswith("expires within 25 days (--cert-min-days)")
    assert result.stderr.strip() == "kafkaredis: error: not working: redis certificate"


def test_a_certificate_that_does_not_name_the_host_fails(cli: Cli, tls_redis: TlsRedis) -> None:
    result, data = check(cli, tls_redis.url("localhost"))
    assert result.exit_code == 1
    server = certificate_rows(data)["redis"]
    assert server["target"] == f"localhost:{tls_redis.port}" and server["ok"] is False
    assert "does not match host localhost (it names IP:127.0.0.1)" in server["detail"]


def test_a_ca_that_did_not_sign_it_fails_as_untrusted(
    cli: Cli, tls_redis: TlsRedis, tmp_path: Path
) -> None:
    other = make_ca(tmp_path, "another CA")
    url = tls_redis.url().replace(str(tls_redis.ca.cert), str(other.cert))
    result, data = check(cli, url)
    assert result.exit_code == 1
    server = certificate_rows(data)["redis"]
    assert server["ok"] is False and server["detail"].startswith("not trusted: ")
    assert server["days_left"] == 29  # still read, so its dates are shown


def test_the_timer_exports_each_certificates_expiry_on_metrics(
    cli: Cli, env: dict[str, str], tls_redis: TlsRedis
) -> None:
    import signal
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from tests.conftest import kafkaredis_process

    _, data = check(cli, tls_redis.url())
    expected = {
        (c["endpoint"], c["role"]): c["expires_at"] for c in certificate_rows(data).values()
    }
    assert len(expected) == 2
    port = free_port()
    run_env = {**env, "KAFKAREDIS_REDIS__URL": tls_redis.url()}
    proc = kafkaredis_process(
        ["timer", "--interval", "0.5", "--count", "1000", "--metrics-port", str(port)], run_env
    )
    name = "kafkaredis_canary_certificate_expiry_timestamp_seconds"
    found: dict[tuple[str, str], float] = {}

    def exported() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return False
        found.clear()
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name:
                    found[(s.labels["endpoint"], s.labels["role"])] = s.value
        return len(found) == 2

    try:
        wait_for(exported, 30, interval=0.2, what="the certificate expiry gauges")
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert {k: round(v) for k, v in found.items()} == expected
    assert (f"127.0.0.1:{tls_redis.port}", "redis") in found
    assert (str(tls_redis.client.cert), "client") in found
    assert b"Traceback" not in err
