"""Processes: pid files that survive pid reuse, spawning, signals, log tails, a lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from stacklib.layout import HOST, Node, Stack, say

LOG_TAIL = 30


def proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields


def proc_start_time(pid: int) -> str | None:
    """Start time (clock ticks since boot) of a live, non-zombie process."""
    if not Path("/proc/self/stat").exists():  # no procfs: best effort
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    fields = proc_stat(pid)
    return fields[19] if fields else None


def paused(pid: int) -> bool:
    fields = proc_stat(pid)
    return bool(fields and fields[0] == "T")


def read_pid(stack: Stack, node: Node) -> int | None:
    """The recorded pid if that very process (same start time) still runs.

    A stale pid file (process gone, or pid reused by another process) is removed.
    """
    return read_pid_file(stack.pid_file(node))


def read_pid_file(path: Path) -> int | None:
    try:
        words = path.read_text().split()
        pid, started = int(words[0]), words[1]
    except (OSError, ValueError, IndexError):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    now = proc_start_time(pid)
    if now is None or (now != started and "?" not in (now, started)):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return pid


def live_pid_files(stack: Stack, comp: str) -> dict[str, int]:
    """Every node of `comp` (whatever layout started it) that runs: name -> pid."""
    prefixes = ("kafka",) if comp == "kafka" else ("redis", "sentinel")
    found = {}
    for path in sorted(stack.dir.glob("*.pid")):
        name = path.name[: -len(".pid")]
        if name.split("-")[0] in prefixes:
            pid = read_pid_file(path)
            if pid is not None:
                found[name] = pid
    return found


def write_pid(stack: Stack, node: Node, pid: int) -> None:
    started = proc_start_time(pid) or "?"
    path = stack.pid_file(node)
    tmp = path.with_suffix(".pid.tmp")
    tmp.write_text(f"{pid} {started}\n")
    tmp.replace(path)


def alive(pid: int) -> bool:
    return proc_start_time(pid) is not None


def spawn(cmd: list[str], out: Path, cwd: Path) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "ab") as log, open(os.devnull, "rb") as devnull:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"=== {stamp} scripts/stack: {shlex.join(cmd)}\n".encode())
        log.flush()
        # Own session: survives this script, and is not hit by a Ctrl-C meant for it.
        return subprocess.Popen(
            cmd,
            stdin=devnull,
            stdout=log,
            stderr=log,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )


def stop_pid(pid: int, name: str, grace: float, kill: bool) -> None:
    stop_pids({name: pid}, grace, kill)


def stop_pids(pids: dict[str, int], grace: float, kill: bool) -> None:
    """Stop all at once: SIGTERM (a paused process is continued), SIGKILL after `grace` s."""
    if not kill:
        for pid in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
                os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(alive(p) for p in pids.values()):
            time.sleep(0.1)
        for name, pid in pids.items():
            if alive(pid):
                say(f"{name} (pid {pid}) still running after {grace:g}s, sending SIGKILL")
    for pid in pids.values():
        if not alive(pid):
            continue
        try:
            if os.getpgid(pid) == pid:  # we made it a session/group leader
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in pids.values()):
        time.sleep(0.05)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def tail(path: Path, lines: int = LOG_TAIL, since: int = 0) -> list[str]:
    """The last `lines` lines of `path`, written after byte offset `since`."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if since > size:  # truncated or rolled over meanwhile
                since = 0
            f.seek(max(since, size - 256 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return data.splitlines()[-lines:]


def log_tail_text(
    stack: Stack, nodes: list[Node], lines: int = LOG_TAIL, since: dict[Path, int] | None = None
) -> str:
    parts = []
    for node in nodes:
        for path in stack.log_files(node):
            got = tail(path, lines, (since or {}).get(path, 0))
            if got:
                parts.append(f"--- last {len(got)} lines of {path} ---")
                parts.extend(got)
    return "\n".join(parts)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
