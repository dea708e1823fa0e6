"""Pipeline behaviours around every handler: timing and logging."""

from __future__ import annotations

import logging
import time
from typing import Any

from kafkaredis_cli.errors import KafkaRedisError
from kafkaredis_cli.mediator import Command, Next

log = logging.getLogger("kafkaredis.mediator")


class TimingBehaviour:
    """Logs each command's name, outcome and duration (DEBUG; failures at INFO)."""

    def __call__(self, command: Command[Any], next_: Next) -> Any:
        name = type(command).__name__
        started = time.perf_counter()
        try:
            result = next_()
        except KafkaRedisError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            log.info(
                "%s failed after %.1f ms: %s",
                name,
                elapsed,
                exc,
                extra={"command": name, "duration_ms": round(elapsed, 3), "outcome": "error"},
            )
            raise
        elapsed = (time.perf_counter() - started) * 1000
        log.debug(
            "%s done in %.1f ms",
            name,
            elapsed,
            extra={"command": name, "duration_ms": round(elapsed, 3), "outcome": "ok"},
        )
        return result
