"""Command-line arguments as bytes, as kcat takes them.

The shell hands a program bytes; Python decodes them with surrogateescape, so bytes that
are not UTF-8 (`$'\\xff\\xfe'`) arrive as lone surrogates. A MESSAGE, `--key` and
`--header` value is sent byte for byte: `os.fsencode` gives back exactly the bytes typed.
Names that Kafka keeps as strings (a header's name) must be UTF-8: anything else is bad
input (status 2).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import typer

from kafkaredis_cli.cli.option_parsers import parse_pairs
from kafkaredis_cli.errors import UsageError


def argument_bytes(text: str) -> bytes:
    """The bytes of a command-line argument, exactly as given."""
    return os.fsencode(text)


def utf8_name(text: str, what: str) -> str:
    """`text`, if it is UTF-8 (a name Kafka keeps as a string); else bad input."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not UTF-8 text") from None
    return text


def header_arguments(values: list[str] | None) -> tuple[tuple[str, bytes], ...]:
    """`--header NAME=VALUE` options: UTF-8 names, values byte for byte."""
    return tuple(
        (utf8_name(name, f"--header name {ascii(name)[:60]}"), argument_bytes(value))
        for name, value in parse_pairs(values, "--header")
    )


MAX_SECONDS = 7 * 86400.0  # a week: longer is a typo, and time.monotonic() + inf is no deadline


def seconds(option: str, minimum: float = 0.0) -> Callable[[str], float]:
    """A Typer parser of a finite number of seconds from `minimum` to a week (Typer's own
    float takes "inf", "nan" and 1e999)."""

    def parse(text: str | float) -> float:
        try:
            value = float(text)
        except ValueError:
            raise typer.BadParameter(f"{ascii(text)[:40]} is not a number of seconds") from None
        if not (math.isfinite(value) and minimum <= value <= MAX_SECONDS):
            raise typer.BadParameter(
                f"{option} takes {minimum:g} to {MAX_SECONDS:g} seconds, not {ascii(text)[:40]}"
            )
        return value

    return parse
