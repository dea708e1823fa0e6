"""Where `consume --from` starts and `--to` stops: offsets, the last N, or times (absolute,
`now`, or relative like -15m)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from kafkaredis_cli.errors import UsageError

_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_RELATIVE = re.compile(r"-(\d{1,12})([smhdw])")
_NUMBER = r"\d{1,18}"  # an offset or epoch-ms (int64); longer is not a number we take
TIMES = "@epoch-ms, an ISO 8601 time, now or a relative time (-30s, -15m, -2h, -1d, -1w)"


def parse_time(raw: str, now_ms: int | None = None) -> int | None:
    """Epoch ms of `@epoch-ms`, `now`, `-15m` (before now) or an ISO 8601 time (naive
    times are UTC); None when `raw` is none of these."""
    text = raw.strip()
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if text.lower() == "now":
        return now
    if re.fullmatch(rf"@{_NUMBER}", text):
        return int(text[1:])
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return now - int(relative.group(1)) * _UNITS_MS[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class StartKind(Enum):
    BEGINNING = "beginning"
    END = "end"
    OFFSET = "offset"
    LAST = "last"  # the last N messages of each partition
    TIMESTAMP = "timestamp"
    STORED = "stored"  # the group's committed offset (else the reset policy)


@dataclass(frozen=True, slots=True)
class Start:
    kind: StartKind
    value: int = 0

    @classmethod
    def parse(cls, text: str) -> Start:
        """Parse `--from`: beginning|end|stored|OFFSET|-N|a time (see parse_time)."""
        raw = text.strip()
        lowered = raw.lower()
        for kind in (StartKind.BEGINNING, StartKind.END, StartKind.STORED):
            if lowered == kind.value:
                return cls(kind)
        if re.fullmatch(_NUMBER, raw):
            return cls(StartKind.OFFSET, int(raw))
        if re.fullmatch(rf"-{_NUMBER}", raw):
            n = int(raw[1:])
            if n == 0:
                raise UsageError(f"--from {raw!r}: -N needs N > 0")
            return cls(StartKind.LAST, n)
        moment = parse_time(raw)
        if moment is None:
            raise UsageError(
                f"--from {raw!r} is not beginning, end, stored, an offset, -N, {TIMES}"
            )
        return cls(StartKind.TIMESTAMP, moment)


class EndKind(Enum):
    OFFSET = "offset"  # the last offset read (inclusive)
    TIMESTAMP = "timestamp"  # up to the first message stamped after this time


@dataclass(frozen=True, slots=True)
class End:
    """Where `consume --to` stops each partition (resolved to an offset when it starts)."""

    kind: EndKind
    value: int

    @classmethod
    def parse(cls, text: str) -> End:
        """Parse `--to`: OFFSET (the last one read) or a time (see parse_time)."""
        raw = text.strip()
        if re.fullmatch(_NUMBER, raw):
            return cls(EndKind.OFFSET, int(raw))
        moment = parse_time(raw)
        if moment is None:
            raise UsageError(f"--to {raw!r} is not an offset, {TIMES}")
        return cls(EndKind.TIMESTAMP, moment)
