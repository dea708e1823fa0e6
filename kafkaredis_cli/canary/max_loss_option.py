"""--max-loss: how many lost test messages a run may have and still pass."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kafkaredis_cli.errors import UsageError


@dataclass(frozen=True, slots=True)
class LossLimit:
    """A count (`3`) or a fraction of the messages sent (`0.05`, `5%`)."""

    count: int | None = 0
    fraction: float | None = None

    @classmethod
    def parse(cls, text: str) -> LossLimit:
        raw = text.strip()
        bad = UsageError(
            f"--max-loss {text!r} is not a count (3), a fraction (0.05) or a percentage (5%)"
        )
        if re.fullmatch(r"\d{1,18}", raw):
            return cls(count=int(raw))
        if re.fullmatch(r"\d+(\.\d*)?%|\.\d+%", raw):
            percent = float(raw[:-1])
            if percent > 100:
                raise bad
            return cls(count=None, fraction=percent / 100)
        if re.fullmatch(r"\d*\.\d+|\d+\.", raw):
            value = float(raw)
            if value > 1:
                raise UsageError(
                    f"--max-loss {text!r}: a fraction is at most 1 "
                    f"(for a count, write {int(value)})"
                )
            return cls(count=None, fraction=value)
        raise bad

    def allows(self, lost: int, sent: int) -> bool:
        if self.fraction is not None:
            return sent == 0 or lost / sent <= self.fraction + 1e-12
        return lost <= (self.count or 0)

    def __str__(self) -> str:
        if self.fraction is not None:
            return f"{self.fraction * 100:g}%"
        return str(self.count or 0)
