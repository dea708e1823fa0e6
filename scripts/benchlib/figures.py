"""What scripts/bench reports: every figure (label, unit, which way is better), what each
kafkaredis figure is compared with, and the issue's targets."""

from __future__ import annotations

# name -> (label, unit, better) ; better: "high" (throughput) or "low" (time, memory)
FIGURES: dict[str, tuple[str, str, str]] = {
    "produce.raw": ("produce: raw confluent-kafka", "msg/s", "high"),
    "produce.same": (
        "produce: raw Python, same work (2 id headers, callback, SET pipelined)",
        "msg/s",
        "high",
    ),
    "produce.kcat": ("produce: kcat -P", "msg/s", "high"),
    "produce.kr_nocache": ("produce: kafkaredis --no-cache --no-verify", "msg/s", "high"),
    "produce.kr_cache": ("produce: kafkaredis --no-verify (cached)", "msg/s", "high"),
    "produce.kr_verify": ("produce: kafkaredis (cached, verified)", "msg/s", "high"),
    "produce.kr_cache_cluster": (
        "produce: kafkaredis --no-verify (cached, Redis Cluster)",
        "msg/s",
        "high",
    ),
    "consume.raw": ("consume: raw confluent-kafka", "msg/s", "high"),
    "consume.same": (
        "consume: raw Python, same work (print, SET record pipelined, commit)",
        "msg/s",
        "high",
    ),
    "consume.kcat": ("consume: kcat -C -e", "msg/s", "high"),
    "consume.kr": ("consume: kafkaredis --format raw", "msg/s", "high"),
    "consume.kr_share": (
        "consume: kafkaredis --share-group --format raw (KIP-932, librdkafka preview)",
        "msg/s",
        "high",
    ),
    "consume.kr_nocache": ("consume: kafkaredis --format raw --no-cache", "msg/s", "high"),
    "consume.kr_table": ("consume: kafkaredis --format table --no-cache", "msg/s", "high"),
    "consume.kr_json": ("consume: kafkaredis --format json --no-cache", "msg/s", "high"),
    "timer.p50_ms": ("timer round trip p50", "ms", "low"),
    "timer.p99_ms": ("timer round trip p99", "ms", "low"),
    "timer.stats_record_us": ("timer stats: record a tick (--timer-stats-samples)", "us", "low"),
    "timer.stats_summary_us": ("timer stats: summary after them", "us", "low"),
    "startup.raw_import": ("start-up: python -c 'import confluent_kafka'", "s", "low"),
    "startup.kcat": ("start-up: kcat -V", "s", "low"),
    "startup.help": ("start-up: kafkaredis --help", "s", "low"),
    "startup.version": ("start-up: kafkaredis --version", "s", "low"),
    "startup.import_typer": ("start-up: python -c 'import typer'", "s", "low"),
    "oneshot.raw_produce": ("one-shot: raw Python sends 1 message (idempotent)", "s", "low"),
    "oneshot.produce": ("one-shot: kafkaredis produce MSG (cached, verified)", "s", "low"),
    "oneshot.produce_noverify": ("one-shot: kafkaredis produce MSG --no-verify", "s", "low"),
    "oneshot.cache_get": ("one-shot: kafkaredis cache get ID", "s", "low"),
    "memory.raw_rss_mb": ("peak RSS: raw confluent-kafka produce, N", "MB", "low"),
    "memory.kr_rss_mb": ("peak RSS: kafkaredis produce (cached), N", "MB", "low"),
    "memory.kr_rss_big_mb": (
        "peak RSS: kafkaredis produce (cached, verified), --rss-n",
        "MB",
        "low",
    ),
}


# Client CPU a message (user + system seconds of the whole process / N, in us) of every
# path, each against the raw loop's and the "same work" raw baseline's (section.raw/.same).
CPU_PATHS = {
    "produce": ("raw", "same", "kcat", "kr_nocache", "kr_cache", "kr_verify", "kr_cache_cluster"),
    "consume": ("raw", "same", "kcat", "kr", "kr_share", "kr_nocache", "kr_table", "kr_json"),
}


for _section, _paths in CPU_PATHS.items():
    for _path in _paths:
        _label = FIGURES[f"{_section}.{_path}"][0]
        FIGURES[f"cpu.{_section}.{_path}"] = (f"CPU/msg {_label}", "us", "low")


# Which figures a kafkaredis figure is compared with: (vs raw, vs kcat).
COMPARE: dict[str, tuple[str | None, str | None]] = {
    "produce.kr_nocache": ("produce.raw", "produce.kcat"),
    "produce.kr_cache": ("produce.raw", "produce.kcat"),
    "produce.kr_verify": ("produce.raw", "produce.kcat"),
    "produce.kr_cache_cluster": ("produce.raw", "produce.kcat"),
    "consume.kr": ("consume.raw", "consume.kcat"),
    "consume.kr_nocache": ("consume.raw", "consume.kcat"),
    "startup.help": ("startup.raw_import", "startup.kcat"),
    "startup.version": ("startup.raw_import", "startup.kcat"),
    "memory.kr_rss_mb": ("memory.raw_rss_mb", None),
}


# The targets: figure -> list of (kind, bound); kind "raw"/"kcat" is a minimum
# ratio, "max" an upper bound on the value itself.
TARGETS: dict[str, list[tuple[str, float]]] = {
    "produce.kr_nocache": [("raw", 0.9)],
    "produce.kr_cache": [("raw", 0.6), ("kcat", 0.5)],
    "produce.kr_verify": [("raw", 0.4)],
    "produce.kr_cache_cluster": [("standalone", 0.7)],
    "consume.kr": [("raw", 0.8), ("kcat", 0.5)],
    "consume.kr_table": [("format_raw", 0.5)],
    "consume.kr_json": [("format_raw", 0.5)],
    "timer.p50_ms": [("max", 5.0)],
    "timer.p99_ms": [("max", 20.0)],
    "startup.help": [("max", 0.25), ("typer", 1.5)],
    "oneshot.produce": [("raw_send", 1.2)],
    "cpu.produce.kr_cache": [("max", 6.5)],
    "cpu.produce.kr_verify": [("max", 10.0)],
    "cpu.consume.kr": [("max", 5.0)],
    "memory.kr_rss_big_mb": [("max", 150.0)],
}


# Figures compared with another kafkaredis figure: name -> (kind, the other figure).
RELATIVE: dict[str, tuple[str, str]] = {
    "produce.kr_cache_cluster": ("standalone", "produce.kr_cache"),
    # The default output formats against kafkaredis's own --format raw (issue 13).
    "consume.kr_table": ("format_raw", "consume.kr_nocache"),
    "consume.kr_json": ("format_raw", "consume.kr_nocache"),
    # One-shot commands against the Python floor (issue 16): at most 1.5x / 1.2x.
    "startup.help": ("typer", "startup.import_typer"),
    "oneshot.produce": ("raw_send", "oneshot.raw_produce"),
}


# Target kinds that are upper bounds on the ratio (the others are lower bounds).
UPPER_RATIOS = {"typer", "raw_send"}


SECTIONS = ("produce", "consume", "timer", "startup", "memory", "soak")
# Run unless --only says otherwise (the soak takes --soak-minutes: only when asked).
DEFAULT_SECTIONS = ("produce", "consume", "timer", "startup", "memory")
