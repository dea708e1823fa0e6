"""Records and the JSON shapes: bytes-safe both ways; positions, keys and input lines."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime

import pytest

from kafkaredis_cli.domain.message_json import consumed_to_json, outgoing_from_json
from kafkaredis_cli.domain.messages import (
    ID_HEADER,
    SENT_AT_HEADER,
    ConsumedRecord,
    DeliveryReport,
    OutgoingMessage,
    new_message_id,
    now_ms,
    stamp,
    wire_headers,
)
from kafkaredis_cli.domain.positions import Start, StartKind
from kafkaredis_cli.domain.records import (
    BLOB_HEAD_BYTES,
    BLOB_PREFIXES,
    STATE_WIDTH,
    MessageRecord,
    Status,
    blob_summary,
    iso,
    state_line,
)
from kafkaredis_cli.errors import UsageError
from kafkaredis_cli.inputs import read_messages
from kafkaredis_cli.keys import KeySpace

BINARY = bytes(range(256))


def consumed(**overrides: object) -> ConsumedRecord:
    fields: dict[str, object] = {
        "topic": "t",
        "partition": 2,
        "offset": 41,
        "key": b"k",
        "value": b"v",
        "headers": (),
        "timestamp_ms": 1_700_000_000_123,
        "consumed_at_ms": now_ms(),
    }
    fields.update(overrides)
    return ConsumedRecord(**fields)  # type: ignore[arg-type]


# -- ids ----------------------------------------------------------------------------


def test_ids_are_uuid7_unique_and_sorted_in_creation_order() -> None:
    ids = [new_message_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_stamp_adds_the_id_and_send_time_headers_after_the_users() -> None:
    stamped = stamp("t", OutgoingMessage(value=b"v", headers=(("a", b"1"),)))
    assert wire_headers(stamped) == [
        ("a", b"1"),
        (ID_HEADER, stamped.id.encode()),
        (SENT_AT_HEADER, str(stamped.sent_at_ms).encode()),
    ]


def test_consumed_record_reads_its_id_send_time_and_user_headers() -> None:
    record = consumed(headers=(("a", b"1"), (ID_HEADER, b"the-id"), (SENT_AT_HEADER, b"123")))
    assert record.message_id == "the-id"
    assert record.sent_at_ms == 123
    assert record.user_headers == (("a", b"1"),)
    assert consumed(headers=((SENT_AT_HEADER, b"garbage"),)).sent_at_ms is None
    assert consumed().message_id is None


# -- the consume --format json line and produce --input-format json ----------------------


def test_json_line_of_text_message() -> None:
    record = consumed(headers=(("h", b"x"), (ID_HEADER, b"id-1")))
    data = consumed_to_json(record)
    assert data == {
        "topic": "t",
        "partition": 2,
        "offset": 41,
        "timestamp": 1_700_000_000_123,
        "key": "k",
        "value": "v",
        "headers": [{"name": "h", "value": "x"}],
        "id": "id-1",
    }


def test_json_line_marks_non_utf8_key_value_and_header_as_base64() -> None:
    record = consumed(key=b"\xff", value=BINARY, headers=(("bin", b"\x00\xff"), ("none", None)))
    data = consumed_to_json(record)
    assert data["encoding"] == {"key": "base64", "value": "base64"}
    assert data["key"] == "/w=="
    assert data["headers"] == [
        {"name": "bin", "value": "AP8=", "encoding": "base64"},
        {"name": "none", "value": None},
    ]
    json.dumps(data)  # serialisable as is


@pytest.mark.parametrize(
    ("key", "value", "headers"),
    [
        (b"k", b"plain text", (("a", b"1"),)),
        (None, BINARY, (("bin", BINARY), ("empty", b""), ("none", None))),
        (b"\x80\x81", b"", ()),
        ("ключ".encode(), "значение ✓".encode(), (("h", "ü".encode()),)),
        (b"k", None, ()),
        (b"k", b'{"nested": "json"}\nwith newline', ()),
    ],
)
def test_json_round_trip_reproduces_key_value_and_headers(
    key: bytes | None, value: bytes | None, headers: tuple[tuple[str, bytes | None], ...]
) -> None:
    record = consumed(key=key, value=value, headers=(*headers, (ID_HEADER, b"x")))
    line = json.dumps(consumed_to_json(record))
    assert "\n" not in line
    back = outgoing_from_json(line, "line 1")
    assert back.key == key
    assert back.value == value
    assert back.headers == headers  # the kafkaredis headers are not copied


def test_json_input_accepts_simple_shapes() -> None:
    message = outgoing_from_json('{"value": "v", "headers": {"a": "1", "b": null}}', "line 3")
    assert message == OutgoingMessage(value=b"v", key=None, headers=(("a", b"1"), ("b", None)))
    pairs = outgoing_from_json('{"key": "k", "value": "v", "headers": [["a", "1"]]}', "l")
    assert pairs.headers == (("a", b"1"),)
    whole = outgoing_from_json('{"value": "AAE=", "encoding": "base64"}', "l")
    assert whole.value == b"\x00\x01"
    as_json = outgoing_from_json('{"value": {"n": 1}}', "l")
    assert json.loads(as_json.value or b"") == {"n": 1}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"line 7: not valid JSON"),
        ("[1, 2]", r"line 7: expected a JSON object"),
        ('{"value": "!!", "encoding": {"value": "base64"}}', r"line 7: value is marked base64"),
        ('{"value": "v", "headers": 5}', r"line 7: headers must be a list or an object"),
        ('{"value": "v", "headers": [1]}', r"line 7: a header must be"),
        ('{"value": "v", "encoding": 3}', r"line 7: encoding must be an object"),
    ],
)
def test_bad_json_input_names_the_line(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        outgoing_from_json(line, "line 7")


# -- the Redis record ---------------------------------------------------------------------


def delivered_record(value: bytes | None = BINARY) -> MessageRecord:
    stamped = stamp("orders", OutgoingMessage(value=value, key=b"\xfe", headers=(("h", b"\xff"),)))
    report = DeliveryReport(message=stamped, partition=1, offset=99, delivered_at_ms=5_000)
    return MessageRecord.from_delivery(report)


def as_redis(record: MessageRecord) -> dict[bytes, bytes]:
    """What HGETALL returns for the hash HSET wrote."""
    out = {}
    for name, value in record.to_hash().items():
        raw = value if isinstance(value, bytes) else str(value).encode()
        out[name.encode()] = raw
    return out


def test_record_hash_round_trip_keeps_bytes() -> None:
    record = delivered_record()
    assert record.status is Status.DELIVERED
    assert (record.partition, record.offset, record.delivered_at_ms) == (1, 99, 5_000)
    assert MessageRecord.from_hash(as_redis(record)) == record
    verified = record.consumed(record.sent_at_ms + 12, Status.VERIFIED)
    assert verified.latency_ms == 12.0
    assert MessageRecord.from_hash(as_redis(verified)) == verified


def test_record_without_key_or_value() -> None:
    record = MessageRecord(
        id="i", topic="t", partition=0, offset=0, key=None, value=None, headers=(), sent_at_ms=1
    )
    assert "key" not in record.to_hash() and "value" not in record.to_hash()
    assert MessageRecord.from_hash(as_redis(record)) == record


def test_record_json_uses_epoch_ms_and_base64_for_binary() -> None:
    record = delivered_record()
    data = record.to_json()
    assert data["encoding"] == {"key": "base64", "value": "base64"}
    assert data["delivered_at"] == 5_000 and isinstance(data["sent_at"], int)
    assert data["headers"] == [{"name": "h", "value": "/w==", "encoding": "base64"}]
    assert data["status"] == "delivered"
    assert data["consumed_at"] is None and data["latency_ms"] is None
    text = delivered_record(b"text").to_json()
    assert text["value"] == "text" and text["encoding"] == {"key": "base64"}


def test_iso_is_utc_with_milliseconds() -> None:
    assert iso(0) == "1970-01-01T00:00:00.000+00:00"
    assert iso(1_700_000_000_123) == "2023-11-14T22:13:20.123+00:00"
    assert iso(None) == "-"


# -- --from -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("beginning", Start(StartKind.BEGINNING)),
        ("END", Start(StartKind.END)),
        ("stored", Start(StartKind.STORED)),
        ("42", Start(StartKind.OFFSET, 42)),
        ("0", Start(StartKind.OFFSET, 0)),
        ("-10", Start(StartKind.LAST, 10)),
        ("@1700000000123", Start(StartKind.TIMESTAMP, 1_700_000_000_123)),
        ("2023-11-14T22:13:20.123Z", Start(StartKind.TIMESTAMP, 1_700_000_000_123)),
        ("2023-11-14T23:13:20.123+01:00", Start(StartKind.TIMESTAMP, 1_700_000_000_123)),
        ("2023-11-14T22:13:20.123", Start(StartKind.TIMESTAMP, 1_700_000_000_123)),
    ],
)
def test_from_parses(text: str, expected: Start) -> None:
    assert Start.parse(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "-0", "1.5", "", "@x", "--3"])
def test_bad_from_is_a_usage_error_naming_it(text: str) -> None:
    with pytest.raises(UsageError, match="--from"):
        Start.parse(text)


def test_from_a_datetime_now_is_close_to_now() -> None:
    now = datetime.now(tz=UTC)
    parsed = Start.parse(now.isoformat())
    assert abs(parsed.value - now.timestamp() * 1000) < 1


# -- keys ---------------------------------------------------------------------------------


def test_keys_are_built_in_one_place_and_resolve_what_users_type() -> None:
    keys = KeySpace("kr")
    message_id = new_message_id()
    assert keys.message(message_id) == f"kr:msg:{message_id}"
    assert keys.latest("orders") == "kr:latest:orders"
    assert keys.resolve(message_id) == f"kr:msg:{message_id}"
    assert keys.resolve(message_id.upper()) == f"kr:msg:{message_id.upper()}"
    assert keys.resolve("latest:orders") == "kr:latest:orders"
    assert keys.resolve(f"msg:{message_id}") == f"kr:msg:{message_id}"
    assert keys.resolve("kr:latest:x") == "kr:latest:x"
    assert keys.pattern(None) == "kr:*"
    assert keys.pattern("msg:*") == "kr:msg:*"
    assert keys.pattern("kr:latest:*") == "kr:latest:*"
    assert [
        keys.kind_of(k) for k in ("kr:msg:1", "kr:latest:t", "kr:timer:p", "kr:x", "o:msg")
    ] == [
        "msg",
        "latest",
        "timer",
        "other",
        "other",
    ]


# -- input lines ----------------------------------------------------------------------------


def test_text_lines_are_bytes_as_is_and_empty_lines_skipped() -> None:
    stream = io.BytesIO(b"one\r\n\n\xff\xfe raw\nk1:v:1\nlast")
    got = list(read_messages(stream, input_format="text", headers=(("h", b"1"),)))
    assert [m.value for m in got] == [b"one", b"\xff\xfe raw", b"k1:v:1", b"last"]
    assert all(m.headers == (("h", b"1"),) and m.key is None for m in got)


def test_text_lines_with_a_key_delimiter() -> None:
    stream = io.BytesIO(b"k1:v:1\nno key here\n")
    got = list(read_messages(stream, input_format="text", key=b"dflt", key_delimiter=b":"))
    assert [(m.key, m.value) for m in got] == [(b"k1", b"v:1"), (b"dflt", b"no key here")]


def test_json_lines_merge_option_headers_and_default_key() -> None:
    stream = io.BytesIO(b'{"value": "a"}\n\n{"key": "own", "value": "b", "headers": {"x": "1"}}\n')
    got = list(
        read_messages(stream, input_format="json", key=b"dk", headers=(("o", b"2"),), partition=3)
    )
    assert got == [
        OutgoingMessage(value=b"a", key=b"dk", headers=(("o", b"2"),), partition=3),
        OutgoingMessage(value=b"b", key=b"own", headers=(("o", b"2"), ("x", b"1")), partition=3),
    ]


def test_json_lines_stop_at_a_bad_line_naming_its_number() -> None:
    stream = io.BytesIO(b'{"value": "a"}\n\n{"value": "b"}\n{oops\n{"value": "never"}\n')
    messages = read_messages(stream, input_format="json")
    assert next(messages).value == b"a"
    assert next(messages).value == b"b"
    with pytest.raises(UsageError, match=r"^line 4: not valid JSON"):
        next(messages)


def test_json_lines_must_be_utf8() -> None:
    with pytest.raises(UsageError, match="line 1: not UTF-8"):
        list(read_messages(io.BytesIO(b'{"value": "\xff"}\n'), input_format="json"))


# -- the compact form a batch stores --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "headers"),
    [
        (b"\xfe", BINARY, (("h", b"\xff"),)),
        (None, None, ()),
        (b"", b"", (("line\nbreak", b"a\nb"), ("none", None))),
        (b"k\nwith newline", b"v\n\n", ()),
    ],
)
def test_blob_round_trip_keeps_bytes(
    key: bytes | None, value: bytes | None, headers: tuple[tuple[str, bytes | None], ...]
) -> None:
    stamped = stamp("orders.v2", OutgoingMessage(value=value, key=key, headers=headers))
    record = MessageRecord.from_delivery(
        DeliveryReport(message=stamped, partition=4, offset=123_456, delivered_at_ms=7)
    )
    blob = record.to_blob()
    assert blob.startswith(BLOB_PREFIXES)
    assert MessageRecord.from_blob(blob) == record
    assert blob_summary(blob[:BLOB_HEAD_BYTES]) == {
        "topic": "orders.v2",
        "partition": 4,
        "offset": 123_456,
        "status": "delivered",
    }
    verified = record.consumed(record.sent_at_ms + 3, Status.VERIFIED)
    assert MessageRecord.from_blob(verified.to_blob()) == verified


def test_blob_state_line_is_rewritten_in_place() -> None:
    """What mark_consumed does in Redis (SETRANGE 0 of a fixed-width line) reads back."""
    record = delivered_record()
    blob = record.to_blob()
    line = state_line("consumed", record.sent_at_ms + 40, 40.0)
    assert len(line) == STATE_WIDTH == len(state_line("delivered", None, None))
    rewritten = line + blob[STATE_WIDTH:]
    back = MessageRecord.from_blob(rewritten)
    assert back == record.consumed(record.sent_at_ms + 40)
    assert blob_summary(rewritten[:BLOB_HEAD_BYTES])["status"] == "consumed"


@pytest.mark.parametrize("raw", [b"", b"hello", b"delivered - -\nxx1 a b c\n[]\n", b"\xff\n\n\n"])
def test_not_a_blob_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not a kafkaredis record"):
        MessageRecord.from_blob(raw)


def test_kafkaredis_headers_finds_the_first_of_each_in_one_pass() -> None:
    from kafkaredis_cli.domain.messages import kafkaredis_headers

    headers = (
        ("a", b"1"),
        (SENT_AT_HEADER, b"123"),
        (ID_HEADER, b"first"),
        (ID_HEADER, b"second"),
        (SENT_AT_HEADER, b"456"),
    )
    assert kafkaredis_headers(headers) == (b"first", b"123")
    assert kafkaredis_headers((("a", b"1"),)) == (None, None)
    record = consumed(headers=headers)
    assert kafkaredis_headers(record.headers)[0] == (record.message_id or "").encode()
