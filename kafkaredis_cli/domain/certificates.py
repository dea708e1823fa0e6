"""What `check` says of a TLS certificate: when it expires, whether it names the host.

For every TLS endpoint `check` connects to (each broker, each Redis node) and each client
certificate it presents, one row: the expiry date and the days left. The row fails when
the certificate has expired, expires within `--cert-min-days`, does not match the host
it was reached by, is not trusted by the configured CA, or could not be read at all.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kafkaredis_cli.domain.cluster_health import CheckRow

DAY_S = 86400.0
DEFAULT_MIN_DAYS = 14


@dataclass(frozen=True, kw_only=True, slots=True)
class Certificate:
    subject: str  # as Kafka names a principal: "CN=broker,O=example" (the last RDN first)
    issuer: str
    not_before: float  # unix time
    not_after: float
    dns_names: tuple[str, ...] = ()  # subjectAltName DNS entries
    ip_addresses: tuple[str, ...] = ()  # subjectAltName IP entries
    common_name: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TlsEndpoint:
    service: str  # kafka | redis: whose settings make the TLS context
    role: str  # kafka | redis (a server's certificate) | client (the one we present)
    address: str  # host:port; for a client certificate where it is (a path, a property)
    check_host: bool = True  # False where the settings turn host name checks off
    verify: bool = True  # False where the settings turn certificate verification off


@dataclass(frozen=True, kw_only=True, slots=True)
class CertificateReport:
    endpoint: TlsEndpoint
    certificate: Certificate | None = None
    error: str | None = None  # the certificate could not be read (a refused connection…)
    untrusted: str | None = None  # read, but the configured CA does not verify it


def split_host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _wildcard_match(pattern: str, host: str) -> bool:
    """RFC 6125: a '*' only as the whole left-most label, matching exactly one label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if not pattern.startswith("*."):
        return pattern == host
    first, dot, rest = host.partition(".")
    return bool(first and dot) and rest == pattern[2:]


def host_matches(certificate: Certificate, host: str) -> bool:
    """Does the certificate name `host` (an IP address: an IP entry of its subjectAltName;
    a name: a DNS entry, or its common name when it has no subjectAltName)?"""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        names = certificate.dns_names
        if not names and not certificate.ip_addresses and certificate.common_name:
            names = (certificate.common_name,)
        return any(_wildcard_match(name, host) for name in names)
    return any(_same_ip(entry, address) for entry in certificate.ip_addresses)


def _same_ip(entry: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(entry.strip()) == address
    except ValueError:
        return False


def _names(certificate: Certificate) -> str:
    names = [f"DNS:{n}" for n in certificate.dns_names]
    names += [f"IP:{a}" for a in certificate.ip_addresses]
    return ", ".join(names) or f"CN {certificate.common_name or '(none)'}"


def _date(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))


def days_left(certificate: Certificate, now: float) -> int:
    """Whole days until it expires (negative once it has)."""
    return int((certificate.not_after - now) // DAY_S)


def _target(endpoint: TlsEndpoint) -> str:
    return f"client {endpoint.address}" if endpoint.role == "client" else endpoint.address


def certificate_row(report: CertificateReport, now: float, min_days: int) -> CheckRow:
    endpoint = report.endpoint
    service = f"{endpoint.service} certificate"
    data: dict[str, Any] = {"role": endpoint.role, "endpoint": endpoint.address}
    certificate = report.certificate
    if certificate is None:
        detail = f"certificate not read: {report.error or 'unknown error'}"
        return CheckRow(service, _target(endpoint), False, detail, "certificate", data)
    left = days_left(certificate, now)
    data.update(
        subject=certificate.subject,
        issuer=certificate.issuer,
        expires=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(certificate.not_after)),
        expires_at=round(certificate.not_after),
        days_left=left,
    )
    problems = []
    if certificate.not_after <= now:
        problems.append(f"EXPIRED on {_date(certificate.not_after)} ({-left} days ago)")
    elif left < min_days:
        problems.append(f"expires within {min_days} days (--cert-min-days)")
    if certificate.not_before > now:
        problems.append(f"not valid before {_date(certificate.not_before)}")
    if endpoint.role != "client" and endpoint.check_host:
        host, _port = split_host_port(endpoint.address)
        if not host_matches(certificate, host):
            problems.append(f"does not match host {host} (it names {_names(certificate)})")
    if report.untrusted and endpoint.verify:
        problems.append(f"not trusted: {report.untrusted}")
    expiry = f"expires {_date(certificate.not_after)} ({left} days left)"
    if certificate.not_after <= now:
        expiry = ""
    head = "; ".join(problems)
    tail = ", ".join(x for x in (expiry, f"subject {certificate.subject}") if x)
    detail = f"{head}; {tail}" if head else tail
    data["host_checked"] = endpoint.check_host and endpoint.role != "client"
    if report.untrusted:
        data["untrusted"] = report.untrusted
    return CheckRow(service, _target(endpoint), not problems, detail, "certificate", data)


def certificate_rows(
    reports: Sequence[CertificateReport], now: float, min_days: int = DEFAULT_MIN_DAYS
) -> list[CheckRow]:
    return [certificate_row(report, now, min_days) for report in reports]
