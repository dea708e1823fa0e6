"""Parsers of repeatable KEY=VALUE options: `--header` (produce) and `-X` (root).

A bad one is rejected here, before anything connects: a usage error naming it."""

from __future__ import annotations

from kafkaredis_cli.errors import UsageError


def parse_pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    """`key=value` strings (for -X and --header); the message names the bad one."""
    pairs = []
    for raw in values or []:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {raw!r} is not key=value")
        pairs.append((key.strip(), value))
    return pairs
