"""Bringing nodes up: start those that do not run (formatting Kafka storage, preparing
the Redis mode), then wait until every node answers and each component is healthy; on
failure stop what was started and restore the recorded settings."""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import time
from pathlib import Path

from stacklib import kafka_nodes, redis_modes, secure
from stacklib.layout import COMPONENT_KEYS, HOST, Node, Stack, StackError
from stacklib.prereqs import java_binary, kafka_client, kafka_libs, redis_binary
from stacklib.probes import comp_health, describe, layout_name, node_ready
from stacklib.processes import (
    file_size,
    log_tail_text,
    port_in_use,
    read_pid,
    stop_pids,
    write_pid,
)


def bring_up(
    args: argparse.Namespace,
    stack: Stack,
    comps: list[str],
    nodes: list[Node],
    fresh: dict[str, bool],
    joined: bool,
) -> tuple[list[Node], dict[str, int]]:
    """Start those of `nodes` that do not run and wait until all answer (and, unless
    `joined`, until each component of `comps` is healthy).  Returns (started, pids)."""
    recorded = stack.saved()
    if any(n.comp == "kafka" for n in nodes):
        kafka_client()
    to_start = [n for n in nodes if read_pid(stack, n) is None]
    kafka_start = [n for n in to_start if n.comp == "kafka"]
    redis_start = [n for n in to_start if n.comp == "redis"]
    java = redis = ""
    libs = Path()
    if kafka_start:
        java = java_binary()
    if redis_start:
        redis = redis_binary()
        redis_binary("redis-cli")
    for node in to_start:
        for port in node.ports:
            if port_in_use(port):
                raise StackError(
                    f"cannot start {node.name}: port {HOST}:{port} is already "
                    "in use by another process (pick others with --kafka-port/--redis-port)"
                )
    if kafka_start:
        libs = kafka_libs(stack.cfg["kafka_version"])

    # Record the settings of the components started here; keep the others'.
    merged = dict(recorded)
    for comp in comps:
        for key in COMPONENT_KEYS[comp]:
            merged[key] = stack.cfg[key]
    for key, value in stack.cfg.items():
        merged.setdefault(key, value)
    stack.cfg = merged
    stack.save()

    procs: dict[str, subprocess.Popen[bytes]] = {}
    # Show only what this start wrote to the logs if it fails.
    marks = {p: file_size(p) for n in to_start for p in stack.log_files(n)}
    try:
        if stack.secure and to_start:
            secure.ensure_material(stack)
        if kafka_start:
            for node in kafka_start:
                kafka_nodes.write_config(stack, node)
            blank = [n for n in kafka_start if not kafka_nodes.formatted(stack, n)]
            if blank:
                kafka_nodes.format_storage(stack, blank, java, libs)
        if redis_start:
            redis_modes.prepare(stack, fresh=fresh.get("redis", False))
        for node in redis_start:  # data nodes before the sentinel (last in the list)
            if node.kind == "sentinel" and len(redis_start) > 1:
                redis_modes.await_replication(stack)
            procs[node.name] = redis_modes.start(stack, node, redis)
            write_pid(stack, node, procs[node.name].pid)
        for node in kafka_start:
            procs[node.name] = kafka_nodes.start(stack, node, java, libs)
            write_pid(stack, node, procs[node.name].pid)
        wait_ready(args, stack, comps, nodes, procs, marks, joined)
        if stack.secure and kafka_start:
            secure.create_acls(stack)
    except BaseException:
        stop_pids({name: p.pid for name, p in procs.items() if p.poll() is None}, 15.0, False)
        for node in to_start:
            if node.name in procs:
                procs[node.name].wait()
                with contextlib.suppress(OSError):
                    stack.pid_file(node).unlink()
        # A failed start must not leave its settings for the next plain `up`.
        if recorded:
            stack.cfg = recorded
            stack.save()
        else:
            with contextlib.suppress(OSError):
                stack.config_file.unlink()
        raise
    pids = {
        n.name: procs[n.name].pid if n.name in procs else read_pid(stack, n) or 0 for n in nodes
    }
    return to_start, pids


def wait_ready(
    args: argparse.Namespace,
    stack: Stack,
    comps: list[str],
    nodes: list[Node],
    procs: dict[str, subprocess.Popen[bytes]],
    marks: dict[Path, int],
    joined: bool,
) -> None:
    deadline = time.monotonic() + args.timeout
    pending = list(nodes)
    last: dict[str, str] = {}
    while True:
        for node in list(pending):
            proc = procs.get(node.name)
            if proc is not None and proc.poll() is not None:
                raise StackError(
                    f"{node.name} exited with code {proc.returncode} while starting "
                    f"({describe(stack, node)})",
                    detail=log_tail_text(stack, [node], since=marks),
                )
            if proc is None and read_pid(stack, node) is None:
                raise StackError(f"{node.name} died", detail=log_tail_text(stack, [node]))
            why = node_ready(stack, node, joined)
            if why is None:
                pending.remove(node)
            else:
                last = {"what": node.name, "why": why}
        if not pending:
            if joined:
                return
            for comp in comps:
                why = comp_health(stack, comp, form=True)
                if why is not None:
                    last = {"what": layout_name(stack, comp), "why": why}
                    break
            else:
                return
        if time.monotonic() >= deadline:
            failing = [n for n in nodes if n.name == last["what"]] or [
                n for n in nodes if n.comp in last["what"]
            ]
            raise StackError(
                f"{last['what']} not ready within {args.timeout:g}s (last probe: {last['why']})",
                detail=log_tail_text(stack, failing, since=marks),
            )
        time.sleep(0.25)
