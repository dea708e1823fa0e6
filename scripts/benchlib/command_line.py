"""scripts/bench's command line: its options, and main (runs the chosen sections, writes
the JSON file and prints the tables)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchlib.consume import bench_consume
from benchlib.context import Context
from benchlib.figures import DEFAULT_SECTIONS, SECTIONS
from benchlib.memory import bench_memory
from benchlib.processes import BenchError, say
from benchlib.produce import bench_produce
from benchlib.raw_workers import PRODUCER_TUNING
from benchlib.services import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_REDIS_URL,
    ROOT,
    Broker,
    clear_prefix,
    ensure_kcat,
    ensure_stack,
    kafkaredis_exe,
    kr_env,
    redis_cluster,
    write_data,
)
from benchlib.soak import bench_soak
from benchlib.startup import bench_startup, compile_kafkaredis
from benchlib.summary import machine, summarise
from benchlib.tables import cpu_table, importtime_lines, table
from benchlib.timer import bench_timer


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark kafkaredis against raw confluent-kafka and kcat.",
    )
    parser.add_argument("--n", type=int, default=200_000, help="messages (default 200000)")
    parser.add_argument("--size", type=int, default=100, help="value bytes (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median; default 3)")
    parser.add_argument("--partitions", type=int, default=6, help="partitions (default 6)")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_SECTIONS),
        help=f"sections, comma-separated: {','.join(SECTIONS)} (default: all but soak)",
    )
    parser.add_argument("--timer-ticks", type=int, default=500)
    parser.add_argument("--timer-interval", type=float, default=0.02, help="seconds (default 0.02)")
    parser.add_argument("--timer-repeat", type=int, default=1, help="timer runs (default 1)")
    parser.add_argument(
        "--timer-stats-samples",
        type=int,
        default=1_000_000,
        help="samples the timer's statistics are timed at (default 1,000,000)",
    )
    parser.add_argument("--startup-runs", type=int, default=7)
    parser.add_argument("--soak-minutes", type=float, default=10.0, help="soak length (default 10)")
    parser.add_argument(
        "--soak-interval", type=float, default=0.02, help="soak tick interval (default 0.02 s)"
    )
    parser.add_argument(
        "--soak-sample", type=float, default=10.0, help="RSS/fd sample period (default 10 s)"
    )
    parser.add_argument(
        "--rss-n",
        type=int,
        default=1_000_000,
        help="messages of the separate peak-RSS run (0 skips it; default 1000000)",
    )
    parser.add_argument(
        "--json",
        dest="json_path",
        type=Path,
        default=ROOT / "bench-results" / "bench.json",
        help="where to write every figure (default bench-results/bench.json)",
    )
    parser.add_argument("--bootstrap", help=f"Kafka (default: the stack's, {DEFAULT_BOOTSTRAP})")
    parser.add_argument("--redis-url", help=f"Redis (default: the stack's, {DEFAULT_REDIS_URL})")
    parser.add_argument(
        "--redis-cluster-url",
        help="a node of the Redis Cluster of the cached-batch line (default: one of its own)",
    )
    parser.add_argument(
        "--no-redis-cluster", action="store_true", help="skip the Redis Cluster line"
    )
    parser.add_argument("--no-kcat-install", action="store_true", help="never run apt-get")
    parser.add_argument("--keep", action="store_true", help="keep topics, keys and data")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}")
    if args.n < 1 or args.repeat < 1 or args.size < 1 or args.partitions < 1:
        parser.error("--n, --repeat, --size and --partitions must be at least 1")
    return args


@contextmanager
def _workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="kbench-"))
    try:
        yield path
    finally:
        if keep:
            say(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sections = [s for s in SECTIONS if s in args.only.split(",")]
    stack_bootstrap, stack_redis_url = DEFAULT_BOOTSTRAP, DEFAULT_REDIS_URL
    if not (args.bootstrap and args.redis_url):
        stack_bootstrap, stack_redis_url = ensure_stack()
    bootstrap = args.bootstrap or stack_bootstrap
    redis_url = args.redis_url or stack_redis_url
    kcat = ensure_kcat(install=not args.no_kcat_install)
    run_id = uuid.uuid4().hex[:8]
    prefix = f"kbench-{run_id}"
    broker = Broker(bootstrap, args.partitions, run_id)
    started = time.time()
    load_before = os.getloadavg()
    with _workdir(args.keep) as workdir, ExitStack() as services:
        cluster_url = None
        if "produce" in sections:
            try:
                cluster_url = services.enter_context(redis_cluster(args, workdir))
            except BenchError as exc:
                say(f"  no Redis Cluster line: {exc}")
        data = workdir / "data.txt"
        say(f"writing {args.n:,} lines of {args.size} bytes to {data}")
        write_data(data, args.n, args.size)
        ctx = Context(
            args=args,
            bootstrap=bootstrap,
            redis_url=redis_url,
            redis_cluster_url=cluster_url,
            broker=broker,
            prefix=prefix,
            kcat=kcat,
            kafkaredis=kafkaredis_exe(),
            workdir=workdir,
            data=data,
            n=args.n,
            env=kr_env(bootstrap, redis_url, prefix),
        )
        if kcat is None:
            ctx.notes["kcat"] = "kcat not available"
        steps = {
            "produce": bench_produce,
            "consume": bench_consume,
            "timer": bench_timer,
            "startup": bench_startup,
            "memory": bench_memory,
            "soak": bench_soak,
        }
        try:
            compile_kafkaredis()
            for section in sections:
                say(f"{section}:")
                try:
                    steps[section](ctx)
                except BenchError as exc:
                    ctx.failures.append(f"{section}: {exc}")
                    ctx.notes[section] = f"failed: {exc}"
                    say(f"  FAILED: {exc}")
        finally:
            if not args.keep:
                broker.cleanup()
                clear_prefix(redis_url, prefix)
        figures = summarise(ctx)
        report: dict[str, Any] = {
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "elapsed_s": round(time.time() - started, 1),
            "machine": machine(ctx),
            # Other work on the machine skews every figure: the 1-minute load before/after.
            "load_average": {"before": load_before[0], "after": os.getloadavg()[0]},
            "parameters": {
                "n": args.n,
                "size": args.size,
                "repeat": args.repeat,
                "partitions": args.partitions,
                "sections": sections,
                "timer_ticks": args.timer_ticks,
                "timer_interval_s": args.timer_interval,
                "timer_stats_samples": args.timer_stats_samples,
                "startup_runs": args.startup_runs,
                "rss_n": args.rss_n,
                "soak_minutes": args.soak_minutes,
                "soak_interval_s": args.soak_interval,
                "producer_tuning": PRODUCER_TUNING,
            },
            "figures": figures,
            "notes": ctx.notes,
            "extra": ctx.extra,
            "failures": ctx.failures,
        }
    args.json_path.parent.mkdir(parents=True, exist_ok=True)
    args.json_path.write_text(json.dumps(report, indent=2) + "\n")
    info = report["machine"]
    load = report["load_average"]
    print(
        f"kafkaredis benchmark: N={args.n:,} x {args.size} B, {args.partitions} partitions, "
        f"median of {args.repeat}; {info['cpu']}, {info['cores']} cores, "
        f"{info['memory_gb']} GB, Python {info['python']}, librdkafka {info['librdkafka']}, "
        f"Kafka {info['kafka']}, Redis {info['redis_server']}; "
        f"load {load['before']:.1f} before, {load['after']:.1f} after"
    )
    print(table(figures, ctx.notes))
    if any(name.startswith("cpu.") and e["value"] is not None for name, e in figures.items()):
        print(cpu_table(figures))
    for line in importtime_lines(ctx.extra):
        print(line)
    for section, note in ctx.notes.items():
        print(f"note: {section}: {note}")
    print(f"JSON: {args.json_path}")
    return 1 if ctx.failures else 0
