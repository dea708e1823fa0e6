"""The memory section: peak RSS of kafkaredis produce (cached, verified) over --rss-n
messages."""

from __future__ import annotations

from benchlib.context import Context
from benchlib.processes import say
from benchlib.produce import produce_kafkaredis
from benchlib.services import clear_prefix, write_data


def bench_memory(ctx: Context) -> None:
    n = ctx.args.rss_n
    if n <= 0:
        return
    data = ctx.workdir / "rss.txt"
    say(f"  writing {n:,} lines for the RSS run")
    write_data(data, n, ctx.args.size)
    topic = ctx.broker.topic("rss")
    run = produce_kafkaredis(ctx, topic, data, [], expected=n)
    ctx.add("memory.kr_rss_big_mb", run.rss_mb)
    ctx.extra["rss_n"] = n
    say(
        f"  kafkaredis produce (cached, verified) of {n:,}: peak RSS {run.rss_mb:.0f} MB, "
        f"{n / run.seconds:,.0f} msg/s"
    )
    data.unlink()
    if not ctx.args.keep:
        clear_prefix(ctx.redis_url, ctx.prefix)
