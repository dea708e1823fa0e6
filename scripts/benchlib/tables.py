"""The tables scripts/bench prints: every figure with its ratios and targets, the client
CPU a message of every path, and the import-time lines."""

from __future__ import annotations

from typing import Any


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "msg/s":
        return f"{value:,.0f} msg/s"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{value:.0f} {unit}"


def _targets_cells(entry: dict[str, Any]) -> tuple[str, str]:
    targets = entry.get("targets", [])
    return (
        ", ".join(t["target"] for t in targets),
        ", ".join({True: "yes", False: "NO", None: "?"}[t["ok"]] for t in targets),
    )


def _markdown(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [
            c.ljust(w) if j == 0 else c.rjust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def cpu_table(figures: dict[str, Any]) -> str:
    """Client CPU a message of every path, against the raw loop and the same-work raw
    baseline of its section (multiples: 2.00 = twice the CPU a message)."""
    rows: list[tuple[str, ...]] = [
        ("client CPU a message", "us/msg", "x raw loop", "x same work", "excl. start-up",
         "target", "met")
    ]  # fmt: skip
    for name, entry in figures.items():
        if not name.startswith("cpu.") or entry["value"] is None:
            continue
        ratio = {k: entry.get(f"cpu_x_{k}") for k in ("raw", "same")}
        rows.append(
            (
                entry["label"].removeprefix("CPU/msg "),
                f"{entry['value']:.2f}",
                "-" if ratio["raw"] is None else f"{ratio['raw']:.2f}",
                "-" if ratio["same"] is None else f"{ratio['same']:.2f}",
                "-" if "value_excl_startup" not in entry else f"{entry['value_excl_startup']:.2f}",
                *_targets_cells(entry),
            )
        )
    return _markdown(rows)


def importtime_lines(extra: dict[str, Any]) -> list[str]:
    lines = []
    for command, summary in extra.get("importtime", {}).items():
        top = ", ".join(f"{pkg} {ms:.0f}" for pkg, ms in summary["top"])
        lines.append(
            f"importtime: kafkaredis {command}: {summary['total_ms']:.0f} ms of imports, "
            f"{summary['modules']} modules; by package (ms, self): {top}"
        )
    if "cache_get_loads_confluent_kafka" in extra:
        loads = extra["cache_get_loads_confluent_kafka"]
        lines.append(f"importtime: cache get loads confluent-kafka: {'YES' if loads else 'no'}")
    return lines


def table(figures: dict[str, Any], notes: dict[str, str]) -> str:
    rows: list[tuple[str, ...]] = [("figure", "median", "x raw ck", "x kcat", "target", "met")]
    for name, entry in figures.items():
        if name.startswith("cpu."):
            continue  # cpu_table()
        if entry["value"] is None:
            section = name.split(".")[0]
            if section in notes:
                rows.append((entry["label"], notes[section][:40], "", "", "", ""))
            continue
        ratio = {k: entry.get(f"vs_{k}") for k in ("raw", "kcat")}
        rows.append(
            (
                entry["label"],
                fmt_value(entry["value"], entry["unit"]),
                "-" if ratio["raw"] is None else f"{ratio['raw']:.2f}",
                "-" if ratio["kcat"] is None else f"{ratio['kcat']:.2f}",
                *_targets_cells(entry),
            )
        )
    return _markdown(rows)
