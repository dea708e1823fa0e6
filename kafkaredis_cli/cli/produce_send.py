"""`produce`'s two paths once its options are parsed: one message, or a batch read from a
file or stdin; each prints its result and raises what it means for the exit status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkaredis_cli.cli.console import err, stderr_is_terminal
from kafkaredis_cli.cli.gctune import fewer_collections
from kafkaredis_cli.cli.produce_exits import batch_exit, message_exit
from kafkaredis_cli.signals import ForcedStop, stop_on_signals

if TYPE_CHECKING:
    from kafkaredis_cli.cli.state import CliState
    from kafkaredis_cli.domain.commands import BatchProgress
    from kafkaredis_cli.domain.messages import OutgoingMessage

# inputs.read_messages with the options bound: called as read(stream, stop=flag)
ReadMessages = Callable[..., Iterator["OutgoingMessage"]]


@dataclass(frozen=True)
class Sending:
    """What both paths take alike from the options."""

    topic: str
    verify: bool
    cache: bool
    ttl_seconds: int | None
    as_json: bool


def send_message(
    cli: CliState, sending: Sending, message: OutgoingMessage, timeout_s: float
) -> None:
    from kafkaredis_cli.cli import render  # not loaded for --help
    from kafkaredis_cli.domain.commands import ProduceMessage

    app = cli.app("single", delivery_timeout_s=timeout_s, will_read_back=sending.verify)
    try:
        result = app.mediator.send(
            ProduceMessage(
                topic=sending.topic,
                message=message,
                verify=sending.verify,
                cache=sending.cache,
                ttl_seconds=sending.ttl_seconds,
                timeout_s=timeout_s,
            )
        )
    finally:
        app.close()
    render.produce_result(result, app.keys, sending.as_json)
    error = message_exit(result)
    if error is not None:
        raise error


def send_batch(
    cli: CliState, sending: Sending, file: str, read: ReadMessages, timeout_s: float
) -> None:
    from kafkaredis_cli.cli import render  # not loaded for --help
    from kafkaredis_cli.domain.commands import BatchResult, ProduceBatch
    from kafkaredis_cli.inputs import StopFlag, open_input

    stream = open_input(file)
    app = cli.app("batch", delivery_timeout_s=timeout_s)
    try:
        with (
            stop_on_signals(StopFlag()) as should_stop,
            _progress_bar() as progress,
            fewer_collections(),
        ):
            batch = app.mediator.send(
                ProduceBatch(
                    topic=sending.topic,
                    messages=read(stream, stop=should_stop),
                    verify=sending.verify,
                    cache=sending.cache,
                    ttl_seconds=sending.ttl_seconds,
                    timeout_s=timeout_s,
                    progress=progress,
                    should_stop=should_stop,
                )
            )
    except ForcedStop as forced:
        app.producer.abandon()  # a second signal: leave now, in-flight outcomes unknown
        if isinstance(forced.partial, BatchResult):
            render.batch_result(forced.partial, sending.as_json)  # the summary, whatever stops it
        raise
    finally:
        app.close()
        if stream is not None and file != "-":
            stream.close()
    render.batch_result(batch, sending.as_json)
    error = batch_exit(batch, should_stop.first_signal)
    if error is not None:
        raise error


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
