"""The produce section: raw confluent-kafka, the same work in plain Python, kcat -P and
kafkaredis produce --file (no cache, cached, verified, cached on a Redis Cluster)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from benchlib import raw_workers
from benchlib.context import Context
from benchlib.processes import BenchError, Run, checked, last_json, run_child, say
from benchlib.raw_workers import PRODUCER_TUNING
from benchlib.services import clear_prefix


def produce_kafkaredis(
    ctx: Context,
    topic: str,
    data: Path,
    flags: list[str],
    expected: int | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    run = checked(
        run_child(
            ctx.kr("produce", "--topic", topic, "--file", str(data), "--json", *flags),
            env=env or ctx.env,
            cwd=ctx.workdir,
        ),
        f"kafkaredis produce {' '.join(flags)}",
    )
    result = last_json(run.stdout, "kafkaredis produce")
    expected = ctx.n if expected is None else expected
    if result.get("delivered") != expected:
        raise BenchError(f"kafkaredis produce delivered {result.get('delivered')} of {expected}")
    if "--no-cache" not in flags and result.get("cached") != expected:
        raise BenchError(f"kafkaredis produce cached {result.get('cached')} of {expected}")
    if "--no-verify" not in flags and result.get("verified") != expected:
        raise BenchError(f"kafkaredis produce verified {result.get('verified')} of {expected}")
    return run


def bench_produce(ctx: Context) -> None:
    n = ctx.n
    variants: list[tuple[str, Callable[[str], Run]]] = [
        (
            "produce.raw",
            lambda topic: run_child(
                raw_workers.command("produce", bootstrap=ctx.bootstrap, topic=topic, file=ctx.data),
            ),
        ),
    ]
    variants.append(
        (
            "produce.same",
            lambda topic: run_child(
                [*ctx.worker("produce_same", topic), "--file", str(ctx.data)], env=ctx.env
            ),
        )
    )
    if ctx.kcat:
        kcat = ctx.kcat
        tuning = [arg for k, v in PRODUCER_TUNING.items() for arg in ("-X", f"{k}={v}")]
        variants.append(
            (
                "produce.kcat",
                lambda topic: run_child(
                    [kcat, "-P", *ctx.kcat_conf(), *tuning, "-t", topic, "-l", str(ctx.data)]
                ),
            )
        )
    variants += [
        (
            "produce.kr_nocache",
            lambda t: produce_kafkaredis(ctx, t, ctx.data, ["--no-cache", "--no-verify"]),
        ),
        ("produce.kr_cache", lambda t: produce_kafkaredis(ctx, t, ctx.data, ["--no-verify"])),
        ("produce.kr_verify", lambda t: produce_kafkaredis(ctx, t, ctx.data, [])),
    ]
    cluster_url = ctx.redis_cluster_url
    if cluster_url is not None:  # the same cached batch, its records on a Redis Cluster
        cluster_env = {**ctx.env, "KAFKAREDIS_REDIS__URL": cluster_url}
        variants.append(
            (
                "produce.kr_cache_cluster",
                lambda t: produce_kafkaredis(ctx, t, ctx.data, ["--no-verify"], env=cluster_env),
            )
        )
    # Each path's start-up and shut-down CPU: the same command on an empty file.
    empty = ctx.workdir / "empty.txt"
    empty.write_bytes(b"")
    full, ctx.data, ctx.n = (ctx.data, ctx.n), empty, 0
    try:
        for name, run_one in variants:
            run = checked(run_one(ctx.broker.topic("idle")), f"{name} (empty file)")
            ctx.startup_cpu_s[name] = run.cpu_s
    finally:
        ctx.data, ctx.n = full
    for rep in range(ctx.args.repeat):
        for name, run_one in variants:
            topic = ctx.broker.topic(name.split(".")[1].replace("_", ""))
            run = checked(run_one(topic), name)
            landed = ctx.broker.count(topic)
            if landed != n:
                raise BenchError(f"{name}: {landed} of {n} messages in {topic}")
            ctx.add(name, n / run.seconds)
            if name == "produce.raw":
                ctx.add("memory.raw_rss_mb", run.rss_mb)
            if name == "produce.kr_cache":
                ctx.add("memory.kr_rss_mb", run.rss_mb)
            if name == "produce.same":
                _check_same(run, n)
            if name.startswith(("produce.kr", "produce.same")) and not ctx.args.keep:
                clear_prefix(ctx.redis_url, ctx.prefix)
                if cluster_url is not None:
                    clear_prefix(cluster_url, ctx.prefix)
            say(
                f"  {name:<20} rep {rep + 1}: {n / run.seconds:>10,.0f} msg/s "
                f"({run.seconds:.2f}s, cpu {run.cpu_s:.2f}s, peak RSS {run.rss_mb:.0f} MB)"
            )
            ctx.extra.setdefault("cpu_s", {}).setdefault(name, []).append(round(run.cpu_s, 3))
            ctx.add_cpu(name, run)
            inner = _inner_rate(name, run, n)
            if inner is not None:  # start-up excluded: what the tool itself reports
                ctx.extra.setdefault("inner_msg_per_s", {}).setdefault(name, []).append(inner)


def _check_same(run: Run, n: int) -> None:
    data = last_json(run.stdout, "produce.same")
    if data.get("delivered") != n or data.get("cached") != n:
        raise BenchError(f"produce.same: delivered {data.get('delivered')}, cached "
                         f"{data.get('cached')} of {n}")  # fmt: skip


def _inner_rate(name: str, run: Run, n: int) -> float | None:
    with suppress(BenchError, KeyError, TypeError, ZeroDivisionError):
        data = last_json(run.stdout, name)
        if name in ("produce.raw", "produce.same"):
            return round(n / float(data["seconds"]), 1)
        if name.startswith("produce.kr"):
            return round(float(data["msg_per_s"]), 1)
    return None
