"""Where `consume --from` starts: beginning, end, an offset, the last N, or a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from kafkaredis_cli.errors import UsageError


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
        """Parse `--from`: beginning|end|stored|OFFSET|-N|@EPOCH_MS|ISO-8601 time."""
        raw = text.strip()
        lowered = raw.lower()
        for kind in (StartKind.BEGINNING, StartKind.END, StartKind.STORED):
            if lowered == kind.value:
                return cls(kind)
        if re.fullmatch(r"\d+", raw):
            return cls(StartKind.OFFSET, int(raw))
        if re.fullmatch(r"-\d+", raw):
            n = int(raw[1:])
            if n == 0:
                raise UsageError(f"--from {raw!r}: -N needs N > 0")
            return cls(StartKind.LAST, n)
        if re.fullmatch(r"@\d+", raw):
            return cls(StartKind.TIMESTAMP, int(raw[1:]))
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"--from {raw!r} is not beginning, end, stored, an offset, -N, "
                "@epoch-ms or an ISO 8601 time"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(StartKind.TIMESTAMP, int(moment.timestamp() * 1000))
