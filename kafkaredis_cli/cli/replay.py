"""`kafkaredis cache replay ID`: produce a cached message again, as a new message."""

from __future__ import annotations

from typing import Annotated

import typer

from kafkaredis_cli.cli import render
from kafkaredis_cli.cli.arguments import seconds
from kafkaredis_cli.cli.completion import complete_cache_key, complete_topic
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.errors import CheckFailed, RedisError

REPLAY_TIMEOUT_S = 10.0


def replay(
    ctx: typer.Context,
    message_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A cached message's id, or latest:TOPIC.",
            autocompletion=complete_cache_key,
        ),
    ],
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic",
            "-t",
            help="Produce to this topic (default: the original's).",
            autocompletion=complete_topic,
        ),
    ] = None,
    partition: Annotated[
        int | None, typer.Option("--partition", "-p", min=0, help="Partition (default: by key).")
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Do not read the new message back.")
    ] = False,
    ttl: Annotated[
        int | None,
        typer.Option(
            "--ttl",
            min=1,
            help="TTL of the new Redis record, seconds (default: KAFKAREDIS_REDIS__TTL_S).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            parser=seconds("--timeout", 0.1),
            help="Seconds to wait for delivery and read-back.",
        ),
    ] = REPLAY_TIMEOUT_S,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Produce a cached message's key, value and headers again, with a new id and a
    kafkaredis-replay-of header; cached and read back like `produce`."""
    from kafkaredis_cli.domain.replay import ReplayMessage

    cli = state(ctx)
    target = cli.topic(topic) if topic is not None else None
    app = cli.app("single", delivery_timeout_s=timeout)
    try:
        result = app.mediator.send(
            ReplayMessage(
                id=message_id,
                topic=target,
                partition=partition,
                verify=not no_verify,
                ttl_seconds=ttl,
                timeout_s=timeout,
            )
        )
    finally:
        app.close()
    produced = result.produced
    render.produce_result(produced, app.keys, as_json, replay_of=result.original.id)
    if produced.cache_error:
        raise RedisError(f"replayed, but not cached: {produced.cache_error}")
    if produced.verified is False:
        raise CheckFailed(f"replayed, but not verified: {produced.verify_error}")
