"""Certificates as `check` and the canary read them: the handshake with Python's ssl
module, the certificate itself parsed with `cryptography`.

A server's: a TLS handshake to host:port with the configured CA and client certificate
(the TLS context librdkafka or redis-py would make from the same settings), then the
peer's certificate. One the CA does not verify (expired, another CA) is fetched again
without verification, so that its dates can still be shown. A client certificate: read
from its PEM file or PKCS#12 keystore. Nothing is sent after the handshake.
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from kafkaredis_cli.domain.certificates import (
    Certificate,
    CertificateReport,
    TlsEndpoint,
    split_host_port,
)


def _certificate(cert: x509.Certificate) -> Certificate:
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(alt.get_values_for_type(x509.DNSName))
        ip_addresses = tuple(str(ip) for ip in alt.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns_names, ip_addresses = (), ()
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return Certificate(
        # RFC 4514 order (the last RDN first), as Kafka's SSL principal names it.
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc.timestamp(),
        not_after=cert.not_valid_after_utc.timestamp(),
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        common_name=str(common[-1].value) if common else None,
    )


def read_certificate_pem(pem: str | bytes) -> Certificate:
    """The (first) certificate of PEM text."""
    data = pem.encode() if isinstance(pem, str) else pem
    return _certificate(x509.load_pem_x509_certificate(data))


def read_certificate_file(path: str, keystore_password: str | None = None) -> Certificate:
    """The (first) certificate of a PEM file, or a PKCS#12 keystore's own certificate."""
    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        return read_certificate_pem(data)
    password = keystore_password.encode() if keystore_password else None
    _, cert, _ = pkcs12.load_key_and_certificates(data, password)
    if cert is None:
        raise ValueError("the keystore holds no certificate")
    return _certificate(cert)


def _decode_der(der: bytes) -> Certificate:
    return _certificate(x509.load_der_x509_certificate(der))


@contextmanager
def _temporary_file(text: str) -> Iterator[str]:
    """A file only this user can read (it may hold a key), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kafkaredis-tls-") as directory:
        path = Path(directory) / "material.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        yield str(path)


class TlsSettings:
    """Where the CA, the client certificate and its key are (files or PEM text)."""

    def __init__(
        self,
        *,
        ca_file: str | None = None,
        ca_dir: str | None = None,
        ca_pem: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        cert_pem: str | None = None,
        key_pem: str | None = None,
        key_password: str | None = None,
    ) -> None:
        self.ca_file, self.ca_dir, self.ca_pem = ca_file, ca_dir, ca_pem
        self.cert_file, self.key_file = cert_file, key_file
        self.cert_pem, self.key_pem = cert_pem, key_pem
        self._key_password = key_password

    def context(self, verify: bool) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # the row checks the host (and says so)
        if verify:
            context.verify_mode = ssl.CERT_REQUIRED
            if self.ca_file or self.ca_dir or self.ca_pem:
                context.load_verify_locations(self.ca_file, self.ca_dir, self.ca_pem)
            else:
                context.load_default_certs()
        else:
            context.verify_mode = ssl.CERT_NONE
        self._load_client_certificate(context)
        return context

    def _load_client_certificate(self, context: ssl.SSLContext) -> None:
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file, self._key_password)
        elif self.cert_pem and self.key_pem:
            with _temporary_file(self.cert_pem + "\n" + self.key_pem) as path:
                context.load_cert_chain(path, None, self._key_password)


def kafka_tls_settings(conf: Mapping[str, str]) -> TlsSettings:
    """The TLS material librdkafka's properties name (a PKCS#12 keystore is not read)."""
    ca = conf.get("ssl.ca.location") or None
    if ca == "probe":
        ca = None
    return TlsSettings(
        ca_file=ca if ca and not os.path.isdir(ca) else None,
        ca_dir=ca if ca and os.path.isdir(ca) else None,
        ca_pem=conf.get("ssl.ca.pem") or None,
        cert_file=conf.get("ssl.certificate.location") or None,
        key_file=conf.get("ssl.key.location") or None,
        cert_pem=conf.get("ssl.certificate.pem") or None,
        key_pem=conf.get("ssl.key.pem") or None,
        key_password=conf.get("ssl.key.password") or None,
    )


def redis_tls_settings(options: Mapping[str, str]) -> TlsSettings:
    """The TLS material of a rediss:// URL's query (redis-py's names)."""
    return TlsSettings(
        ca_file=options.get("ssl_ca_certs") or None,
        cert_file=options.get("ssl_certfile") or None,
        key_file=options.get("ssl_keyfile") or None,
        key_password=options.get("ssl_password") or None,
    )


def _peer_der(host: str, port: int, context: ssl.SSLContext, timeout_s: float) -> bytes:
    with (
        socket.create_connection((host, port), timeout=timeout_s) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return der


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return str(exc.verify_message or getattr(exc, "reason", None) or exc)
    if isinstance(exc, ssl.SSLError):
        return str(getattr(exc, "reason", None) or exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def server_certificate(
    endpoint: TlsEndpoint, settings: TlsSettings, timeout_s: float
) -> CertificateReport:
    """The certificate the server at the endpoint presents (and whether the CA trusts it)."""
    try:
        host, port = split_host_port(endpoint.address)
    except ValueError:
        return CertificateReport(endpoint=endpoint, error="not host:port")
    untrusted = None
    try:
        try:
            der = _peer_der(host, port, settings.context(verify=True), timeout_s)
        except ssl.SSLCertVerificationError as exc:
            untrusted = _reason(exc)
            der = _peer_der(host, port, settings.context(verify=False), timeout_s)
        certificate = _decode_der(der)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        return CertificateReport(endpoint=endpoint, error=_reason(exc))
    return CertificateReport(endpoint=endpoint, certificate=certificate, untrusted=untrusted)


def client_certificate(
    endpoint: TlsEndpoint, pem: str | None = None, keystore_password: str | None = None
) -> CertificateReport:
    """The client certificate at endpoint.address (a PEM file or a PKCS#12 keystore), or
    `pem` itself."""
    try:
        if pem is not None:
            return CertificateReport(endpoint=endpoint, certificate=read_certificate_pem(pem))
        if not os.path.isfile(endpoint.address):
            return CertificateReport(endpoint=endpoint, error="no such file")
        certificate = read_certificate_file(endpoint.address, keystore_password)
        return CertificateReport(endpoint=endpoint, certificate=certificate)
    except (OSError, ValueError) as exc:
        return CertificateReport(endpoint=endpoint, error=_reason(exc))


def read_certificates(
    endpoints: Sequence[TlsEndpoint],
    *,
    kafka_conf: Mapping[str, str],
    redis_options: Mapping[str, str],
    timeout_s: float,
) -> list[CertificateReport]:
    """Every endpoint's certificate, the handshakes side by side (each bounded)."""
    from concurrent.futures import ThreadPoolExecutor

    settings = {"kafka": kafka_tls_settings(kafka_conf), "redis": redis_tls_settings(redis_options)}

    def read(endpoint: TlsEndpoint) -> CertificateReport:
        if endpoint.role == "client":
            pem = (
                kafka_conf.get(endpoint.address)
                if endpoint.address == "ssl.certificate.pem"
                else None
            )
            password = kafka_conf.get("ssl.keystore.password") or None
            return client_certificate(endpoint, pem, password)
        return server_certificate(endpoint, settings[endpoint.service], timeout_s)

    if len(endpoints) <= 1:
        return [read(e) for e in endpoints]
    with ThreadPoolExecutor(max_workers=min(8, len(endpoints))) as pool:
        return list(pool.map(read, endpoints))
