"""What `check` says of security: how it connects to Kafka and Redis, as whom.

Kafka: the security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), the SASL
mechanism, and the principal the broker sees (User:<SASL user>, or the subject of the
client certificate over SSL). Redis: TLS on or off, and the ACL user. Never a password:
only whether one is set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafkaredis_cli.domain.certificates import CertificateReport, TlsEndpoint
from kafkaredis_cli.domain.cluster_health import CheckRow
from kafkaredis_cli.redis_url import RedisTarget

# librdkafka's properties that say where the client certificate is, in the order it reads them.
KAFKA_CLIENT_CERTIFICATE = (
    "ssl.certificate.location",
    "ssl.certificate.pem",
    "ssl.keystore.location",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Posture:
    service: str  # kafka | redis
    target: str  # the bootstrap servers, the Redis URL (masked)
    tls: bool
    summary: str  # "SASL_SSL, SCRAM-SHA-512" / "TLS on"
    principal: str | None  # None: the client certificate's subject says (Kafka over SSL)
    client_certificate: str | None = None  # where it is: a path, or the property holding it
    check_host: bool = True
    verify: bool = True  # the CA must trust the server's certificate
    data: Mapping[str, Any] = field(default_factory=dict)


def _client_certificate(conf: Mapping[str, str]) -> str | None:
    for name in KAFKA_CLIENT_CERTIFICATE:
        value = conf.get(name, "").strip()
        if value:
            return value if name.endswith(".location") else name
    return None


def kafka_posture(conf: Mapping[str, str]) -> Posture:
    protocol = conf.get("security.protocol", "plaintext").strip().upper() or "PLAINTEXT"
    tls = protocol in ("SSL", "SASL_SSL")
    sasl = protocol.startswith("SASL")
    mechanism = (conf.get("sasl.mechanisms") or conf.get("sasl.mechanism") or "GSSAPI").upper()
    data: dict[str, Any] = {"protocol": protocol, "mechanism": mechanism if sasl else None}
    principal: str | None
    if sasl and mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        user = conf.get("sasl.username")
        principal = f"User:{user}" if user else "no sasl.username set"
    elif sasl and mechanism == "GSSAPI":
        principal = f"Kerberos {conf.get('sasl.kerberos.principal', 'kafkaclient')}"
    elif sasl:
        principal = f"as the {mechanism} token says"
    elif tls:
        principal = None  # the certificate's subject, or ANONYMOUS without one
    else:
        principal = "User:ANONYMOUS"
    endpoint_check = conf.get("ssl.endpoint.identification.algorithm", "https").strip().lower()
    verify = conf.get("enable.ssl.certificate.verification", "true").strip().lower()
    return Posture(
        service="kafka",
        target=conf.get("bootstrap.servers", ""),
        tls=tls,
        summary=f"{protocol}, mechanism {mechanism}" if sasl else protocol,
        principal=principal,
        client_certificate=_client_certificate(conf) if tls else None,
        check_host=endpoint_check != "none" and verify not in ("false", "0"),
        verify=verify not in ("false", "0"),
        data=data,
    )


def redis_posture(target: RedisTarget, where: str) -> Posture:
    user = target.username or "default"
    password = "password set" if target.password else "no password"
    certificate = target.options.get("ssl_certfile") if target.tls else None
    check_host = target.options.get("ssl_check_hostname", "true").lower() in ("1", "true", "yes")
    verify = target.options.get("ssl_cert_reqs", "required").lower() != "none"
    return Posture(
        service="redis",
        target=where,
        tls=target.tls,
        summary=f"TLS {'on' if target.tls else 'off'}",
        principal=f"ACL user {user} ({password})",
        client_certificate=certificate,
        check_host=check_host and verify,
        verify=verify,
        data={"tls": target.tls, "user": user},
    )


def client_endpoint(posture: Posture) -> TlsEndpoint | None:
    if posture.client_certificate is None:
        return None
    return TlsEndpoint(service=posture.service, role="client", address=posture.client_certificate)


def server_endpoints(posture: Posture, addresses: Sequence[str]) -> list[TlsEndpoint]:
    if not posture.tls:
        return []
    return [
        TlsEndpoint(
            service=posture.service,
            role=posture.service,
            address=a,
            check_host=posture.check_host,
            verify=posture.verify,
        )
        for a in dict.fromkeys(addresses)
    ]


def security_row(posture: Posture, reports: Sequence[CertificateReport]) -> CheckRow:
    """The service's security row; over SSL without SASL the principal is the subject of
    the client certificate it presents."""
    principal = posture.principal
    if principal is None:
        client = next(
            (r for r in reports if r.endpoint.role == "client" and r.certificate is not None),
            None,
        )
        principal = (
            f"User:{client.certificate.subject}"
            if client and client.certificate
            else ("User:ANONYMOUS (no client certificate)")
        )
    data = {**posture.data, "principal": principal}
    detail = f"{posture.summary}, principal {principal}"
    return CheckRow(f"{posture.service} security", posture.target, True, detail, "security", data)
