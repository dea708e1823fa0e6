"""The soak section (only with --only soak, or soak named in --only): the canary for
--soak-minutes at --soak-interval (default 10 minutes at 50 ticks a second) with
/metrics and /healthz served and scraped, its RSS and open file descriptors sampled
every --soak-sample seconds from /proc. Reported: the first sample after a minute's
warm-up, the last and the largest, and the growth from the first to the last; the
ticks verified and lost; /healthz at each sample. Nothing is asserted: a leak shows as
growth, the number to read."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

from benchlib.context import Context
from benchlib.processes import BenchError, say

WARM_UP_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for process {pid}")


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def bench_soak(ctx: Context) -> None:
    args = ctx.args
    duration_s = args.soak_minutes * 60
    topic = ctx.broker.topic("soak")
    port = _free_port()
    out = ctx.workdir / "soak-ticks.jsonl"
    cmd = ctx.kr(
        "timer", "--topic", topic, "--interval", f"{args.soak_interval:g}", "--json",
        "--metrics-port", str(port),
    )  # fmt: skip
    say(
        f"  soak: timer every {args.soak_interval:g}s for {args.soak_minutes:g} min, "
        f"sampling every {args.soak_sample:g}s"
    )
    samples: list[dict[str, Any]] = []
    with out.open("wb") as stdout:
        proc = subprocess.Popen(cmd, env=ctx.env, cwd=ctx.workdir, stdout=stdout,
                                stderr=subprocess.PIPE)  # fmt: skip
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < duration_s:
                if proc.poll() is not None:
                    raise BenchError(f"the timer ended early ({proc.returncode})")
                samples.append(
                    {
                        "t_s": round(elapsed, 1),
                        "rss_mb": round(_rss_mb(proc.pid), 1),
                        "fds": _fds(proc.pid),
                        "healthz": _get(port, "/healthz"),
                        "metrics": _get(port, "/metrics"),
                    }
                )
                time.sleep(min(args.soak_sample, max(0.0, duration_s - elapsed)))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    lines = [json.loads(raw) for raw in out.read_text().splitlines() if raw.startswith("{")]
    summary = next((line for line in lines if line.get("type") == "summary"), None)
    if summary is None:
        raise BenchError(f"the soak's timer wrote no summary: {stderr[-400:]}")
    settled = [s for s in samples if s["t_s"] >= min(WARM_UP_S, duration_s / 2)] or samples
    first, last = settled[0], settled[-1]
    result = {
        "minutes": args.soak_minutes,
        "interval_s": args.soak_interval,
        "ticks": summary.get("sent"),
        "verified": summary.get("verified"),
        "lost": summary.get("lost"),
        "rss_mb": {"first": first["rss_mb"], "last": last["rss_mb"],
                   "max": max(s["rss_mb"] for s in settled),
                   "growth": round(last["rss_mb"] - first["rss_mb"], 1)},
        "fds": {"first": first["fds"], "last": last["fds"],
                "max": max(s["fds"] for s in settled), "growth": last["fds"] - first["fds"]},
        "healthz_not_200": sum(s["healthz"] != 200 for s in settled),
        "samples": samples,
    }  # fmt: skip
    ctx.extra["soak"] = result
    rss, fds = result["rss_mb"], result["fds"]
    say(
        f"  soak: {result['ticks']:,} ticks ({result['verified']:,} verified, "
        f"{result['lost']} lost) in {args.soak_minutes:g} min; RSS {rss['first']:.1f} -> "
        f"{rss['last']:.1f} MB (max {rss['max']:.1f}, growth {rss['growth']:+.1f}), fds "
        f"{fds['first']} -> {fds['last']} (max {fds['max']}, growth {fds['growth']:+d}); "
        f"/healthz not 200 at {result['healthz_not_200']} of {len(settled)} samples "
        f"after the first minute"
    )
