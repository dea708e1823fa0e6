"""The JSON shapes (bytes-safe) of messages: `consume --format json` lines and the
`produce --input-format json` lines that read them back, their headers, keys and values
(UTF-8 as is, anything else base64 and marked so)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from kafkaredis_cli.domain.encodings import ENCODINGS, parse
from kafkaredis_cli.domain.messages import ConsumedRecord, Headers, OutgoingMessage
from kafkaredis_cli.errors import UsageError

BASE64 = "base64"


def encode_bytes(raw: bytes | None) -> tuple[str | None, bool]:
    """Text for JSON: UTF-8 as is, anything else base64 (second item True)."""
    if raw is None:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def key_value_json(key: bytes | None, value: bytes | None) -> tuple[dict[str, Any], dict[str, str]]:
    """{"key", "value"} as JSON text, and the "encoding" of those that are base64."""
    key_text, key_b64 = encode_bytes(key)
    value_text, value_b64 = encode_bytes(value)
    encoding = {name: BASE64 for name, flag in (("key", key_b64), ("value", value_b64)) if flag}
    return {"key": key_text, "value": value_text}, encoding


def decode_text(text: str | None, is_base64: bool, what: str) -> bytes | None:
    if text is None:
        return None
    if not is_base64:
        return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{what} is marked base64 but is not valid base64") from None


def headers_to_json(headers: Headers) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, raw in headers:
        text, b64 = encode_bytes(raw)
        item: dict[str, Any] = {"name": name, "value": text}
        if b64:
            item["encoding"] = BASE64
        out.append(item)
    return out


def headers_from_json(data: Any, where: str) -> Headers:
    if data is None:
        return ()
    if isinstance(data, Mapping):
        return tuple(
            (str(k), None if v is None else str(v).encode("utf-8")) for k, v in data.items()
        )
    if not isinstance(data, list):
        raise UsageError(f"{where}: headers must be a list or an object")
    headers: list[tuple[str, bytes | None]] = []
    for item in data:
        if isinstance(item, Mapping) and "name" in item:
            raw = decode_text(
                item.get("value"), item.get("encoding") == BASE64, f"{where}: header value"
            )
            headers.append((str(item["name"]), raw))
        elif isinstance(item, list | tuple) and len(item) == 2:
            value = item[1]
            headers.append((str(item[0]), None if value is None else str(value).encode()))
        else:
            raise UsageError(f"{where}: a header must be {{'name', 'value'}} or [name, value]")
    return tuple(headers)


def consumed_to_json(record: ConsumedRecord) -> dict[str, Any]:
    """The `consume --format json` line; `produce --input-format json` reads it back."""
    key_value, encoding = key_value_json(record.key, record.value)
    out: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp_ms,
        **key_value,
        "headers": headers_to_json(record.user_headers),
    }
    if encoding:
        out["encoding"] = encoding
    if record.message_id:
        out["id"] = record.message_id
    return out


def outgoing_from_json(
    line: str, where: str, key_encoding: str = "text", value_encoding: str = "text"
) -> OutgoingMessage:
    """Parse one `{"key", "value", "headers"}` line; `where` names it in errors. Key and
    value are in the line's `encoding` marks, else in the encodings given here."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise UsageError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # an integer past Python's int-string limit, say
        raise UsageError(f"{where}: not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, Mapping):
        raise UsageError(f"{where}: expected a JSON object with key, value, headers")
    encoding = data.get("encoding") or {}
    if isinstance(encoding, str):
        encoding = {"key": encoding, "value": encoding}
    if not isinstance(encoding, Mapping):
        raise UsageError(f"{where}: encoding must be an object like {{'value': 'base64'}}")
    for field_name in ("key", "value"):
        if data.get(field_name) is not None and not isinstance(data[field_name], str):
            data = {**data, field_name: json.dumps(data[field_name])}
    partition = data.get("partition_override")
    return OutgoingMessage(
        key=_decode_field(data.get("key"), encoding.get("key"), key_encoding, f"{where}: key"),
        value=_decode_field(
            data.get("value"), encoding.get("value"), value_encoding, f"{where}: value"
        ),
        headers=headers_from_json(data.get("headers"), where),
        partition=partition if isinstance(partition, int) else None,
    )


def _decode_field(text: str | None, marked: Any, default: str, what: str) -> bytes | None:
    if text is None:
        return None
    if marked is None:
        return parse(text, default, what)
    if not isinstance(marked, str) or marked not in ENCODINGS:
        raise UsageError(f"{what}: unknown encoding {marked!r} (text, hex or base64)")
    return parse(text, marked, f"{what} is marked {marked} but")
