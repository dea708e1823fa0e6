"""Encodings of keys and values: shown, parsed, and read from input lines."""

from __future__ import annotations

import io

import pytest

from kafkaredis_cli.domain.encodings import Encoding, parse, show
from kafkaredis_cli.domain.message_json import outgoing_from_json
from kafkaredis_cli.errors import UsageError
from kafkaredis_cli.inputs import read_messages

BINARY = b"\x00\xff\n\xc3\xa9 \\"


@pytest.mark.parametrize("encoding", list(Encoding))
def test_show_then_parse_gives_the_bytes_back_for_hex_and_base64(encoding: Encoding) -> None:
    shown = show(BINARY, encoding)
    assert "\n" not in shown
    if encoding is Encoding.text:
        assert shown == "\\x00\\xff\\x0aé \\"  # escaped for people, not meant to parse back
    else:
        assert parse(shown, encoding, "v") == BINARY
        assert parse(shown.encode(), encoding, "v") == BINARY


@pytest.mark.parametrize(
    ("text", "encoding", "message"),
    [
        ("0g", "hex", "value is not valid hex"),
        ("a", "base64", "value is not valid base64"),
        (b"\xff", "hex", "value is not valid hex"),
        ("x", "rot13", "value: unknown encoding 'rot13'"),
    ],
)
def test_bad_encoded_text_is_named(text: str | bytes, encoding: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(text, encoding, "value")


def test_json_lines_marks_win_over_the_given_encodings() -> None:
    marked = outgoing_from_json(
        '{"key": "AAE=", "value": "00ff", "encoding": {"key": "base64", "value": "hex"}}', "l"
    )
    assert (marked.key, marked.value) == (b"\x00\x01", b"\x00\xff")
    unmarked = outgoing_from_json('{"key": "ff", "value": "AAE="}', "l", "hex", "base64")
    assert (unmarked.key, unmarked.value) == (b"\xff", b"\x00\x01")
    for bad in ('"rot13"', '{"value": ["hex"]}'):
        with pytest.raises(UsageError, match=r"line 4: (key|value): unknown encoding"):
            outgoing_from_json(f'{{"key": "k", "value": "v", "encoding": {bad}}}', "line 4")


def test_text_lines_in_hex_with_a_key_delimiter_and_a_default_key() -> None:
    stream = io.BytesIO(b"6b31:00ff\n\n0a0b\n")
    got = list(
        read_messages(
            stream,
            input_format="text",
            key=b"dflt",
            key_delimiter=b":",
            key_encoding=Encoding.hex,
            value_encoding=Encoding.hex,
        )
    )
    assert [(m.key, m.value) for m in got] == [(b"k1", b"\x00\xff"), (b"dflt", b"\x0a\x0b")]
    bad = read_messages(io.BytesIO(b"00\nxyz\n"), input_format="text", value_encoding=Encoding.hex)
    assert next(bad).value == b"\x00"
    with pytest.raises(UsageError, match="line 2: value is not valid hex"):
        next(bad)
