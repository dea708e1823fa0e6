"""Real `kafkaredis consume` member processes whose stdout and stderr are read as they
come (so a member never blocks on a full pipe unless a test wants it to), and the
`members` fixture that kills whatever a test left running."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Member:
    proc: subprocess.Popen[bytes]
    out: list[bytes] = field(default_factory=list)
    err: list[bytes] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def drain(self, stream: str) -> None:
        source = getattr(self.proc, stream)
        sink = self.out if stream == "stdout" else self.err

        def read() -> None:
            for chunk in iter(lambda: source.read1(65536), b""):
                sink.append(chunk)

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        self.readers.append(thread)

    def finish(self, timeout: float) -> tuple[int, list[dict[str, Any]], str]:
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None  # stopped below: its stderr says where it was waiting
            self.proc.kill()
            self.proc.wait()
        for thread in self.readers:  # the process is gone: its pipes end
            thread.join(timeout=60)
            assert not thread.is_alive(), "a pipe of the finished process was not read out"
        lines = b"".join(self.out).decode().splitlines()
        err = b"".join(self.err).decode()
        assert status is not None, f"still running after {timeout} s; its stderr:\n{err}"
        assert not re.search(r"^%\d+\|", err, re.M), err  # no raw librdkafka log line
        bad = [line for line in lines if line and not line.startswith("{")]
        assert not bad, (bad[:3], err)
        return status, [json.loads(line) for line in lines if line], err


@pytest.fixture
def members() -> Iterator[list[Member]]:
    started: list[Member] = []
    yield started
    for member in started:
        if member.proc.poll() is None:
            member.proc.kill()
            member.proc.wait()
