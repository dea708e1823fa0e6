"""Batch input: lines of a file or stdin, streamed (never read whole), as messages."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from kafkaredis_cli.domain.encodings import Encoding, parse
from kafkaredis_cli.domain.message_json import outgoing_from_json
from kafkaredis_cli.domain.messages import Headers, OutgoingMessage
from kafkaredis_cli.errors import UsageError, shown
from kafkaredis_cli.signals import StopRequest

InputFormat = Literal["text", "json"]


def open_input(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    file = Path(path)
    name = shown(path)
    try:
        if not file.exists():
            raise UsageError(f"--file {name}: no such file")
        if file.is_dir():
            raise UsageError(f"--file {name}: is a directory")
        return file.open("rb")
    except OSError as exc:  # not readable, a name too long
        raise UsageError(f"--file {name}: {exc.strerror}") from None
    except ValueError:  # a NUL in the name
        raise UsageError(f"--file {name}: not a file name") from None


class InputInterrupted(Exception):
    """A stop signal arrived while waiting for input: the input ends there."""


class StopFlag(StopRequest):
    """A stop request for a batch read from input (pass it as `should_stop`).

    A signal that arrives while the input is waited for (stdin of `tail -f`, say)
    interrupts that wait: the input ends there. Anywhere else it only sets the flag,
    so the batch stops between two messages and still flushes and counts what it sent.
    """

    def __init__(self) -> None:
        super().__init__()
        self._waiting = False

    def after_first_signal(self) -> None:
        if self._waiting:
            self._waiting = False
            raise InputInterrupted

    def next_line(self, lines: Iterator[bytes]) -> bytes:
        """The next line; StopIteration at the end, InputInterrupted on a signal."""
        if self.signals:
            raise InputInterrupted
        self._waiting = True
        try:
            return next(lines)
        finally:
            self._waiting = False


class BadLine(UsageError):
    """A line that cannot be a message: the input stops there. `not_sent` counts it and
    every non-empty line after it (read to the end, or to a stop signal, never sent)."""

    def __init__(self, message: str, not_sent: int) -> None:
        super().__init__(message)
        self.not_sent = not_sent


def _bad_line(error: UsageError, rest: Iterator[bytes]) -> BadLine:
    not_sent = 1 + sum(1 for raw in rest if raw.strip(b"\r\n"))
    return BadLine(error.message, not_sent)


def _lines(stream: Iterable[bytes], stop: StopFlag | None) -> Iterator[bytes]:
    lines = iter(stream)
    while True:
        try:
            yield stop.next_line(lines) if stop is not None else next(lines)
        except (StopIteration, InputInterrupted):
            return


def read_messages(
    stream: BinaryIO,
    *,
    input_format: InputFormat,
    key: bytes | None = None,
    key_delimiter: bytes | None = None,
    headers: Headers = (),
    partition: int | None = None,
    stop: StopFlag | None = None,
    key_encoding: Encoding = Encoding.text,
    value_encoding: Encoding = Encoding.text,
) -> Iterator[OutgoingMessage]:
    """One message a line; empty lines are skipped. JSON errors name the line number.

    Text lines' keys and values are in `key_encoding` / `value_encoding` (text: the bytes
    as they are); JSON lines' are, unless the line marks its own `encoding`."""
    if input_format == "text" and (key_encoding, value_encoding) != (Encoding.text,) * 2:
        yield from _encoded_lines(
            stream, stop, key, key_delimiter, headers, partition, key_encoding, value_encoding
        )
        return
    lines = _lines(stream, stop)
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\n").rstrip(b"\r")
        if not line:
            continue
        if input_format == "json":
            try:
                message = _json_line(line, number, key_encoding, value_encoding)
            except UsageError as exc:
                raise _bad_line(exc, lines) from None
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
        yield OutgoingMessage(line, line_key, headers, partition)  # positional: faster


def _json_line(
    line: bytes, number: int, key_encoding: Encoding, value_encoding: Encoding
) -> OutgoingMessage:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"line {number}: not UTF-8 (JSON input must be)") from None
    return outgoing_from_json(text, f"line {number}", key_encoding, value_encoding)


def _encoded_lines(
    stream: BinaryIO,
    stop: StopFlag | None,
    key: bytes | None,
    key_delimiter: bytes | None,
    headers: Headers,
    partition: int | None,
    key_encoding: Encoding,
    value_encoding: Encoding,
) -> Iterator[OutgoingMessage]:
    """Text lines whose key and value are hex or base64 (the plain path stays lean)."""
    lines = _lines(stream, stop)
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\n").rstrip(b"\r")
        if not line:
            continue
        line_key = key
        try:
            if key_delimiter is not None:
                found, sep, rest = line.partition(key_delimiter)
                if sep:
                    line_key, line = parse(found, key_encoding, f"line {number}: key"), rest
            value = parse(line, value_encoding, f"line {number}: value")
        except UsageError as exc:
            raise _bad_line(exc, lines) from None
        yield OutgoingMessage(value, line_key, headers, partition)
