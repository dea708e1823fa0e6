"""--key-encoding / --value-encoding against the real broker: binary keys and values survive
consume -> produce in every encoding, checked byte for byte with confluent-kafka."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Producer

from kafkaredis_cli.domain.messages import ID_HEADER, SENT_AT_HEADER
from tests.conftest import CliResult, Services, ok
from tests.topics import read_topic

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]

# Keys and values no text line could carry: newlines, NUL, invalid UTF-8, empty, None.
MESSAGES: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]] = [
    (b"\xff\xfe\x00key", b"line one\nline two\r\n\x00\xff\xc3\x28", [("bin", b"\x80\n")]),
    (None, os.urandom(300), []),
    (b"plain", b"", [("t", b"text")]),
    (b"\n", "héllo ✓".encode(), [("bin", b"\xff"), ("bin", b"\x00")]),
]


def seed(services: Services, topic: str) -> None:
    producer = Producer({"bootstrap.servers": services.bootstrap})
    for key, value, headers in MESSAGES:
        producer.produce(topic, value, key, headers=headers)
    assert producer.flush(30) == 0


def user_headers(msg: Any) -> list[tuple[str, bytes | None]]:
    return [h for h in msg.headers() or [] if h[0] not in (ID_HEADER, SENT_AT_HEADER)]


def essence(messages: list[Any]) -> list[tuple[Any, ...]]:
    return [(m.key(), m.value(), user_headers(m)) for m in messages]


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_json_lines_round_trip_binary_keys_values_and_headers(
    cli: Cli, services: Services, topic: str, encoding: str
) -> None:
    seed(services, topic)
    dump = ok(
        cli(
            "consume",
            "--from",
            "beginning",
            "-e",
            "--no-group",
            "-f",
            "json",
            "--key-encoding",
            encoding,
            "--value-encoding",
            encoding,
        )
    ).stdout
    lines = [json.loads(line) for line in dump.splitlines()]
    assert len(lines) == len(MESSAGES)
    first = lines[0]
    assert first["encoding"] == {"key": encoding, "value": encoding}
    decode = bytes.fromhex if encoding == "hex" else base64.b64decode
    assert decode(first["key"]) == MESSAGES[0][0] and decode(first["value"]) == MESSAGES[0][1]
    assert lines[1]["key"] is None and lines[1]["encoding"] == {"value": encoding}

    copy = f"{topic}-copy"
    summary = ok(
        cli("produce", "--file", "-", "--input-format", "json", "-t", copy, "--json", input=dump)
    )
    assert json.loads(summary.stdout)["verified"] == len(MESSAGES)
    assert essence(read_topic(services.bootstrap, copy)) == [(k, v, h) for k, v, h in MESSAGES]


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_raw_values_round_trip_through_text_lines(
    cli: Cli, services: Services, topic: str, encoding: str
) -> None:
    seed(services, topic)
    args = ("--from", "beginning", "-e", "--no-group", "--value-encoding", encoding)
    raw = ok(cli("consume", "-f", "raw", *args)).stdout
    assert len(raw.splitlines()) == len(MESSAGES)  # one line each, newlines and all
    copy = f"{topic}-copy"
    ok(cli("produce", "--file", "-", "-t", copy, "--value-encoding", encoding, input=raw))
    # An empty value is an empty line, which a batch skips: every other value is back.
    values = [m.value() for m in read_topic(services.bootstrap, copy)]
    assert values == [v for _k, v, _h in MESSAGES if v]


def test_text_lines_with_encoded_keys_and_single_messages(
    cli: Cli, services: Services, topic: str
) -> None:
    pairs = [(b"\x00\xffk", b"\n\xfe value"), (b"k2", bytes(range(256)))]
    lines = "".join(f"{k.hex()}:{base64.b64encode(v).decode()}\n" for k, v in pairs)
    args = ("-K", ":", "--key-encoding", "hex", "--value-encoding", "base64")
    ok(cli("produce", "--file", "-", *args, input=lines))
    ok(
        cli(
            "produce",
            "c3f8ff0a",
            "-k",
            "AAE=",
            "--value-encoding",
            "hex",
            "--key-encoding",
            "base64",
        )
    )
    got = read_topic(services.bootstrap, topic)
    assert [(m.key(), m.value()) for m in got] == [*pairs, (b"\x00\x01", b"\xc3\xf8\xff\x0a")]
    # JSON lines without an encoding mark are read in the encodings given.
    copy = f"{topic}-json"
    line = json.dumps({"key": "ff00", "value": "0a0b"})
    ok(
        cli(
            "produce",
            "--file",
            "-",
            "--input-format",
            "json",
            "-t",
            copy,
            "--key-encoding",
            "hex",
            "--value-encoding",
            "hex",
            input=line + "\n",
        )
    )
    [msg] = read_topic(services.bootstrap, copy)
    assert (msg.key(), msg.value()) == (b"\xff\x00", b"\x0a\x0b")


def test_text_mode_shows_non_utf8_escaped_and_json_keeps_it_as_marked_base64(
    cli: Cli, services: Services, topic: str
) -> None:
    seed(services, topic)
    table = ok(cli("consume", "--from", "beginning", "-e", "--no-group")).stdout
    lines = table.splitlines()
    assert len(lines) == len(MESSAGES)  # newlines in values are escaped, not printed
    assert lines[0].endswith(
        r"key=\xff\xfe\x00key  headers=bin=\x80\x0a  "
        r"line one\x0aline two\x0d\x0a\x00\xff\xc3("
    )
    assert lines[3].endswith("key=\\x0a  headers=bin=\\xff,bin=\\x00  héllo ✓")
    hexed = ok(
        cli(
            "consume",
            "--from",
            "beginning",
            "-e",
            "--no-group",
            "--value-encoding",
            "hex",
            "--count",
            "1",
        )
    ).stdout
    assert hexed.rstrip("\n").endswith(MESSAGES[0][1].hex())
    dump = ok(cli("consume", "--from", "beginning", "-e", "--no-group", "-f", "json")).stdout
    first = json.loads(dump.splitlines()[0])
    assert first["encoding"] == {"key": "base64", "value": "base64"}
    assert base64.b64decode(first["value"]) == MESSAGES[0][1]


def test_bad_encoded_input_is_named_with_its_line(cli: Cli, services: Services, topic: str) -> None:
    result = cli("produce", "--file", "-", "--value-encoding", "hex", input="00ff\nzz\n0102\n")
    assert result.exit_code == 2
    assert "line 2: value is not valid hex" in result.stderr
    assert "Traceback" not in result.stderr
    assert [m.value() for m in read_topic(services.bootstrap, topic)] == [b"\x00\xff"]
    single = cli("produce", "not base64!", "--value-encoding", "base64")
    assert single.exit_code == 2 and "MESSAGE is not valid base64" in single.stderr
    marked = cli(
        "produce",
        "--file",
        "-",
        "--input-format",
        "json",
        "-t",
        f"{topic}-j",
        input=json.dumps({"value": "x", "encoding": {"value": "rot13"}}) + "\n",
    )
    assert marked.exit_code == 2 and "unknown encoding 'rot13'" in marked.stderr
    choice = cli("consume", "--value-encoding", "utf16")
    assert choice.exit_code == 2
