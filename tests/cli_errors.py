"""Assertions on a CLI run that failed: the documented exit status and one error line."""

from __future__ import annotations

from typing import Protocol

from kafkaredis_cli.errors import ExitStatus


class Outcome(Protocol):
    exit_code: int
    stdout: str
    stderr: str


def error_line(result: Outcome, status: ExitStatus, *needles: str) -> str:
    """Assert the documented status and exactly one `kafkaredis: error:` line naming it all."""
    output = result.stdout + result.stderr
    assert result.exit_code == status, (
        f"exit {result.exit_code}, wanted {int(status)}\n{result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("kafkaredis: error: ")]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "unexpected" not in line, line  # a bug's message, not a named problem
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def usage_error(result: Outcome, *needles: str) -> None:
    """Typer/Click's own usage errors (bad option values): exit 2, the problem named."""
    assert result.exit_code == ExitStatus.USAGE, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not in {result.stderr!r}"
