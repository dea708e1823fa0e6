"""`kafkaredis timer`: the canary. Parses options, runs the loop (canary/), sets the exit status.

Exit statuses: 0 loss within --max-loss (after --count ticks, or stopped by Ctrl-C /
SIGTERM when no --count was given); 1 loss over --max-loss; 2 bad options; 3 bad
settings; 130 stopped by Ctrl-C / SIGTERM before --count ticks were done, or a second
Ctrl-C that aborted the tick in flight (loss over --max-loss still gives 1).
"""

from typing import Annotated

import typer

from kafkaredis_cli.cli.arguments import MAX_SECONDS
from kafkaredis_cli.cli.completion import complete_topic
from kafkaredis_cli.cli.console import info, out, stdout_is_terminal
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.errors import CheckFailed, Interrupted, UsageError

DEFAULT_TIMEOUT_S = 5.0


def timer(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option("--interval", "-i", help="Seconds between ticks (a fixed grid).")
    ] = 5.0,
    count: Annotated[
        int | None, typer.Option("--count", "-c", help="Stop after N ticks (default: run on).")
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic",
            "-t",
            help="Topic (repeatable; rotated tick by tick). Default: KAFKAREDIS_KAFKA__TOPICS.",
            autocompletion=complete_topic,
        ),
    ] = None,
    max_loss: Annotated[
        str,
        typer.Option(
            "--max-loss", help="Lost messages allowed for exit 0: a count (3) or 0.05 / 5%."
        ),
    ] = "0",
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="Seconds a tick waits for delivery and read-back."),
    ] = DEFAULT_TIMEOUT_S,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per tick, then a summary line.")
    ] = False,
    rebalance_leaders: Annotated[
        bool,
        typer.Option(
            "--rebalance-leaders",
            help="Before the run, move each partition's leadership back to its preferred "
            "replica and give a broker that is preferred for none a partition of its own "
            "(adds partitions: for a dedicated canary topic).",
        ),
    ] = False,
    independent_consumer: Annotated[
        bool,
        typer.Option(
            "--independent-consumer/--no-independent-consumer",
            help="Read every partition of the topics beside the per-tick read-back "
            "(duplicates, gaps, late arrivals).",
        ),
    ] = True,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="Serve Prometheus metrics on /metrics at this port."),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option(
            "--metrics-host",
            help="Address /metrics listens on (with --metrics-port).",
            show_default="127.0.0.1",
        ),
    ] = None,
) -> None:
    """Send a test message every --interval seconds, read it back, report latency and loss.

    Exit status: 0 when the loss is within --max-loss, 1 when it is not, 130 when
    Ctrl-C or SIGTERM stopped the run before --count ticks (after the summary).
    """
    from kafkaredis_cli.canary.launch import run_timer
    from kafkaredis_cli.canary.max_loss_option import LossLimit
    from kafkaredis_cli.canary.probe import new_producer_id
    from kafkaredis_cli.canary.reports import TimerOptions, TimerView
    from kafkaredis_cli.canary.signals import stop_on_signals
    from kafkaredis_cli.canary.view import JsonView, LiveView, PlainView

    if not (0 < interval <= MAX_SECONDS):  # also nan and inf
        raise UsageError(
            f"--interval must be more than 0 seconds, at most a week (got {interval:g})"
        )
    if count is not None and count < 1:
        raise UsageError(f"--count must be at least 1 (got {count})")
    if not (0 < timeout <= MAX_SECONDS):  # also nan and inf
        raise UsageError(f"--timeout must be more than 0 seconds, at most a week (got {timeout:g})")
    if metrics_port is not None and not 0 < metrics_port < 65536:
        raise UsageError(f"--metrics-port must be 1..65535 (got {metrics_port})")
    if metrics_host is not None and metrics_port is None:
        raise UsageError("--metrics-host needs --metrics-port (the port /metrics listens on)")
    metrics_host = metrics_host or "127.0.0.1"
    for name in topic or []:
        state(ctx).topic(name)  # checked: a usage error names a bad one
    limit = LossLimit.parse(max_loss)
    settings = state(ctx).settings()

    options = TimerOptions(
        interval_s=interval,
        count=count,
        topics=tuple(dict.fromkeys(topic or settings.kafka.topics)),
        timeout_s=timeout,
        max_loss=limit,
        producer_id=new_producer_id(),
        rebalance_leaders=rebalance_leaders,
        independent_consumer=independent_consumer,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
    )
    view: TimerView
    if as_json:
        view = JsonView()
    elif stdout_is_terminal():
        from rich.console import Console

        view = LiveView(Console(highlight=False))  # wraps lines: the live view redraws them
    else:
        view = PlainView(out)
    metrics = ""
    if metrics_port is not None:
        metrics = f"; metrics on http://{metrics_host}:{metrics_port}/metrics"
    info(
        f"timer: producer id {options.producer_id}, every {interval:g}s to "
        f"{', '.join(options.topics)}; Ctrl-C stops after the tick in flight{metrics}"
    )
    with stop_on_signals() as stopper:
        report = run_timer(settings, options, view, stopper)

    stats = report.stats
    if not report.loss_ok:
        raise CheckFailed(f"lost {stats.lost} of {stats.sent} test messages (--max-loss {limit})")
    if report.stopped_by == "abort":
        raise Interrupted(f"interrupted during tick {stats.ticks + 1}", signum=stopper.first_signal)
    if count is not None and not report.completed:
        raise Interrupted(
            f"stopped by {report.stopped_by} after {stats.ticks} of {count} ticks",
            signum=stopper.first_signal,
        )
