"""How every command shows milliseconds and writes JSON lines (one place for each)."""

from __future__ import annotations

import json
from typing import Any, TextIO


def ms(value: float | None) -> str:
    """A duration for people: "12.3 ms", or "-" when there is none."""
    return "-" if value is None else f"{value:.1f} ms"


def ms_json(value: float | None) -> float | None:
    """A duration in a JSON document: milliseconds to the microsecond, or null."""
    return None if value is None else round(value, 3)


def write_json_line(stream: TextIO, data: Any) -> None:
    """One JSON document on one line (compact, UTF-8 as it is), flushed."""
    stream.write(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n")
    stream.flush()
