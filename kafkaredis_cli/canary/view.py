"""How a run looks: a live rich view on a terminal, plain lines otherwise, or JSON lines.

Every view ends with the same summary; its first line reads `timer summary: sent N
delivered N  verified N  lost N  late N  duplicated N  failed N  cache failed N`,
followed by the loss against --max-loss, the latency lines, then the figures per broker
and per partition and what the independent consumer read.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from kafkaredis_cli.canary.figures import UNKNOWN_BROKER, Figures
from kafkaredis_cli.canary.histogram import LogHistogram
from kafkaredis_cli.canary.statistics import RunStatistics
from kafkaredis_cli.formatting import ms, write_json_line

if TYPE_CHECKING:
    from kafkaredis_cli.canary.reports import RunReport, TickReport, TimerOptions

BLOCKS = "▁▂▃▄▅▆▇█"
FAILED_MARK = "×"


def sparkline(values: list[float | None]) -> str:
    """One character per tick: its round trip scaled between the lowest and highest shown."""
    shown = [v for v in values if v is not None]
    if not shown:
        return FAILED_MARK * len(values)
    low, high = min(shown), max(shown)
    span = high - low
    out = []
    for value in values:
        if value is None:
            out.append(FAILED_MARK)
        elif span <= 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, int((value - low) / span * len(BLOCKS)))])
    return "".join(out)


def counts_line(stats: RunStatistics) -> str:
    return (
        f"sent {stats.sent}  delivered {stats.delivered}  verified {stats.verified}  "
        f"lost {stats.lost}  late {stats.late}  duplicated {stats.duplicated}  "
        f"failed {stats.failed}  cache failed {stats.cache_failed}"
    )


def latency_line(name: str, latency: LogHistogram) -> str:
    p50, p95, p99 = latency.percentiles(50, 95, 99)
    return f"{name:<11} p50 {ms(p50)}  p95 {ms(p95)}  p99 {ms(p99)}  max {ms(latency.max)}"


def figures_line(figures: Figures) -> str:
    p50, p99 = figures.round_trip.percentiles(50, 99)
    line = (
        f"sent {figures.sent}  verified {figures.verified}  lost {figures.lost}  "
        f"late {figures.late}  duplicated {figures.duplicated}  p50 {ms(p50)}  p99 {ms(p99)}"
    )
    if figures.lost or figures.produce_failed or figures.cache_failed:
        line += f"  last error: {figures.last_error}"
    return line


def broker_name(broker: int) -> str:
    return "broker ?" if broker == UNKNOWN_BROKER else f"broker {broker}"


def scope_lines(stats: RunStatistics) -> list[str]:
    """Per broker (the partition's leader when a probe was sent), then per partition."""
    lines = []
    for broker, figures in sorted(stats.brokers.items()):
        lines.append(f"  {broker_name(broker)}: {figures_line(figures)}")
    for (topic, partition), figures in sorted(stats.partitions.items()):
        stream = stats.ledger.own_stream(topic, partition)
        gaps = f"  gaps {stream.gaps}" if stream is not None and stream.gaps else ""
        lines.append(f"  {topic}[{partition}]: {figures_line(figures)}{gaps}")
    return lines


def consumer_lines(report: RunReport) -> list[str]:
    stats = report.stats
    if report.follower_error is not None:
        if report.follower_error == "off":
            return ["independent consumer: off"]
        return [f"independent consumer: not running ({report.follower_error})"]
    own = sum(s.read for s in stats.ledger.own.values())
    lines = [
        f"independent consumer: read {own} of this run's probes  late {stats.late}  "
        f"duplicated {stats.duplicated}  gaps {stats.ledger.gaps}"
    ]
    for producer, figures in sorted(stats.ledger.others_json().items()):
        lines.append(
            f"  other producer {producer}: read {figures['read']}  "
            f"duplicated {figures['duplicated']}  gaps {figures['gaps']}"
        )
    return lines


def coverage_lines(report: RunReport) -> list[str]:
    lines = []
    for topic, layout in (report.layouts or {}).items():
        for action in layout.actions:
            lines.append(f"topic {topic}: {action}")
        uncovered = layout.uncovered()
        if uncovered and layout.partitions:
            lines.append(
                f"topic {topic}: broker(s) {', '.join(map(str, uncovered))} lead no partition "
                "and are not probed (see --rebalance-leaders)"
            )
    return lines


def summary_lines(report: RunReport) -> list[str]:
    stats = report.stats
    verdict = "ok" if report.loss_ok else "OVER"
    lines = [
        f"timer summary: {counts_line(stats)}",
        f"loss {stats.lost}/{stats.sent} (--max-loss {report.options.max_loss}: {verdict})  "
        f"ticks {stats.ticks} in {report.elapsed_s:.1f}s  overruns {stats.overruns}  "
        f"skipped slots {stats.skipped}  stopped by {report.stopped_by}",
        latency_line("round trip", stats.round_trip),
        latency_line("delivery", stats.delivery),
    ]
    if len(stats.topics) > 1:
        for name, topic in stats.topics.items():
            lines.append(f"  {name}: {figures_line(topic)}")
    lines += scope_lines(stats)
    with_loss = stats.brokers_failing()
    if with_loss:
        lines.append(f"brokers with probes not read back in time: {', '.join(map(str, with_loss))}")
    for broker, count in sorted(stats.missing_brokers.items()):
        lines.append(f"broker {broker} missing from the cluster's metadata for {count} tick(s)")
    lines += consumer_lines(report)
    lines += coverage_lines(report)
    for reason, count in stats.errors.most_common(5):
        lines.append(f"  error (x{count}): {reason}")
    lines.append(f"statistics in Redis: {report.stats_key}")
    if report.stats_error:
        lines.append(f"  (not updated at the end: {report.stats_error})")
    return lines


def tick_line(report: TickReport) -> str:
    where = report.topic
    if report.partition is not None and report.partition >= 0:
        where = f"{report.topic}[{report.partition}]"
        if report.offset is not None:
            where += f"@{report.offset}"
    if report.broker is not None:
        where += f" broker {report.broker}"
    parts = [f"tick {report.tick}", f"slot {report.slot}", where, f"seq {report.seq}"]
    if report.verified:
        parts.append(
            f"verified  round trip {ms(report.round_trip_ms)}  delivery {ms(report.delivery_ms)}"
        )
    else:
        parts.append(f"LOST: {report.error}")
    if report.cache_error:
        parts.append(f"cache FAILED: {report.cache_error}")
    if report.skipped:
        parts.append(f"skipped {report.skipped} slot(s)")
    if report.late:
        parts.append(f"late {report.late_ms:.0f} ms")
    if report.overrun_ms > 0:
        parts.append(f"overran by {report.overrun_ms:.0f} ms")
    for arrival in report.arrivals:
        parts.append(f"{arrival.what}: {arrival.topic}[{arrival.partition}] seq {arrival.seq}")
    return "  ".join(parts)


class PlainView:
    """One line a tick, then the summary: for pipes, logs and CI."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def start(self, options: TimerOptions, stats_key: str) -> None:
        pass

    def tick(self, report: TickReport, stats: RunStatistics) -> None:
        self._console.print(tick_line(report), markup=False, highlight=False)

    def close(self) -> None:
        pass

    def finish(self, report: RunReport) -> None:
        self._console.print("\n".join(summary_lines(report)), markup=False, highlight=False)


class JsonView:
    """One JSON object a tick ({"type": "tick", …}), then one summary ({"type": "summary", …})."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def _write(self, data: dict[str, Any]) -> None:
        write_json_line(self._stream or sys.stdout, data)

    def start(self, options: TimerOptions, stats_key: str) -> None:
        pass

    def tick(self, report: TickReport, stats: RunStatistics) -> None:
        self._write(report.to_json())

    def close(self) -> None:
        pass

    def finish(self, report: RunReport) -> None:
        self._write(report.to_json())


class LiveView:
    """A rich panel redrawn every tick: counts, latency, sparkline, per topic, last error."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live: Live | None = None
        self._options: TimerOptions | None = None
        self._stats_key = ""
        self._last: TickReport | None = None

    def start(self, options: TimerOptions, stats_key: str) -> None:
        self._options, self._stats_key = options, stats_key
        self._live = Live(
            self._render(RunStatistics()),
            console=self._console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start(refresh=True)

    def tick(self, report: TickReport, stats: RunStatistics) -> None:
        self._last = report
        if self._live is not None:
            self._live.update(self._render(stats), refresh=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def finish(self, report: RunReport) -> None:
        self.close()
        self._console.print("\n".join(summary_lines(report)), markup=False, highlight=False)

    def _render(self, stats: RunStatistics) -> Group:
        options = self._options
        head = Text("kafkaredis timer", style="bold")
        if options is not None:
            count = f" of {options.count}" if options.count else ""
            head.append(
                f"  producer {options.producer_id}  every {options.interval_s:g}s  "
                f"tick {stats.ticks}{count}  (Ctrl-C stops)",
                style="dim",
            )
        counts = Table.grid(padding=(0, 2))
        for _ in range(8):
            counts.add_column(justify="right")
        counts.add_row(
            "sent", "delivered", "verified", "lost", "late", "duplicated", "failed", "cache failed"
        )
        lost_style = "bold red" if stats.lost else "green"
        counts.add_row(
            str(stats.sent),
            str(stats.delivered),
            Text(str(stats.verified), style="green"),
            Text(str(stats.lost), style=lost_style),
            Text(str(stats.late), style="yellow" if stats.late else ""),
            Text(str(stats.duplicated), style="yellow" if stats.duplicated else ""),
            Text(str(stats.failed), style="red" if stats.failed else ""),
            Text(str(stats.cache_failed), style="red" if stats.cache_failed else ""),
        )
        latency = Text(
            latency_line("round trip", stats.round_trip)
            + "\n"
            + latency_line("delivery", stats.delivery)
        )
        recent_p50, recent_p99 = stats.recent_percentiles()
        recent = Text("recent      ")
        recent.append(sparkline(list(stats.recent)), style="cyan")
        recent.append(f"  p50 {ms(recent_p50)}  p99 {ms(recent_p99)}", style="dim")
        parts: list[Any] = [head, counts, latency, recent]
        scopes = Table.grid(padding=(0, 2))
        rows: list[tuple[str, Figures]] = [
            (broker_name(b), f) for b, f in sorted(stats.brokers.items())
        ]
        rows += [(f"{t}[{p}]", f) for (t, p), f in sorted(stats.partitions.items())]
        for name, figures in rows:
            p50, p99 = figures.round_trip.percentiles(50, 99)
            bad = figures.lost or figures.produce_failed
            scopes.add_row(
                Text(name, style="bold red" if bad else ""),
                f"sent {figures.sent}",
                f"verified {figures.verified}",
                Text(f"lost {figures.lost}", style="red" if figures.lost else ""),
                f"late {figures.late}",
                f"duplicated {figures.duplicated}",
                f"p50 {ms(p50)}",
                f"p99 {ms(p99)}",
                Text(figures.last_error or "", style="red") if bad else "",
            )
        parts.append(scopes)
        if stats.last_error:
            parts.append(Text(f"last error: {stats.last_error}", style="red"))
        if self._last is not None and (self._last.overrun_ms > 0 or self._last.skipped):
            parts.append(Text(tick_line(self._last), style="yellow"))
        parts.append(Text(f"statistics in Redis: {self._stats_key}", style="dim"))
        return Group(*parts)
