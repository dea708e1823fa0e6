"""One place for output: data to stdout, messages and errors to stderr."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

from kafkaredis_cli.formatting import write_json_line

if TYPE_CHECKING:
    from rich.console import Console


class _OnFirstUse:
    """A rich Console made when first used: `--help` and the commands that print no
    table do not load rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        console = self._console
        if console is None:
            from rich.console import Console

            console = self._console = Console(**self._options)
        return getattr(console, name)


# Piped output is not cut to 80 columns: tables keep whole keys and values.
_PIPE_WIDTH = None if sys.stdout.isatty() else 200
out = cast("Console", _OnFirstUse(highlight=False, soft_wrap=True, width=_PIPE_WIDTH))
err = cast("Console", _OnFirstUse(stderr=True, highlight=False, soft_wrap=True))


MAX_MESSAGE_CHARS = 1000


def bounded(message: str) -> str:
    """A message echoing a huge argument loses its middle; both ends name the problem."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    head, tail = message[:600], message[-300:]
    return f"{head}...[{len(message) - 900} characters left out]...{tail}"


def error(message: str) -> None:
    """The one-line error every failure ends with."""
    err.print(f"kafkaredis: error: {bounded(message)}", markup=False, highlight=False)


def warn(message: str) -> None:
    err.print(f"kafkaredis: warning: {bounded(message)}", markup=False, highlight=False)


# What rich's Text drops from a line: bell, backspace, vertical tab, form feed, return.
_DROPPED = dict.fromkeys((7, 8, 11, 12, 13))


def info(message: str) -> None:
    """A summary line on stderr, written as rich wrote it but without loading rich (a
    one-shot `consume` or `cache delete` prints nothing else through it)."""
    sys.stderr.write(message.translate(_DROPPED) + "\n")
    sys.stderr.flush()


def print_json(data: Any) -> None:
    """One JSON document (one line) on stdout."""
    write_json_line(sys.stdout, data)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
