"""Batch input: lines of a file or stdin, streamed (never read whole), as messages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from kafkaredis_cli.domain.messages import Headers, OutgoingMessage
from kafkaredis_cli.domain.records import outgoing_from_json
from kafkaredis_cli.errors import UsageError

InputFormat = Literal["text", "json"]


def open_input(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    file = Path(path)
    if not file.exists():
        raise UsageError(f"--file {path}: no such file")
    if file.is_dir():
        raise UsageError(f"--file {path}: is a directory")
    try:
        return file.open("rb")
    except OSError as exc:
        raise UsageError(f"--file {path}: {exc.strerror}") from None


def read_messages(
    stream: BinaryIO,
    *,
    input_format: InputFormat,
    key: bytes | None = None,
    key_delimiter: bytes | None = None,
    headers: Headers = (),
    partition: int | None = None,
) -> Iterator[OutgoingMessage]:
    """One message a line; empty lines are skipped. JSON errors name the line number."""
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip(b"\n").rstrip(b"\r")
        if not line:
            continue
        if input_format == "json":
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"line {number}: not UTF-8 (JSON input must be)") from None
            message = outgoing_from_json(text, f"line {number}")
            yield OutgoingMessage(
                value=message.value,
                key=message.key if message.key is not None else key,
                headers=(*headers, *message.headers),
                partition=partition,
            )
            continue
        line_key = key
        if key_delimiter is not None:
            found, sep, rest = line.partition(key_delimiter)
            if sep:
                line_key, line = found, rest
        yield OutgoingMessage(value=line, key=line_key, headers=headers, partition=partition)
