"""`kafkaredis timer`: the canary (built in the timer issue)."""

from __future__ import annotations

import typer


def timer(ctx: typer.Context) -> None:
    """Send a test message every --interval seconds and report latency and loss."""
    raise typer.Exit(1)
