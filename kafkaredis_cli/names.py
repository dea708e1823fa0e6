"""Whether a name can be a Kafka topic, a Redis key prefix or a consumer group id: the
rules the settings and the command-line options check alike."""

from __future__ import annotations

import re

from kafkaredis_cli.errors import shown


def topic_problem(name: str) -> str | None:
    """Why `name` cannot be a Kafka topic (the broker's own rules), or None if it can."""
    if name in (".", "..") or not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", name):
        shown = name if len(name) <= 60 else name[:40] + f"... ({len(name)} characters)"
        return (
            f"{shown!r} is not a valid Kafka topic name (1 to 249 letters, digits, '.', '_' or '-')"
        )
    return None


_PATTERN_CHARACTERS = frozenset("*?[]\\")  # special in a SCAN MATCH pattern


def key_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot be the key prefix, or None. It enters SCAN MATCH patterns as it
    is, so a glob character or a backslash (which escapes the ':' after it) would let
    `cache` commands see and delete other applications' keys."""
    stripped = prefix.rstrip(":")
    if not stripped:
        return "the prefix must not be empty"
    if len(stripped) > 200:
        return "the prefix must be at most 200 characters"
    bad = sorted({c for c in stripped if c in _PATTERN_CHARACTERS or not c.isprintable()})
    if bad or " " in stripped:
        found = ", ".join(ascii(c) for c in bad[:5]) or "' '"
        return f"the prefix must be printable, without spaces, glob characters or \\ (has {found})"
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:
        return "the prefix must be UTF-8 text"
    return None


def group_problem(name: str) -> str | None:
    """Why `name` cannot be a consumer group id, or None. (librdkafka aborts the process on
    an empty or blank group.id; control characters make unreadable logs and listings.)"""
    if not name.strip():
        return f"{name!a} is not a consumer group id (it is empty or blank)"
    if len(name) > 255 or not name.isprintable():
        return f"{shown(name)} is not a consumer group id (at most 255 printable characters)"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return f"{shown(name)} is not a consumer group id (not UTF-8)"
    return None
