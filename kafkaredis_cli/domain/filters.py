"""`consume --filter-key/--filter-value/--filter-header`: which records are shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import translate

from kafkaredis_cli.domain.messages import ConsumedRecord
from kafkaredis_cli.errors import UsageError


def _glob(pattern: str) -> re.Pattern[bytes]:
    """A shell glob (*, ?, [...]) matched against raw bytes: the pattern's text as UTF-8,
    so a key or value that is not UTF-8 can still match `*` or `?` byte by byte."""
    # surrogateescape: bytes of an argument that are not UTF-8 match those bytes
    return re.compile(translate(pattern).encode("utf-8", "surrogateescape"), re.DOTALL)


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """All given globs must match: the key, the value, and for each NAME=GLOB a header of
    that name. A missing (null) key, value or header matches nothing."""

    key: re.Pattern[bytes] | None = None
    value: re.Pattern[bytes] | None = None
    headers: tuple[tuple[str, re.Pattern[bytes]], ...] = ()

    @classmethod
    def parse(
        cls, key: str | None, value: str | None, headers: list[str] | None
    ) -> MessageFilter | None:
        """The filter the options ask for, or None when they ask for none."""
        pairs = []
        for raw in headers or []:
            name, sep, pattern = raw.partition("=")
            if not sep or not name:
                raise UsageError(f"--filter-header {raw!r} is not NAME=GLOB")
            pairs.append((name, _glob(pattern)))
        if key is None and value is None and not pairs:
            return None
        return cls(
            None if key is None else _glob(key),
            None if value is None else _glob(value),
            tuple(pairs),
        )

    def __call__(self, record: ConsumedRecord) -> bool:
        if self.key is not None and (record.key is None or not self.key.match(record.key)):
            return False
        if self.value is not None and (record.value is None or not self.value.match(record.value)):
            return False
        for name, pattern in self.headers:
            if not any(n == name and v is not None and pattern.match(v) for n, v in record.headers):
                return False
        return True
