"""Running one measured process (wall time, CPU, peak RSS) and reading what it printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


@dataclass
class Run:
    seconds: float
    cpu_s: float  # user + system time of the process itself
    rss_mb: float
    returncode: int
    stdout: bytes
    stderr: str


def run_child(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdout_file: Path | None = None,
    timeout: float = 600.0,
) -> Run:
    """Run one process; its wall time and its own peak RSS (wait4), not its siblings'."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out_tmp:
        out = stdout_file.open("wb") if stdout_file is not None else out_tmp
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd
            )
            killer = threading.Timer(timeout, proc.kill)
            killer.start()
            try:
                _pid, status, usage = os.wait4(proc.pid, 0)
            finally:
                killer.cancel()
            seconds = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdout_file is not None:
                out.close()
        out_tmp.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            cpu_s=usage.ru_utime + usage.ru_stime,
            rss_mb=usage.ru_maxrss / 1024,  # Linux: kilobytes
            returncode=proc.returncode,
            stdout=out_tmp.read() if stdout_file is None else b"",
            stderr=err.read().decode("utf-8", "replace"),
        )


class BenchError(Exception):
    pass


def checked(run: Run, what: str) -> Run:
    if run.returncode != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-5:])
        raise BenchError(f"{what} exited with {run.returncode}: {tail}")
    return run


def last_json(stdout: bytes, what: str) -> dict[str, Any]:
    for line in reversed(stdout.decode("utf-8", "replace").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            with suppress(json.JSONDecodeError):
                data = json.loads(line)
                if isinstance(data, dict):
                    return data
    raise BenchError(f"{what} printed no JSON line: {stdout[-300:]!r}")
