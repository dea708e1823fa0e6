"""How keys and values are written as text and read back: text, hex or base64."""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum

from kafkaredis_cli.errors import UsageError


class Encoding(StrEnum):
    text = "text"
    hex = "hex"
    base64 = "base64"


# Control characters (newlines too) shown as \xNN: one message stays on one line.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}


def show(raw: bytes, encoding: Encoding) -> str:
    """Bytes as text: UTF-8 with invalid bytes and control characters escaped (\\xff),
    hex, or base64."""
    if encoding is Encoding.text:
        return raw.decode("utf-8", "backslashreplace").translate(_CONTROLS)
    if encoding is Encoding.hex:
        return raw.hex()
    return base64.b64encode(raw).decode("ascii")


ENCODINGS = frozenset(e.value for e in Encoding)


def parse(text: str | bytes, encoding: Encoding | str, what: str) -> bytes:
    """Text (or a line's bytes) in an encoding -> the bytes; the error names `what`."""
    if encoding not in ENCODINGS:
        raise UsageError(f"{what}: unknown encoding {encoding!r} (text, hex or base64)")
    if encoding == Encoding.text:
        if isinstance(text, bytes):
            return text
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON): no bytes mean it
            raise UsageError(f"{what} is not valid text (a lone UTF-16 surrogate)") from None
    try:
        if encoding == Encoding.hex:
            return bytes.fromhex(text if isinstance(text, str) else text.decode("ascii"))
        if encoding == Encoding.base64:
            return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        pass
    raise UsageError(f"{what} is not valid {encoding}")
