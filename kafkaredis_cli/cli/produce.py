"""`kafkaredis produce`: one message from the argument, or a batch from --file or stdin."""

from __future__ import annotations

from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from kafkaredis_cli.cli import render
from kafkaredis_cli.cli.arguments import argument_bytes, header_arguments, seconds
from kafkaredis_cli.cli.completion import complete_topic
from kafkaredis_cli.cli.console import err, stderr_is_terminal, stdin_is_terminal
from kafkaredis_cli.cli.encoding_options import KeyEncodingOpt, ValueEncodingOpt
from kafkaredis_cli.cli.gctune import fewer_collections
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.domain.encodings import Encoding, parse
from kafkaredis_cli.errors import (
    CheckFailed,
    Interrupted,
    KafkaError,
    RedisError,
    UnknownOutcome,
    UsageError,
)
from kafkaredis_cli.signals import ForcedStop, stop_on_signals

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kafkaredis_cli.domain.commands import BatchProgress


SINGLE_TIMEOUT_S = 10.0
BATCH_TIMEOUT_S = 30.0


class InputFormat(StrEnum):
    text = "text"
    json = "json"


def produce(
    ctx: typer.Context,
    message: Annotated[
        str | None,
        typer.Argument(metavar="MESSAGE", help="The message value (no MESSAGE: lines from stdin)."),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic",
            "-t",
            help="Topic (default: the first of KAFKAREDIS_KAFKA__TOPICS).",
            autocompletion=complete_topic,
        ),
    ] = None,
    key: Annotated[str | None, typer.Option("--key", "-k", help="Message key.")] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", metavar="KEY=VALUE", help="Header (repeatable)."),
    ] = None,
    partition: Annotated[
        int | None, typer.Option("--partition", "-p", min=0, help="Partition (default: by key).")
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            "-l",
            metavar="PATH",
            help="Batch: one message a line (as kcat -l); - for stdin.",
        ),
    ] = None,
    input_format: Annotated[
        InputFormat,
        typer.Option("--input-format", help="text lines, or JSON lines {key, value, headers}."),
    ] = InputFormat.text,
    key_delimiter: Annotated[
        str | None, typer.Option("--key-delimiter", "-K", help="Text lines: split key<DELIM>value.")
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Do not read the message back.")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not keep a copy in Redis.")
    ] = False,
    ttl: Annotated[
        int | None,
        typer.Option(
            "--ttl",
            min=1,
            help="TTL of the Redis record, seconds (default: KAFKAREDIS_REDIS__TTL_S).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            parser=seconds("--timeout", 0.1),
            help="Seconds to wait for delivery and read-back (default 10; a batch: 30).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    key_encoding: KeyEncodingOpt = Encoding.text,
    value_encoding: ValueEncodingOpt = Encoding.text,
) -> None:
    """Send a message to Kafka, keep its record in Redis, and read it back."""
    from kafkaredis_cli.domain.commands import BatchResult, ProduceBatch, ProduceMessage
    from kafkaredis_cli.domain.messages import OutgoingMessage
    from kafkaredis_cli.inputs import StopFlag, open_input, read_messages

    cli = state(ctx)
    headers = header_arguments(header)
    if message is not None and file is not None:
        raise UsageError("give either a MESSAGE or --file, not both")
    if message is None and file is None:
        if stdin_is_terminal():
            raise UsageError(
                "give a MESSAGE, pipe lines into stdin, or --file PATH (--file - reads stdin)"
            )
        file = "-"  # as kcat -P: lines piped in are a batch
    if key_delimiter == "":
        raise UsageError("--key-delimiter must not be empty")
    if key_delimiter is not None and message is not None:
        raise UsageError("--key-delimiter splits input lines: use --key with a MESSAGE")
    if key_delimiter is not None and input_format is InputFormat.json:
        raise UsageError("--key-delimiter and --input-format json contradict each other")
    topic = cli.topic(topic)
    key_bytes = parse(argument_bytes(key), key_encoding, "--key") if key is not None else None

    if message is not None:
        timeout = timeout or SINGLE_TIMEOUT_S
        app = cli.app("single", delivery_timeout_s=timeout, will_read_back=not no_verify)
        try:
            result = app.mediator.send(
                ProduceMessage(
                    topic=topic,
                    message=OutgoingMessage(
                        value=parse(argument_bytes(message), value_encoding, "MESSAGE"),
                        key=key_bytes,
                        headers=headers,
                        partition=partition,
                    ),
                    verify=not no_verify,
                    cache=not no_cache,
                    ttl_seconds=ttl,
                    timeout_s=timeout,
                )
            )
        finally:
            app.close()
        render.produce_result(result, app.keys, as_json)
        if result.cache_error:
            raise RedisError(f"delivered, but not cached: {result.cache_error}")
        if result.verified is False:
            raise CheckFailed(f"delivered, but not verified: {result.verify_error}")
        return

    stream = open_input(file or "-")
    timeout = timeout or BATCH_TIMEOUT_S
    app = cli.app("batch", delivery_timeout_s=timeout)
    try:
        with (
            stop_on_signals(StopFlag()) as should_stop,
            _progress_bar() as progress,
            fewer_collections(),
        ):
            batch = app.mediator.send(
                ProduceBatch(
                    topic=topic,
                    messages=read_messages(
                        stream,
                        input_format=input_format.value,
                        key=key_bytes,
                        key_delimiter=argument_bytes(key_delimiter) if key_delimiter else None,
                        headers=headers,
                        partition=partition,
                        stop=should_stop,
                        key_encoding=key_encoding,
                        value_encoding=value_encoding,
                    ),
                    verify=not no_verify,
                    cache=not no_cache,
                    ttl_seconds=ttl,
                    timeout_s=timeout,
                    progress=progress,
                    should_stop=should_stop,
                )
            )
    except ForcedStop as forced:
        app.producer.abandon()  # a second signal: leave now, in-flight outcomes unknown
        if isinstance(forced.partial, BatchResult):
            render.batch_result(forced.partial, as_json)  # the summary, whatever stops it
        raise
    finally:
        app.close()
        if stream is not None and file != "-":
            stream.close()
    render.batch_result(batch, as_json)
    if batch.input_error:
        raise UsageError(
            f"input stopped at {batch.input_error}; {batch.not_sent} line(s) from there not sent"
        )
    if batch.stop_error is not None:
        stop = batch.stop_error
        stop.message = (
            f"batch stopped at message {batch.sent}: {stop.message}; "
            f"{batch.not_sent} line(s) after it not sent"
        )
        raise stop
    if batch.interrupted:
        raise Interrupted(
            "interrupted: input not finished; every message read was flushed or counted",
            signum=should_stop.first_signal,
        )
    if batch.failed:
        raise KafkaError(f"{batch.failed} of {batch.read} messages not delivered")
    if batch.unknown:
        raise UnknownOutcome(
            f"{batch.unknown} of {batch.read} messages with an unknown outcome "
            "(delivery timed out: each may or may not be on the broker)"
        )
    if batch.cache_failed:
        raise RedisError(f"{batch.cache_failed} delivered messages could not be cached")
    if batch.verify_asked and batch.verified < batch.delivered:
        raise CheckFailed(f"{batch.delivered - batch.verified} delivered messages not read back")


@contextmanager
def _progress_bar() -> Iterator[Callable[[BatchProgress], None] | None]:
    if not stderr_is_terminal():
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("producing", total=None)

        def update(p: BatchProgress) -> None:
            bar.update(
                task,
                description=f"read {p.read:,}  delivered {p.delivered:,}  failed {p.failed:,}"
                f"  unknown outcome {p.unknown:,}",
            )

        yield update
