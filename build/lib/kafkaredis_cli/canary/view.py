"""How a run looks: a live rich view on a terminal, plain lines otherwise, or JSON lines.

Every view ends with the same summary; its first line reads
`timer summary: sent N  delivered N  verified N  lost N  duplicated N  failed N  cache failed N`
followed by the loss against --max-loss, then the latency lines.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from kafkaredis_cli.canary.statistics import Latency, RunStatistics

if TYPE_CHECKING:
    from kafkaredis_cli.canary.run import RunReport, TickReport, TimerOptions

BLOCKS = "▁▂▃▄▅▆▇█"
FAILED_MARK = "×"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


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
        f"lost {stats.lost}  duplicated {stats.duplicated}  failed {stats.failed}  "
        f"cache failed {stats.cache_failed}"
    )


def latency_line(name: str, latency: Latency) -> str:
    return (
        f"{name:<11} p50 {_ms(latency.percentile(50))}  p95 {_ms(latency.percentile(95))}  "
        f"p99 {_ms(latency.percentile(99))}  max {_ms(latency.max)}"
    )


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
            lines.append(
                f"  {name}: sent {topic.sent}  verified {topic.verified}  lost {topic.lost}  "
                f"duplicated {topic.duplicated}"
            )
    for reason, count in stats.errors.most_common(5):
        lines.append(f"  error (x{count}): {reason}")
    lines.append(f"statistics in Redis: {report.stats_key}")
    if report.stats_error:
        lines.append(f"  (not updated at the end: {report.stats_error})")
    return lines


def tick_line(report: TickReport) -> str:
    where = report.topic
    if report.partition is not None and report.partition >= 0:
        where = f"{report.topic}[{report.partition}]@{report.offset}"
    parts = [f"tick {report.tick}", f"slot {report.slot}", where, f"seq {report.seq}"]
    if report.verified:
        parts.append(
            f"verified  round trip {_ms(report.round_trip_ms)}  delivery {_ms(report.delivery_ms)}"
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
        stream = self._stream or sys.stdout
        stream.write(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n")
        stream.flush()

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
        for _ in range(7):
            counts.add_column(justify="right")
        counts.add_row(
            "sent", "delivered", "verified", "lost", "duplicated", "failed", "cache failed"
        )
        lost_style = "bold red" if stats.lost else "green"
        counts.add_row(
            str(stats.sent),
            str(stats.delivered),
            Text(str(stats.verified), style="green"),
            Text(str(stats.lost), style=lost_style),
            str(stats.duplicated),
            Text(str(stats.failed), style="red" if stats.failed else ""),
            Text(str(stats.cache_failed), style="red" if stats.cache_failed else ""),
        )
        latency = Text(
            latency_line("round trip", stats.round_trip)
            + "\n"
            + latency_line("delivery", stats.delivery)
        )
        recent = Text("recent      ")
        recent.append(sparkline(list(stats.recent)), style="cyan")
        parts: list[Any] = [head, counts, latency, recent]
        topics = Table.grid(padding=(0, 2))
        for name, topic in stats.topics.items():
            where = "-"
            if topic.last_partition is not None and topic.last_partition >= 0:
                where = f"[{topic.last_partition}]@{topic.last_offset}"
            topics.add_row(
                name,
                where,
                f"sent {topic.sent}",
                f"verified {topic.verified}",
                f"lost {topic.lost}",
                f"duplicated {topic.duplicated}",
            )
        parts.append(topics)
        if stats.last_error:
            parts.append(Text(f"last error: {stats.last_error}", style="red"))
        if self._last is not None and (self._last.overrun_ms > 0 or self._last.skipped):
            parts.append(Text(tick_line(self._last), style="yellow"))
        parts.append(Text(f"statistics in Redis: {self._stats_key}", style="dim"))
        return Group(*parts)
