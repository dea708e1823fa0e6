"""The commands of scripts/stack: up, down, status, env, logs, and per-node control
(kill, pause, resume, start)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import time
from pathlib import Path

from stacklib import secure
from stacklib.bring_up import bring_up
from stacklib.layout import (
    COMPONENT_KEYS,
    COMPONENTS,
    LAYOUT_KEYS,
    Stack,
    StackError,
    resolve_config,
    say,
)
from stacklib.prereqs import kafka_client
from stacklib.probes import comp_health, describe, layout_name, node_ready
from stacklib.processes import (
    alive,
    live_pid_files,
    log_tail_text,
    paused,
    read_pid,
    stop_pids,
)

# --------------------------------------------------------------------------
# up / start


def cmd_up(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    begin = time.monotonic()
    if args.fresh:
        down = argparse.Namespace(stop_timeout=args.stop_timeout, kill=False, wipe=True)
        cmd_down(down, stack, comps)
        resolve_config(args, stack)  # stack.json may be gone now
    recorded = stack.saved()
    fresh = {}
    for comp in comps:
        live = live_pid_files(stack, comp)
        fresh[comp] = not live
        if not live:
            continue
        for key in COMPONENT_KEYS[comp]:
            if key not in recorded or recorded[key] == stack.cfg[key]:
                continue
            what = key.replace("_", " ")
            if key in LAYOUT_KEYS:
                raise StackError(
                    f"{comp} already runs with {what} {recorded[key]} in {stack.dir}, "
                    f"not {stack.cfg[key]}; run `down` first",
                    code=2,
                )
            say(f"warning: {comp} already runs; new {what} ignored (`down` it first)")
            stack.cfg[key] = recorded[key]
        stray = sorted(set(live) - {n.name for n in stack.nodes([comp])})
        if stray:
            raise StackError(
                f"{comp} runs as {', '.join(stray)} in {stack.dir}, not as "
                f"{layout_name(stack, comp)}; run `down` first",
                code=2,
            )
    nodes = stack.nodes(comps)
    started, pids = bring_up(args, stack, comps, nodes, fresh, joined=False)
    for node in nodes:
        state = "started" if node in started else "already running"
        say(f"{describe(stack, node)}: {state}, pid {pids[node.name]}")
    if started:
        say(f"ready in {time.monotonic() - begin:.1f}s; state in {stack.dir}")
    else:
        say("nothing to do: already running and answering")
    return 0


def cmd_start(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    begin = time.monotonic()
    node = stack.node(args.node)
    fresh = {node.comp: not live_pid_files(stack, node.comp)}
    started, pids = bring_up(args, stack, [node.comp], [node], fresh, joined=True)
    state = "started" if started else "already running"
    took = f", ready in {time.monotonic() - begin:.1f}s" if started else ""
    say(f"{describe(stack, node)}: {state}, pid {pids[node.name]}{took}")
    return 0


# --------------------------------------------------------------------------
# down / kill / pause / resume


def wipe(stack: Stack, comps: list[str]) -> None:
    def remove(path: Path) -> None:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    kafka_homes = [p for p in stack.dir.glob("kafka*") if p.is_dir()]
    redis_homes = [p for p in (*stack.dir.glob("redis*"), stack.dir / "sentinel") if p.is_dir()]
    if set(comps) == set(COMPONENTS):
        for path in (*kafka_homes, *redis_homes, stack.logs, stack.config_file, secure.home(stack)):
            remove(path)
        say(f"wiped {stack.dir}")
        return
    if "kafka" in comps:
        for home in kafka_homes:
            if (home / "data").exists():
                remove(home / "data")
                say(f"wiped Kafka data in {home / 'data'}")
    if "redis" in comps:
        for home in redis_homes:
            remove(home)


def cmd_down(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    for comp in reversed(comps):  # redis first, kafka last
        running = live_pid_files(stack, comp)
        if not running:
            say(f"{comp} not running")
            continue
        started = time.monotonic()
        stop_pids(running, args.stop_timeout, args.kill)
        for name in running:
            with contextlib.suppress(OSError):
                (stack.dir / f"{name}.pid").unlink()
        how = "killed" if args.kill else "stopped"
        which = ", ".join(f"{name} pid {pid}" for name, pid in running.items())
        if list(running) == [comp]:
            which = f"pid {running[comp]}"
        say(f"{comp} {how} ({which}, {time.monotonic() - started:.1f}s)")
    if args.wipe:
        wipe(stack, comps)
    return 0


def cmd_kill(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    node = stack.node(args.node)
    pid = read_pid(stack, node)
    if pid is None:
        say(f"{node.name} not running")
        return 0
    stop_pids({node.name: pid}, 0, kill=True)
    with contextlib.suppress(OSError):
        stack.pid_file(node).unlink()
    say(f"{node.name} killed (SIGKILL, pid {pid})")
    return 0


def cmd_pause_resume(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    node = stack.node(args.node)
    pid = read_pid(stack, node)
    if pid is None:
        raise StackError(f"{node.name} is not running")
    pause = args.command == "pause"
    os.kill(pid, signal.SIGSTOP if pause else signal.SIGCONT)
    deadline = time.monotonic() + 5
    while paused(pid) != pause and alive(pid):
        if time.monotonic() >= deadline:
            raise StackError(f"{node.name} (pid {pid}) did not {args.command}")
        time.sleep(0.02)
    say(f"{node.name} {'paused (SIGSTOP)' if pause else 'resumed (SIGCONT)'}, pid {pid}")
    return 0


# --------------------------------------------------------------------------
# status / env / logs


def cmd_status(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    if "kafka" in comps:
        kafka_client()
    ok = True
    for comp in comps:
        nodes = stack.nodes([comp])
        answering = 0
        for node in nodes:
            pid = read_pid(stack, node)
            if pid is None:
                say(f"{node.name}: not running ({describe(stack, node)})")
                continue
            if paused(pid):
                say(f"{node.name}: PAUSED (SIGSTOP), pid {pid}, {describe(stack, node)}")
                continue
            why = node_ready(stack, node)
            answering += why is None
            state = "answering" if why is None else f"NOT answering: {why}"
            say(f"{node.name}: running, pid {pid}, {describe(stack, node)}, {state}")
        if answering < len(nodes):
            ok = False
        elif len(nodes) > 1:
            why = comp_health(stack, comp)
            ok = ok and why is None
            state = "healthy" if why is None else f"NOT healthy: {why}"
            say(f"{layout_name(stack, comp)}: {state}")
    say(f"state dir {stack.dir}")
    return 0 if ok else 1


def cmd_env(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    if stack.secure:
        for line in secure.env_lines(stack, args.user or "kr-user", comps):
            print(line)
        return 0
    if args.user:
        raise StackError("--user goes with a secure stack (`up --secure`)", code=2)
    if "kafka" in comps:
        print(f"export KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS={shlex.quote(stack.kafka_bootstrap)}")
    if "redis" in comps:
        print(f"export KAFKAREDIS_REDIS__URL={shlex.quote(stack.redis_url)}")
    return 0


def cmd_logs(args: argparse.Namespace, stack: Stack, comps: list[str]) -> int:
    nodes = [stack.node(args.node)] if args.node else stack.nodes(comps)
    files = [p for node in nodes for p in stack.log_files(node) if p.exists()]
    if not files:
        say(f"no logs in {stack.logs}")
        return 0
    if args.follow:
        os.execvp("tail", ["tail", "-n", str(args.lines), "-F", *map(str, files)])
    text = log_tail_text(stack, nodes, args.lines)
    if text:
        print(text)
    return 0


COMMANDS = {
    "up": cmd_up,
    "down": cmd_down,
    "status": cmd_status,
    "env": cmd_env,
    "logs": cmd_logs,
    "kill": cmd_kill,
    "pause": cmd_pause_resume,
    "resume": cmd_pause_resume,
    "start": cmd_start,
}
