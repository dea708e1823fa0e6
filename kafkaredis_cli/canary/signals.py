"""Ctrl-C and SIGTERM for the timer: the shared rule (kafkaredis_cli.signals) — the first
asks the loop to stop after the tick in flight; a second aborts that tick too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kafkaredis_cli.signals import StopRequest
from kafkaredis_cli.signals import stop_on_signals as _stop_on_signals

Stopper = StopRequest


@contextmanager
def stop_on_signals() -> Iterator[Stopper]:
    with _stop_on_signals(Stopper()) as stopper:
        yield stopper
