"""A tiny run of scripts/bench (small N): the table and the JSON keep their shape.

No speed is asserted: only that every measurement ran and is reported, with ratios
and targets where the issue asks for them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench"
N = 300

# kafkaredis figures shown as ratios to raw confluent-kafka and to kcat
COMPARED = ("produce.kr_nocache", "produce.kr_cache", "produce.kr_verify", "consume.kr")
# every path with a client-CPU-a-message figure (issue 16), by section
CPU_PATHS = {
    "produce": ("raw", "same", "kr_nocache", "kr_cache", "kr_verify", "kr_cache_cluster"),
    "consume": ("raw", "same", "kr", "kr_share", "kr_nocache", "kr_table", "kr_json"),
}


@pytest.fixture(scope="module")
def bench_run(services, redis_cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    result = subprocess.run(
        [
            sys.executable, str(BENCH),
            "--n", str(N), "--repeat", "1",
            "--timer-ticks", "5", "--timer-interval", "0.05", "--timer-stats-samples", "20000",
            "--startup-runs", "1", "--rss-n", "400",
            "--bootstrap", services.bootstrap, "--redis-url", services.redis_url,
            "--redis-cluster-url", redis_cluster.url,
            "--no-kcat-install", "--json", str(out),
        ],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return result, out


def test_bench_runs_every_measurement_and_prints_the_table(bench_run):
    result, _ = bench_run
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"kafkaredis benchmark: N={N:,} x 100 B, 6 partitions")
    header = lines[1]
    for column in ("figure", "median", "x raw ck", "x kcat", "target", "met"):
        assert column in header
    table = "\n".join(lines[1:])
    for label in (
        "produce: raw confluent-kafka",
        "produce: kafkaredis --no-cache --no-verify",
        "produce: kafkaredis --no-verify (cached)",
        "produce: kafkaredis (cached, verified)",
        "produce: kafkaredis --no-verify (cached, Redis Cluster)",
        "consume: raw confluent-kafka",
        "consume: kafkaredis --format raw",
        "consume: kafkaredis --format table --no-cache",
        "consume: kafkaredis --format json --no-cache",
        "timer round trip p50",
        "timer round trip p99",
        "timer stats: record a tick (--timer-stats-samples)",
        "timer stats: summary after them",
        "start-up: kafkaredis --help",
        "start-up: kafkaredis --version",
        "start-up: python -c 'import typer'",
        "produce: raw Python, same work (2 id headers, callback, SET pipelined)",
        "consume: raw Python, same work (print, SET record pipelined, commit)",
        "one-shot: raw Python sends 1 message (idempotent)",
        "one-shot: kafkaredis produce MSG (cached, verified)",
        "one-shot: kafkaredis produce MSG --no-verify",
        "one-shot: kafkaredis cache get ID",
        "peak RSS: kafkaredis produce (cached, verified), --rss-n",
    ):
        assert label in table, label
    assert lines[-1].startswith("JSON: ")
    cpu_header = next(i for i, line in enumerate(lines) if "client CPU a message" in line)
    for column in ("us/msg", "x raw loop", "x same work", "excl. start-up"):
        assert column in lines[cpu_header]
    cpu_rows = [line for line in lines[cpu_header + 2 :] if line.startswith("| ")]
    assert len(cpu_rows) >= sum(len(paths) for paths in CPU_PATHS.values())
    for command in ("--help", "produce MSG", "cache get ID"):
        assert any(line.startswith(f"importtime: kafkaredis {command}: ") for line in lines)
    assert "importtime: cache get loads confluent-kafka: no" in lines


def test_bench_json_holds_every_figure_with_ratios_and_targets(bench_run):
    result, out = bench_run
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["parameters"]["n"] == N and report["parameters"]["partitions"] == 6
    assert report["failures"] == []
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["python"] and machine["librdkafka"]
    figures = report["figures"]
    have_kcat = shutil.which("kcat") is not None
    for name, entry in figures.items():
        if name.endswith(".kcat") and not have_kcat:
            continue
        assert entry["value"] is not None and entry["value"] > 0, name
        assert len(entry["samples"]) >= 1 and entry["unit"] in ("msg/s", "ms", "us", "s", "MB")
    for name in (*COMPARED, "consume.kr_nocache"):
        assert figures[name]["vs_raw"] > 0, name
        if have_kcat:
            assert figures[name]["vs_kcat"] > 0, name
    targets = {name: e["targets"] for name, e in figures.items() if "targets" in e}
    assert set(targets) == {
        "produce.kr_nocache",
        "produce.kr_cache",
        "produce.kr_verify",
        "produce.kr_cache_cluster",
        "consume.kr",
        "consume.kr_table",
        "consume.kr_json",
        "timer.p50_ms",
        "timer.p99_ms",
        "startup.help",
        "memory.kr_rss_big_mb",
        "oneshot.produce",
        "cpu.produce.kr_cache",
        "cpu.produce.kr_verify",
        "cpu.consume.kr",
    }
    assert figures["produce.kr_cache_cluster"]["vs_standalone"] > 0
    for name in ("consume.kr_table", "consume.kr_json"):
        assert figures[name]["vs_format_raw"] > 0
        assert figures[name]["targets"][0]["target"] == ">= 0.5 x format_raw"
    assert figures["produce.kr_cache_cluster"]["targets"][0]["target"] == ">= 0.7 x standalone"
    for checks in targets.values():
        for check in checks:
            if have_kcat or "kcat" not in check["target"]:
                assert isinstance(check["ok"], bool), checks
    for section, paths in CPU_PATHS.items():
        for path in paths:
            entry = figures[f"cpu.{section}.{path}"]
            assert entry["unit"] == "us" and entry["value"] > 0, path
            assert entry["cpu_x_raw"] > 0 and entry["cpu_x_same"] > 0, path
            assert entry["value_excl_startup"] >= 0, path  # an idle run's CPU taken off
            assert report["extra"]["startup_cpu_s"][f"{section}.{path}"] > 0, path
        assert figures[f"cpu.{section}.raw"]["cpu_x_raw"] == 1.0
        assert figures[f"cpu.{section}.same"]["cpu_x_same"] == 1.0
    # the same-work baselines did the job: every message delivered and its record cached
    assert figures["produce.same"]["value"] > 0 and figures["consume.same"]["value"] > 0
    assert figures["startup.help"]["vs_typer"] > 0
    assert figures["oneshot.produce"]["vs_raw_send"] > 0
    assert figures["oneshot.produce"]["targets"][0]["target"].startswith("<= 1.2 x raw_send")
    imports = report["extra"]["importtime"]
    assert set(imports) == {"--help", "produce MSG", "cache get ID"}
    for summary in imports.values():
        assert summary["total_ms"] > 0 and summary["modules"] > 10 and summary["top"]
    assert report["extra"]["cache_get_loads_confluent_kafka"] is False
    assert report["extra"]["rss_n"] == 400
    assert report["extra"]["timer_ticks_seen"] == 5
