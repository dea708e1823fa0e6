"""A run's figures: medians, ratios, CPU multiples and targets met, and the machine they
were measured on."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from contextlib import suppress
from pathlib import Path
from typing import Any

from benchlib.context import Context
from benchlib.figures import COMPARE, FIGURES, RELATIVE, TARGETS, UPPER_RATIOS
from benchlib.services import ROOT, redis_version


def summarise(ctx: Context) -> dict[str, Any]:
    medians = {name: statistics.median(v) for name, v in ctx.samples.items() if v}
    figures: dict[str, Any] = {}
    for name, (label, unit, better) in FIGURES.items():
        value = medians.get(name)
        entry: dict[str, Any] = {
            "label": label,
            "unit": unit,
            "better": better,
            "value": value,
            "samples": ctx.samples.get(name, []),
        }
        raw_name, kcat_name = COMPARE.get(name, (None, None))
        for kind, other in (("raw", raw_name), ("kcat", kcat_name)):
            if other and value is not None and medians.get(other):
                ratio = value / medians[other]
                entry[f"vs_{kind}"] = ratio if better == "high" else 1 / ratio
        if name.startswith("cpu.") and value is not None:
            excl = ctx.extra.get("cpu_us_excl_startup", {}).get(name.removeprefix("cpu."))
            if excl:
                entry["value_excl_startup"] = statistics.median(excl)
            section = name.split(".")[1]
            for kind in ("raw", "same"):  # CPU multiples: 2.0 = twice the CPU a message
                ref = medians.get(f"cpu.{section}.{kind}")
                if ref:
                    entry[f"cpu_x_{kind}"] = value / ref
        if name in RELATIVE:
            kind, other = RELATIVE[name]
            if value is not None and medians.get(other):
                entry[f"vs_{kind}"] = value / medians[other]
        checks = []
        for kind, bound in TARGETS.get(name, []):
            if kind == "max":
                got = value
                ok = None if got is None else got <= bound
                checks.append({"target": f"<= {bound:g} {unit}", "ok": ok})
            elif kind in UPPER_RATIOS:
                got = entry.get(f"vs_{kind}")
                ok = None if got is None else got <= bound
                shown = "" if got is None else f" ({got:.2f})"
                checks.append({"target": f"<= {bound:g} x {kind}{shown}", "ok": ok})
            else:
                got = entry.get(f"vs_{kind}")
                ok = None if got is None else got >= bound
                checks.append({"target": f">= {bound:g} x {kind}", "ok": ok})
        if checks:
            entry["targets"] = checks
        figures[name] = entry
    return figures


def machine(ctx: Context) -> dict[str, Any]:
    import confluent_kafka
    import redis

    cpu = platform.processor() or platform.machine()
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = None
    with suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    os_name = platform.platform()
    with suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    kcat_version = None
    if ctx.kcat:
        out = subprocess.run([ctx.kcat, "-V"], capture_output=True, text=True).stdout
        kcat_version = " ".join(
            line.strip() for line in out.splitlines() if "version" in line.lower()
        )[:200]
    kafka_version = None
    with suppress(OSError, ValueError):
        kafka_version = json.loads((ROOT / ".stack" / "stack.json").read_text()).get(
            "kafka_version"
        )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "confluent_kafka": getattr(confluent_kafka, "__version__", None),
        "librdkafka": confluent_kafka.libversion()[0],
        "redis_py": redis.__version__,
        "redis_server": redis_version(ctx.redis_url),
        "kafka": kafka_version,
        "kcat": kcat_version,
    }
