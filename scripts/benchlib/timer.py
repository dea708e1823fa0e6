"""The timer section: kafkaredis timer --json round trips (p50, p99), and the cost of the
timer's statistics a tick."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from benchlib.context import Context
from benchlib.processes import BenchError, run_child, say
from benchlib.services import clear_prefix


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


TICK_LATENCY_KEYS = ("round_trip_ms", "latency_ms", "rtt_ms", "e2e_ms")


def _find(data: Any, names: tuple[str, ...]) -> float | None:
    """A number under one of `names`, at the top level or one level down."""
    if not isinstance(data, dict):
        return None
    for name in names:
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    for value in data.values():
        if isinstance(value, dict):
            found = _find(value, names)
            if found is not None:
                return found
    return None


def bench_timer_statistics(ctx: Context, samples: int = 1_000_000) -> None:
    """The timer's per-tick cost of its statistics (fixed-memory histograms): recording a
    verified tick (delivery and round trip, in every scope), then the whole summary."""

    from kafkaredis_cli.canary.figures import Where
    from kafkaredis_cli.canary.statistics import RunStatistics

    stats = RunStatistics("bench")
    rng = random.Random(1)
    wheres = [Where("t", p, 1 + p % 3) for p in range(6)]
    values = [rng.lognormvariate(1.0, 0.8) for _ in range(1000)]
    started = time.perf_counter()
    for i in range(samples):
        where = wheres[i % 6]
        stats.record_delivered(where, values[i % 1000])
        stats.record_verified(where, values[(i + 1) % 1000])
    record_us = (time.perf_counter() - started) / samples * 1e6
    started = time.perf_counter()
    for _ in range(20):
        stats.to_json()
    summary_us = (time.perf_counter() - started) / 20 * 1e6
    ctx.add("timer.stats_record_us", record_us)
    ctx.add("timer.stats_summary_us", summary_us)
    say(
        f"  timer statistics: record {record_us:.2f} us a tick, summary {summary_us:.0f} us "
        f"at {samples:,} samples"
    )


def bench_timer(ctx: Context) -> None:
    args = ctx.args
    bench_timer_statistics(ctx, args.timer_stats_samples)
    probe = run_child(ctx.kr("timer", "--help"), env=ctx.env, cwd=ctx.workdir, timeout=60)
    if probe.returncode != 0 or b"--json" not in probe.stdout:
        ctx.notes["timer"] = "missing: `kafkaredis timer --json` is not available in this build"
        say(f"  {ctx.notes['timer']}")
        return
    for rep in range(args.timer_repeat):
        topic = ctx.broker.topic("timer")
        cmd = ctx.kr(
            "timer",
            "--topic",
            topic,
            "--count",
            str(args.timer_ticks),
            "--interval",
            f"{args.timer_interval:g}",
            "--json",
        )
        budget = args.timer_ticks * args.timer_interval + 120
        run = run_child(cmd, env=ctx.env, cwd=ctx.workdir, timeout=budget)
        lines = [
            json.loads(line)
            for line in run.stdout.decode("utf-8", "replace").splitlines()
            if line.strip().startswith("{")
        ]
        if run.returncode not in (0, 1) or not lines:
            raise BenchError(f"kafkaredis timer exited with {run.returncode}: {run.stderr[-400:]}")
        summary, ticks = lines[-1], lines[:-1]
        ticks = [t for t in ticks if t.get("type", "tick") == "tick"]
        latencies = [v for v in (_find(t, TICK_LATENCY_KEYS) for t in ticks) if v is not None]
        p50 = _find(summary, ("p50_ms", "p50", "latency_p50_ms"))
        p99 = _find(summary, ("p99_ms", "p99", "latency_p99_ms"))
        if latencies:
            p50 = _percentile(latencies, 50)
            p99 = _percentile(latencies, 99)
        if p50 is None or p99 is None:
            raise BenchError(f"kafkaredis timer --json: no p50/p99 in {lines[-1]}")
        ctx.add("timer.p50_ms", p50)
        ctx.add("timer.p99_ms", p99)
        ctx.extra.setdefault("timer_summaries", []).append(summary)
        ctx.extra["timer_ticks_seen"] = len(ticks)
        say(
            f"  timer rep {rep + 1}: {len(ticks)} ticks, p50 {p50:.2f} ms, p99 {p99:.2f} ms "
            f"(exit {run.returncode})"
        )
    if not args.keep:
        clear_prefix(ctx.redis_url, ctx.prefix)
