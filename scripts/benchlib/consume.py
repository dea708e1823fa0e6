"""The consume section: raw confluent-kafka, the same work in plain Python, kcat -C and
kafkaredis consume (--format raw with and without the cache, in a share group, table, json)."""

from __future__ import annotations

from pathlib import Path

from benchlib import raw_workers
from benchlib.context import Context
from benchlib.processes import BenchError, checked, run_child, say
from benchlib.produce import produce_kafkaredis
from benchlib.services import clear_prefix

SHARE = "<share-group>"  # replaced by a share group of each run's own


def bench_consume(ctx: Context) -> None:
    n = ctx.n
    topic = ctx.broker.topic("consume")
    say(f"  filling {topic} with kafkaredis produce --no-verify (records cached in Redis)")
    produce_kafkaredis(ctx, topic, ctx.data, ["--no-verify"])
    outfile = ctx.workdir / "consumed.out"

    def lines_in(path: Path) -> int:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))

    variants: list[tuple[str, list[str], dict[str, str] | None]] = [
        (
            "consume.raw",
            raw_workers.command(
                "consume",
                bootstrap=ctx.bootstrap,
                topic=topic,
                n=n,
                partitions=ctx.broker.partitions,
            ),
            None,
        ),
    ]
    variants.append(
        (
            "consume.same",
            [*ctx.worker("consume_same", topic), "--n", str(n),
             "--partitions", str(ctx.broker.partitions)],
            None,
        )
    )  # fmt: skip
    if ctx.kcat:
        variants.append(
            (
                "consume.kcat",
                [ctx.kcat, "-C", *ctx.kcat_conf(), "-t", topic, "-o", "beginning", "-e"],
                None,
            )
        )
    base = [
        "consume",
        "--topic",
        topic,
        "--from",
        "beginning",
        "--count",
        str(n),
    ]
    variants += [
        ("consume.kr", ctx.kr(*base, "--format", "raw"), ctx.env),
        # A share group instead of the consumer group (a new one each run: from the start)
        (
            "consume.kr_share",
            ctx.kr(*base[:3], "--count", str(n), "--share-group", SHARE, "--format", "raw"),
            ctx.env,
        ),
        ("consume.kr_nocache", ctx.kr(*base, "--format", "raw", "--no-cache"), ctx.env),
        ("consume.kr_table", ctx.kr(*base, "--format", "table", "--no-cache"), ctx.env),
        ("consume.kr_json", ctx.kr(*base, "--format", "json", "--no-cache"), ctx.env),
    ]
    for name, cmd, env in variants:  # start-up CPU: the same command for 1 message
        one = [
            "1" if prev in ("--count", "--n") else arg
            for prev, arg in zip(["", *cmd[:-1]], cmd, strict=True)
        ]
        if name == "consume.kcat":
            one = [*cmd[:-1], "-c", "1", "-e"]
        if env is not None:
            env = {**env, "KAFKAREDIS_KAFKA__GROUP_ID": f"{ctx.prefix}-{name}-idle"}
        one = [f"{ctx.prefix}-{name}-idle" if arg == SHARE else arg for arg in one]
        run = checked(run_child(one, env=env, cwd=ctx.workdir, stdout_file=outfile), name)
        ctx.startup_cpu_s[name] = run.cpu_s
    for rep in range(ctx.args.repeat):
        for name, cmd, env in variants:
            if env is not None:  # a fresh group each time: --from beginning, committed anew
                env = {**env, "KAFKAREDIS_KAFKA__GROUP_ID": f"{ctx.prefix}-{name}-{rep}"}
            cmd = [f"{ctx.prefix}-{name}-{rep}" if arg == SHARE else arg for arg in cmd]
            run = checked(run_child(cmd, env=env, cwd=ctx.workdir, stdout_file=outfile), name)
            got = lines_in(outfile)
            if got != n:
                raise BenchError(f"{name}: printed {got} of {n} messages")
            ctx.add(name, n / run.seconds)
            ctx.extra.setdefault("cpu_s", {}).setdefault(name, []).append(round(run.cpu_s, 3))
            ctx.add_cpu(name, run)
            say(
                f"  {name:<20} rep {rep + 1}: {n / run.seconds:>10,.0f} msg/s "
                f"({run.seconds:.2f}s, cpu {run.cpu_s:.2f}s)"
            )
    outfile.unlink(missing_ok=True)
    if not ctx.args.keep:
        clear_prefix(ctx.redis_url, ctx.prefix)
