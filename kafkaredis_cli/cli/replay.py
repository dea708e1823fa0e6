"""`kafkaredis cache replay ID`: produce a cached message again, as a new message."""

from typing import Annotated

import typer

from kafkaredis_cli.cli.arguments import seconds
from kafkaredis_cli.cli.completion import complete_cache_key, complete_topic
from kafkaredis_cli.cli.options import JsonOpt, NoVerifyOpt, PartitionOpt, TtlOpt
from kafkaredis_cli.cli.produce_exits import message_exit
from kafkaredis_cli.cli.state import state

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
    partition: PartitionOpt = None,
    no_verify: NoVerifyOpt = False,
    ttl: TtlOpt = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            parser=seconds("--timeout", 0.1),
            help="Seconds to wait for delivery and read-back.",
        ),
    ] = REPLAY_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """Produce a cached message's key, value and headers again, with a new id and a
    kafkaredis-replay-of header; cached and read back like `produce`."""
    from kafkaredis_cli.cli import render  # not loaded for --help
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
    error = message_exit(produced, "replayed")
    if error is not None:
        raise error
