"""Ctrl-C and SIGTERM: the first asks the loop to stop after the tick in flight; a second
one aborts that tick too (KeyboardInterrupt)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Stopper:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def stop(self, reason: str = "stop") -> None:
        self.signal_name = self.signal_name or reason
        self._event.set()

    def wait(self, timeout_s: float) -> bool:
        """Sleep up to `timeout_s`; True as soon as a stop was asked for."""
        return self._event.wait(max(0.0, timeout_s))


@contextmanager
def stop_on_signals() -> Iterator[Stopper]:
    stopper = Stopper()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stopper.stopped:
            raise KeyboardInterrupt  # asked twice: do not wait for the tick in flight
        stopper.stop(signal.Signals(signum).name)

    wanted = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, handler) for sig in wanted}
    try:
        yield stopper
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
