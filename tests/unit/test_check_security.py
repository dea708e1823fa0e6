"""check's security rows: the posture each setting gives, certificates read from PEM, and
each certificate row's verdict (expiry, --cert-min-days, host, trust)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kafkaredis_cli.adapters.tls_certificates import (
    TlsSettings,
    client_certificate,
    read_certificate_file,
    server_certificate,
)
from kafkaredis_cli.domain.certificates import (
    DAY_S,
    Certificate,
    CertificateReport,
    TlsEndpoint,
    certificate_row,
    host_matches,
)
from kafkaredis_cli.domain.security import kafka_posture, redis_posture, security_row
from kafkaredis_cli.redis_url import parse_redis_url
from tests.tls import make_ca, make_cert

NOW = 1_800_000_000.0
BROKER = TlsEndpoint(service="kafka", role="kafka", address="127.0.0.1:9093")


def cert(days: float = 100, ips: tuple[str, ...] = ("127.0.0.1",), **more: object) -> Certificate:
    values: dict[str, object] = {
        "subject": "CN=broker,O=kafkaredis",
        "issuer": "CN=ca,O=kafkaredis",
        "not_before": NOW - DAY_S,
        "not_after": NOW + days * DAY_S,
        "dns_names": ("localhost",),
        "ip_addresses": ips,
        "common_name": "broker",
    }
    values.update(more)
    return Certificate(**values)  # type: ignore[arg-type]


def test_a_certificate_valid_long_enough_for_its_host_passes_with_its_date() -> None:
    row = certificate_row(CertificateReport(endpoint=BROKER, certificate=cert(100.5)), NOW, 14)
    assert (row.service, row.target, row.ok, row.check) == (
        "kafka certificate",
        "127.0.0.1:9093",
        True,
        "certificate",
    )
    assert row.detail.startswith("expires 2027-")
    assert "(100 days left), subject CN=broker,O=kafkaredis" in row.detail
    data = row.as_dict()
    assert data["days_left"] == 100 and data["expires_at"] == round(NOW + 100.5 * DAY_S)
    assert data["role"] == "kafka" and data["endpoint"] == "127.0.0.1:9093"


@pytest.mark.parametrize(
    ("days", "min_days", "ok", "says"),
    [
        (13.9, 14, False, "expires within 14 days (--cert-min-days); expires "),
        (14.0, 14, True, "(14 days left)"),
        (3, 0, True, "(3 days left)"),
        (-2, 0, False, "EXPIRED on "),
    ],
)
def test_expiry_against_the_minimum_days(days: float, min_days: int, ok: bool, says: str) -> None:
    row = certificate_row(CertificateReport(endpoint=BROKER, certificate=cert(days)), NOW, min_days)
    assert row.ok is ok and says in row.detail, row.detail
    if days < 0:
        assert "(2 days ago)" in row.detail and "days left" not in row.detail


def test_a_certificate_for_another_host_fails_unless_host_checks_are_off() -> None:
    other = TlsEndpoint(service="redis", role="redis", address="127.0.0.2:6380")
    row = certificate_row(CertificateReport(endpoint=other, certificate=cert()), NOW, 14)
    assert not row.ok
    assert row.detail.startswith(
        "does not match host 127.0.0.2 (it names DNS:localhost, IP:127.0.0.1)"
    )
    unchecked = TlsEndpoint(
        service="redis", role="redis", address="127.0.0.2:6380", check_host=False
    )
    assert certificate_row(CertificateReport(endpoint=unchecked, certificate=cert()), NOW, 14).ok


def test_host_names_wildcards_and_the_common_name() -> None:
    assert host_matches(cert(), "localhost") and host_matches(cert(), "127.0.0.1")
    assert not host_matches(cert(), "::1") and not host_matches(cert(), "example.com")
    wildcard = cert(dns_names=("*.kafka.example",), ips=())
    assert host_matches(wildcard, "b1.kafka.example")
    assert not host_matches(wildcard, "a.b1.kafka.example") and not host_matches(
        wildcard, "kafka.example"
    )
    by_cn = cert(dns_names=(), ips=(), common_name="broker.example")
    assert host_matches(by_cn, "BROKER.example") and not host_matches(by_cn, "other.example")


def test_untrusted_and_unread_certificates_fail_with_the_reason() -> None:
    untrusted = CertificateReport(endpoint=BROKER, certificate=cert(), untrusted="self-signed")
    assert certificate_row(untrusted, NOW, 14).detail.startswith("not trusted: self-signed; ")
    unverified = TlsEndpoint(service="kafka", role="kafka", address=BROKER.address, verify=False)
    trusting = CertificateReport(endpoint=unverified, certificate=cert(), untrusted="self-signed")
    row = certificate_row(trusting, NOW, 14)  # verification off in the settings: shown only
    assert row.ok and row.as_dict()["untrusted"] == "self-signed"
    conf = {"security.protocol": "SSL", "enable.ssl.certificate.verification": "false"}
    assert not kafka_posture(conf).verify and not kafka_posture(conf).check_host
    unread = CertificateReport(endpoint=BROKER, error="Connection refused")
    row = certificate_row(unread, NOW, 14)
    assert (row.ok, row.detail) == (False, "certificate not read: Connection refused")


def test_kafka_postures_name_protocol_mechanism_and_principal_never_the_password() -> None:
    conf = {
        "bootstrap.servers": "b:9094",
        "security.protocol": "sasl_ssl",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "kr-app",
        "sasl.password": "hunter2-secret",
        "ssl.ca.location": "/ca.pem",
    }
    posture = kafka_posture(conf)
    assert posture.tls and posture.client_certificate is None and posture.check_host
    row = security_row(posture, [])
    assert row.detail == "SASL_SSL, mechanism SCRAM-SHA-512, principal User:kr-app"
    assert "hunter2" not in str(row.as_dict())
    assert row.as_dict()["mechanism"] == "SCRAM-SHA-512"
    plain = security_row(kafka_posture({"bootstrap.servers": "b:9092"}), [])
    assert plain.detail == "PLAINTEXT, principal User:ANONYMOUS"


def test_over_ssl_the_principal_is_the_client_certificates_subject() -> None:
    conf = {
        "security.protocol": "SSL",
        "ssl.certificate.location": "/c.pem",
        "ssl.endpoint.identification.algorithm": "none",
    }
    posture = kafka_posture(conf)
    assert posture.client_certificate == "/c.pem" and not posture.check_host
    client = TlsEndpoint(service="kafka", role="client", address="/c.pem")
    report = CertificateReport(endpoint=client, certificate=cert(subject="CN=kr-client,O=kr"))
    assert security_row(posture, [report]).detail == "SSL, principal User:CN=kr-client,O=kr"
    assert "User:ANONYMOUS" in security_row(posture, []).detail


def test_redis_posture_tls_and_acl_user_never_the_password() -> None:
    target = parse_redis_url("rediss://kr-app:s3cret-pw@127.0.0.1:6380/0?ssl_certfile=/c.pem")
    row = security_row(redis_posture(target, "masked"), [])
    assert row.detail == "TLS on, principal ACL user kr-app (password set)"
    assert "s3cret" not in str(row.as_dict())
    assert redis_posture(target, "masked").client_certificate == "/c.pem"
    plain = redis_posture(parse_redis_url("redis://127.0.0.1:6379/0"), "x")
    assert security_row(plain, []).detail == "TLS off, principal ACL user default (no password)"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


def test_a_pem_certificate_is_read_with_its_names_dates_and_subject(pki: Path) -> None:
    ca = make_ca(pki)
    server = make_cert(ca, pki, "server", days=20, san="IP:127.0.0.1,DNS:localhost")
    read = read_certificate_file(str(server.cert))
    assert read.subject == "CN=server,O=kafkaredis"
    assert read.issuer == "CN=kafkaredis test CA,O=kafkaredis"
    assert read.dns_names == ("localhost",) and read.ip_addresses == ("127.0.0.1",)
    assert 19 * DAY_S < read.not_after - time.time() <= 20 * DAY_S
    endpoint = TlsEndpoint(service="kafka", role="client", address=str(server.cert))
    assert client_certificate(endpoint).certificate == read
    missing = TlsEndpoint(service="kafka", role="client", address=str(pki / "none.pem"))
    assert client_certificate(missing).error == "no such file"
    garbage = pki / "garbage.pem"
    garbage.write_text("not a certificate")
    bad = TlsEndpoint(service="kafka", role="client", address=str(garbage))
    assert client_certificate(bad).error


def test_a_pkcs12_keystore_is_read_with_its_password(pki: Path) -> None:
    import subprocess

    directory = pki / "p12"
    directory.mkdir()
    ca = make_ca(directory, name="p12 CA")
    client = make_cert(ca, directory, "p12-client", days=30, san="DNS:client")
    keystore = directory / "client.p12"
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-in", str(client.cert), "-inkey", str(client.key),
         "-out", str(keystore), "-passout", "pass:store-secret"],
        check=True, capture_output=True,
    )  # fmt: skip
    endpoint = TlsEndpoint(service="kafka", role="client", address=str(keystore))
    read = client_certificate(endpoint, keystore_password="store-secret").certificate
    assert read is not None and read.subject == "CN=p12-client,O=kafkaredis"
    assert 29 * DAY_S < read.not_after - time.time() <= 30 * DAY_S
    wrong = client_certificate(endpoint, keystore_password="wrong")
    assert wrong.certificate is None and wrong.error
    assert "store-secret" not in wrong.error


def test_a_server_that_does_not_listen_is_a_report_with_the_reason(pki: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = TlsEndpoint(service="redis", role="redis", address=f"127.0.0.1:{port}")
    report = server_certificate(endpoint, TlsSettings(), 2.0)
    assert report.certificate is None and report.error == "Connection refused"
