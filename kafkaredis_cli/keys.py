"""Every Redis key kafkaredis writes, built in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kafkaredis_cli.errors import UsageError

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass(frozen=True, slots=True)
class KeySpace:
    prefix: str = "kafkaredis"

    def message(self, message_id: str) -> str:
        return f"{self.prefix}:msg:{message_id}"

    def latest(self, topic: str) -> str:
        return f"{self.prefix}:latest:{topic}"

    def timer(self, producer_id: str) -> str:
        return f"{self.prefix}:timer:{producer_id}"

    def everything(self) -> str:
        return f"{self.prefix}:*"

    def all_messages(self) -> str:
        return f"{self.prefix}:msg:*"

    def kind_of(self, key: str) -> str:
        """msg | latest | timer | other, from a full key."""
        rest = key[len(self.prefix) + 1 :] if key.startswith(self.prefix + ":") else ""
        kind = rest.split(":", 1)[0]
        return kind if kind in ("msg", "latest", "timer") else "other"

    def resolve(self, user_key: str) -> str:
        """What a user types (`ID`, `latest:TOPIC`, `msg:ID` or a full key) -> the full key."""
        _utf8(user_key, "the key")
        if user_key.startswith(self.prefix + ":"):
            return user_key
        if _UUID.match(user_key):
            return self.message(user_key)
        return f"{self.prefix}:{user_key}"

    def pattern(self, user_pattern: str | None) -> str:
        """A SCAN pattern under the prefix; a bare pattern is taken relative to it."""
        if not user_pattern:
            return self.everything()
        _utf8(user_pattern, "the pattern")
        if user_pattern.startswith(self.prefix + ":"):
            return user_pattern
        return f"{self.prefix}:{user_pattern}"


def _utf8(text: str, what: str) -> None:
    """Every key kafkaredis writes is UTF-8 text: bytes that are not cannot name one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} {ascii(text)[:60]} is not UTF-8 text") from None
