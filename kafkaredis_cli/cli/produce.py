"""`kafkaredis produce`: one message from the argument, or a batch from --file or stdin.

This module parses; cli/produce_send.py sends (one message or a batch) and prints."""

from enum import StrEnum
from functools import partial
from typing import Annotated

import typer

from kafkaredis_cli.cli.arguments import argument_bytes, header_arguments, seconds
from kafkaredis_cli.cli.console import stdin_is_terminal
from kafkaredis_cli.cli.options import (
    JsonOpt,
    KeyEncodingOpt,
    NoVerifyOpt,
    PartitionOpt,
    TopicOpt,
    TtlOpt,
    ValueEncodingOpt,
)
from kafkaredis_cli.cli.produce_send import Sending, send_batch, send_message
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.domain.encodings import Encoding, parse
from kafkaredis_cli.errors import UsageError

SINGLE_TIMEOUT_S = 10.0
BATCH_TIMEOUT_S = 30.0


class InputFormat(StrEnum):
    text = "text"
    json = "json"


MessageArg = Annotated[
    str | None,
    typer.Argument(metavar="MESSAGE", help="The message value (no MESSAGE: lines from stdin)."),
]
KeyOpt = Annotated[str | None, typer.Option("--key", "-k", help="Message key.")]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option("--header", "-H", metavar="KEY=VALUE", help="Header (repeatable)."),
]
FileOpt = Annotated[
    str | None,
    typer.Option(
        "--file", "-l", metavar="PATH", help="Batch: one message a line (as kcat -l); - for stdin."
    ),
]
InputFormatOpt = Annotated[
    InputFormat,
    typer.Option("--input-format", help="text lines, or JSON lines {key, value, headers}."),
]
KeyDelimiterOpt = Annotated[
    str | None, typer.Option("--key-delimiter", "-K", help="Text lines: split key<DELIM>value.")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not keep a copy in Redis.")]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        parser=seconds("--timeout", 0.1),
        help="Seconds to wait for delivery and read-back (default 10; a batch: 30).",
    ),
]


def produce(
    ctx: typer.Context,
    message: MessageArg = None,
    topic: TopicOpt = None,
    key: KeyOpt = None,
    header: HeaderOpt = None,
    partition: PartitionOpt = None,
    file: FileOpt = None,
    input_format: InputFormatOpt = InputFormat.text,
    key_delimiter: KeyDelimiterOpt = None,
    no_verify: NoVerifyOpt = False,
    no_cache: NoCacheOpt = False,
    ttl: TtlOpt = None,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
    key_encoding: KeyEncodingOpt = Encoding.text,
    value_encoding: ValueEncodingOpt = Encoding.text,
) -> None:
    """Send a message to Kafka, keep its record in Redis, and read it back."""
    cli = state(ctx)
    headers = header_arguments(header)
    file = _batch_input(message, file)
    _check_key_delimiter(key_delimiter, message, input_format)
    sending = Sending(cli.topic(topic), not no_verify, not no_cache, ttl, as_json)
    key_bytes = parse(argument_bytes(key), key_encoding, "--key") if key is not None else None
    if message is not None:
        from kafkaredis_cli.domain.messages import OutgoingMessage

        value = parse(argument_bytes(message), value_encoding, "MESSAGE")
        one = OutgoingMessage(value, key_bytes, headers, partition)
        send_message(cli, sending, one, timeout or SINGLE_TIMEOUT_S)
        return
    from kafkaredis_cli.inputs import read_messages

    read = partial(
        read_messages,
        input_format=input_format.value,
        key=key_bytes,
        key_delimiter=argument_bytes(key_delimiter) if key_delimiter else None,
        headers=headers,
        partition=partition,
        key_encoding=key_encoding,
        value_encoding=value_encoding,
    )
    send_batch(cli, sending, file or "-", read, timeout or BATCH_TIMEOUT_S)


def _batch_input(message: str | None, file: str | None) -> str | None:
    """The batch's input (a path, or - for stdin), or None for one MESSAGE."""
    if message is not None and file is not None:
        raise UsageError("give either a MESSAGE or --file, not both")
    if message is None and file is None:
        if stdin_is_terminal():
            raise UsageError(
                "give a MESSAGE, pipe lines into stdin, or --file PATH (--file - reads stdin)"
            )
        return "-"  # as kcat -P: lines piped in are a batch
    return file


def _check_key_delimiter(
    key_delimiter: str | None, message: str | None, input_format: InputFormat
) -> None:
    if key_delimiter == "":
        raise UsageError("--key-delimiter must not be empty")
    if key_delimiter is not None and message is not None:
        raise UsageError("--key-delimiter splits input lines: use --key with a MESSAGE")
    if key_delimiter is not None and input_format is InputFormat.json:
        raise UsageError("--key-delimiter and --input-format json contradict each other")
