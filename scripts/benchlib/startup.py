"""The start-up section: --help, --version and the one-shot commands against the Python
floor (import confluent_kafka / typer, a raw one-message send), interleaved, and what
each one-shot command imports (python -X importtime)."""

from __future__ import annotations

import statistics
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

from benchlib.context import Context
from benchlib.processes import BenchError, checked, last_json, run_child, say


def compile_kafkaredis() -> None:
    """Byte-compile kafkaredis's modules, as pip does when it installs a package (and as
    typer's and every other dependency's are): an editable checkout run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile each of its modules from source in
    every process (~0.04 s of a one-shot `produce MSG`), which no installed copy does."""
    import compileall

    import kafkaredis_cli

    package = Path(kafkaredis_cli.__file__).parent
    if not compileall.compile_dir(str(package), quiet=1):
        raise BenchError(f"could not byte-compile {package}")
    say(f"  byte-compiled {package} (as an installed copy is)")


def bench_startup(ctx: Context) -> None:
    runs = ctx.args.startup_runs
    commands: list[tuple[str, list[str]]] = [
        ("startup.raw_import", [sys.executable, "-c", "import confluent_kafka"]),
        ("startup.import_typer", [sys.executable, "-c", "import typer"]),
        ("startup.help", ctx.kr("--help")),
        ("startup.version", ctx.kr("--version")),
    ]
    if ctx.kcat:
        commands.insert(1, ("startup.kcat", [ctx.kcat, "-V"]))
    for name, cmd in commands:
        checked(run_child(cmd, env=ctx.env, cwd=ctx.workdir), name)  # warm the caches
    run_interleaved(ctx, commands, runs)
    bench_oneshot(ctx)


def run_interleaved(ctx: Context, commands: list[tuple[str, list[str]]], runs: int) -> None:
    """Each command `runs` times, in turns: a burst of load on the (shared) machine hits
    every command alike. The wall-clock median is the figure; the CPU median (user +
    system, much less sensitive to the load) is printed beside it and kept in the JSON."""
    for _ in range(runs):
        for name, cmd in commands:
            run = checked(run_child(cmd, env=ctx.env, cwd=ctx.workdir), name)
            ctx.add(name, run.seconds)
            ctx.extra.setdefault("cpu_s", {}).setdefault(name, []).append(round(run.cpu_s, 3))
    for name, _cmd in commands:
        cpu = statistics.median(ctx.extra["cpu_s"][name])
        wall = statistics.median(ctx.samples[name])
        say(f"  {name:<24} median {wall:.3f}s wall, {cpu:.3f}s CPU")


RAW_SEND_ONE = """
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "enable.idempotence": "true", "linger.ms": "0"})
p.produce(sys.argv[2], sys.argv[3].encode())
sys.exit(1 if p.flush(10) else 0)
"""


def bench_oneshot(ctx: Context) -> None:
    """One message from the command line, and a cache read, each its own process (issue
    16): against a raw Python script sending one message with an idempotent producer."""
    runs = ctx.args.startup_runs
    topic = ctx.broker.topic("oneshot")
    first = checked(
        run_child(ctx.kr("produce", "--topic", topic, "--json", "warm"), env=ctx.env), "produce"
    )
    message_id = str(last_json(first.stdout, "kafkaredis produce MSG")["id"])
    commands: list[tuple[str, list[str]]] = [
        ("oneshot.raw_produce", [sys.executable, "-c", RAW_SEND_ONE, ctx.bootstrap, topic, "m"]),
        ("oneshot.produce", ctx.kr("produce", "--topic", topic, "m")),
        ("oneshot.produce_noverify", ctx.kr("produce", "--topic", topic, "--no-verify", "m")),
        ("oneshot.cache_get", ctx.kr("cache", "get", message_id)),
    ]
    run_interleaved(ctx, commands, runs)
    module = [sys.executable, "-X", "importtime", "-m", "kafkaredis_cli"]
    for label, argv in (
        ("--help", ["--help"]),
        ("produce MSG", ["produce", "--topic", topic, "m"]),
        ("cache get ID", ["cache", "get", message_id]),
    ):
        run = checked(run_child([*module, *argv], env=ctx.env, cwd=ctx.workdir), label)
        modules = parse_importtime(run.stderr)
        ctx.extra.setdefault("importtime", {})[label] = summarise_imports(modules)
        if label == "cache get ID":
            ctx.extra["cache_get_loads_confluent_kafka"] = any(
                m == "confluent_kafka" or m.startswith("confluent_kafka.") for m in modules
            )


def parse_importtime(stderr: str) -> dict[str, float]:
    """module -> its own import time in ms, from `python -X importtime` lines."""
    modules: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        parts = line.removeprefix("import time:").split("|")
        with suppress(ValueError, IndexError):
            modules[parts[2].strip()] = int(parts[0]) / 1000
    return modules


def summarise_imports(modules: dict[str, float], top: int = 8) -> dict[str, Any]:
    by_package: dict[str, float] = {}
    for name, ms in modules.items():
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + ms
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    return {
        "total_ms": round(sum(modules.values()), 1),
        "modules": len(modules),
        "top": [[pkg, round(ms, 1)] for pkg, ms in ranked],
    }
