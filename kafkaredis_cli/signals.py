"""Ctrl-C (SIGINT) and SIGTERM, handled the same way by produce, consume and timer.

The first signal asks the work to stop at its next safe point (between two messages, after
the tick in flight): what was done is still flushed, committed and counted. A second one
forces the exit at once with `ForcedStop` (a KeyboardInterrupt) from wherever the program
is. Either way the exit status is 128 + the first signal's number, as shells expect:
130 for Ctrl-C, 143 for SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_status_for(signum: int) -> int:
    """The shell's convention for a process ended by a signal."""
    return 128 + int(signum)


class ForcedStop(KeyboardInterrupt):
    """A second stop signal: leave now, without waiting for the work in flight."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.partial: object = None  # what the stopped work had done (a batch's accounting)


class StopRequest:
    """Whether (and by which signal) the work was asked to stop; call it as `should_stop`."""

    def __init__(self) -> None:
        self.signals: list[int] = []
        self._event = threading.Event()
        self._reason: str | None = None

    def __call__(self) -> bool:  # once a message in a batch: one call, not two
        return self._event.is_set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    @property
    def first_signal(self) -> int | None:
        return self.signals[0] if self.signals else None

    @property
    def signal_name(self) -> str | None:
        """SIGINT, SIGTERM, or the reason given to `stop()`."""
        first = self.first_signal
        return signal.Signals(first).name if first is not None else self._reason

    @property
    def exit_status(self) -> int:
        return exit_status_for(self.first_signal or signal.SIGINT)

    def stop(self, reason: str = "stop") -> None:
        """Ask for a stop without a signal (tests, the canary's own limits)."""
        self._reason = self._reason or reason
        self._event.set()

    def wait(self, timeout_s: float) -> bool:
        """Sleep up to `timeout_s`; True as soon as a stop was asked for."""
        return self._event.wait(max(0.0, timeout_s))

    def on_signal(self, signum: int) -> None:
        """The signal handler: the first asks, a second forces."""
        if self.signals:
            raise ForcedStop(self.signals[0])
        self.signals.append(int(signum))
        self._event.set()
        self.after_first_signal()

    def after_first_signal(self) -> None:
        """A hook for subclasses (input reading ends a wait for the next line here)."""


R = TypeVar("R", bound=StopRequest)


@contextmanager
def stop_on_signals(request: R) -> Iterator[R]:
    """Route SIGINT and SIGTERM to `request` for the `with` block, then restore them."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        request.on_signal(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield request
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
