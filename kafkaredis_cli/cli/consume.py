"""`kafkaredis consume`: read a topic, update the Redis records, commit after handling."""

from enum import StrEnum
from typing import Annotated

import typer

from kafkaredis_cli.cli.arguments import seconds
from kafkaredis_cli.cli.console import info
from kafkaredis_cli.cli.consume_share import (
    PROTOCOL_HELP,
    SHARE_HELP,
    apply_group_protocol,
    check_share_options,
    run_share,
)
from kafkaredis_cli.cli.gctune import fewer_collections
from kafkaredis_cli.cli.options import KeyEncodingOpt, TopicOpt, ValueEncodingOpt
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.domain.encodings import Encoding
from kafkaredis_cli.errors import CheckFailed, Interrupted, UsageError
from kafkaredis_cli.signals import StopRequest, stop_on_signals


class GroupProtocol(StrEnum):
    classic = "classic"
    consumer = "consumer"


class Format(StrEnum):
    table = "table"
    json = "json"
    raw = "raw"


def consume(
    ctx: typer.Context,
    topic: TopicOpt = None,
    group: Annotated[
        str | None,
        typer.Option("--group", "-g", help="Consumer group (default: KAFKAREDIS_KAFKA__GROUP_ID)."),
    ] = None,
    no_group: Annotated[
        bool, typer.Option("--no-group", help="Read without a group: nothing committed.")
    ] = False,
    share_group: Annotated[
        str | None, typer.Option("--share-group", metavar="GROUP", help=SHARE_HELP)
    ] = None,
    group_protocol: Annotated[
        GroupProtocol | None, typer.Option("--group-protocol", help=PROTOCOL_HELP)
    ] = None,
    start: Annotated[
        str,
        typer.Option(
            "--from",
            "-o",
            help="beginning | end | stored | OFFSET | -N | @epoch-ms | ISO time | now | -15m.",
        ),
    ] = "stored",
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Stop each partition there, then exit: OFFSET (the last read) | @epoch-ms | "
            "ISO time | now | -15m.",
        ),
    ] = None,
    partition: Annotated[
        int | None, typer.Option("--partition", "-p", min=0, help="Only this partition.")
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", "-c", help="Stop after N messages.")
    ] = None,
    exit_at_end: Annotated[
        bool, typer.Option("--exit-at-end", "-e", help="Stop at the end of every partition.")
    ] = False,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="table, json (one object a line) or raw (values)."),
    ] = Format.table,
    as_json: Annotated[
        bool, typer.Option("--json", help="Same as --format json, as on every data command.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            parser=seconds("--timeout"),
            help="Stop after this many seconds with nothing new.",
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not update Redis records.")
    ] = False,
    key_encoding: KeyEncodingOpt = Encoding.text,
    value_encoding: ValueEncodingOpt = Encoding.text,
    filter_key: Annotated[
        str | None, typer.Option("--filter-key", metavar="GLOB", help="Only keys matching.")
    ] = None,
    filter_value: Annotated[
        str | None,
        typer.Option("--filter-value", metavar="GLOB", help="Only values matching."),
    ] = None,
    filter_header: Annotated[
        list[str] | None,
        typer.Option(
            "--filter-header",
            metavar="NAME=GLOB",
            help="Only with such a header (repeatable; every filter must match).",
        ),
    ] = None,
) -> None:
    """Read messages; records of kafkaredis messages in Redis get their consumed time.
    In a consumer group (-g), or a share group (--share-group: librdkafka preview)."""
    from kafkaredis_cli.cli import render
    from kafkaredis_cli.domain.commands import ConsumeMessage
    from kafkaredis_cli.domain.filters import MessageFilter
    from kafkaredis_cli.domain.positions import End, Start

    cli = state(ctx)
    if count is not None and count < 1:
        raise UsageError("--count must be at least 1")
    if timeout is not None and timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds")
    if group is not None and no_group:
        raise UsageError("--group and --no-group contradict each other: give one")
    if as_json:
        if fmt not in (Format.table, Format.json):
            raise UsageError(f"--json and --format {fmt.value} contradict each other: give one")
        fmt = Format.json
    latest = False
    if share_group is not None:
        latest = check_share_options(
            group=group,
            no_group=no_group,
            protocol=group_protocol,
            start=start,
            end=end,
            exit_at_end=exit_at_end,
            partition=partition,
        )
    begin = Start.parse(start)
    until = End.parse(end) if end is not None else None
    match = MessageFilter.parse(filter_key, filter_value, filter_header)
    settings = cli.settings()
    topic = cli.topic(topic)
    show = render.consumed_writer(fmt.value, key_encoding, value_encoding)
    if share_group is not None:
        run_share(
            cli,
            topic=topic,
            group=cli.group(share_group, "--share-group"),
            latest=latest,
            count=count,
            timeout=timeout,
            update_cache=not no_cache,
            show=show,
            match=match,
        )
        return
    apply_group_protocol(cli, group_protocol.value if group_protocol else None, no_group)
    group_id = None if no_group else settings.kafka.group_id
    if group is not None and not no_group:
        group_id = state(ctx).group(group)
    app = cli.app()
    try:
        with stop_on_signals(StopRequest()) as stop, fewer_collections():
            result = app.mediator.send(
                ConsumeMessage(
                    topic=topic,
                    group=group_id,
                    start=begin,
                    partition=partition,
                    count=count,
                    exit_at_end=exit_at_end,
                    timeout_s=timeout,
                    update_cache=not no_cache,
                    show=show,
                    should_stop=stop,
                    until=until,
                    match=match,
                )
            )
    finally:
        app.close()
    committed = f", offsets committed for group {group_id}" if group_id else ""
    updated = f"{result.cache_updated} Redis record(s) updated"
    if result.no_record:
        updated += (
            f" ({result.no_record} had no Redis record: not cached, expired or not written yet)"
        )
    filtered = f" ({result.filtered_out} more filtered out)" if match is not None else ""
    info(f"consumed {result.consumed} message(s){filtered}, {updated}{committed}")
    if result.stopped_by == "interrupt" and (count is not None or exit_at_end or until):
        # Following a topic ends only by a signal (status 0); a bounded read cut short
        # by one is interrupted: 130 for Ctrl-C, 143 for SIGTERM.
        raise Interrupted("interrupted before the end of the read", signum=stop.first_signal)
    if result.stopped_by == "timeout" and count is not None and result.consumed < count:
        raise CheckFailed(
            f"timed out after {timeout:g}s with {result.consumed} of {count} messages"
        )
