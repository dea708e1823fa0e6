"""Throwaway certificates for tests, made with the openssl command: a CA, and
certificates it signs (a server's with a subjectAltName, a client's), valid for as many
days as asked."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def make_ca(directory: Path, name: str = "kafkaredis test CA") -> Pair:
    ca = Pair(directory / "ca.pem", directory / "ca.key")
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30"),
        *("-subj", f"/O=kafkaredis/CN={name}", "-keyout", str(ca.key), "-out", str(ca.cert)),
    )
    return ca


def make_cert(
    ca: Pair, directory: Path, name: str, *, days: int = 30, san: str | None = None
) -> Pair:
    """A certificate of subject O=kafkaredis,CN=`name` signed by `ca` (with `san`, e.g.
    "IP:127.0.0.1,DNS:localhost", as its subjectAltName)."""
    pair = Pair(directory / f"{name}.pem", directory / f"{name}.key")
    request = directory / f"{name}.csr"
    _openssl(
        *("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", f"/O=kafkaredis/CN={name}"),
        *("-keyout", str(pair.key), "-out", str(request)),
    )
    extensions = directory / f"{name}.ext"
    extensions.write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
    _openssl(
        *("x509", "-req", "-in", str(request), "-CA", str(ca.cert), "-CAkey", str(ca.key)),
        *("-CAcreateserial", "-days", str(days), "-out", str(pair.cert)),
        *("-extfile", str(extensions)),
    )
    return pair
