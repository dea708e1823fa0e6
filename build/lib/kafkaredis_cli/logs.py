"""Logging to stderr: text or JSON lines; librdkafka's own log only when asked."""

from __future__ import annotations

import json
import logging
import sys
import time


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("command", "duration_ms", "outcome"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        return json.dumps(data)


def configure(level: str, fmt: str) -> None:
    root = logging.getLogger("kafkaredis")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    # librdkafka reports every refused connection; show it only at INFO or DEBUG.
    rdkafka_level = level if level in ("DEBUG", "INFO") else "CRITICAL"
    logging.getLogger("kafkaredis.librdkafka").setLevel(rdkafka_level)
