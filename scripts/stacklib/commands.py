"""The commands of scripts/stack: up, down, status, env, logs, and per-node control
(kill, pause, resume, start)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from stacklib import kafka_nodes, redis_modes
from stacklib.layout import (
    COMPONENT_KEYS,
    COMPONENTS,
    DEFAULT_KAFKA_VERSION,
    HOST,
    LAYOUT_KEYS,
    REDIS_MODES,
    SENTINEL_SERVICE,
    Node,
    Stack,
    StackError,
    resolve_config,
    say,
)
from stacklib.prereqs import REPO, java_binary, kafka_client, kafka_libs, redis_binary
from stacklib.processes import (
    LOG_TAIL,
    alive,
    file_size,
    live_pid_files,
    locked,
    log_tail_text,
    paused,
    port_in_use,
    read_pid,
    stop_pids,
    write_pid,
)

HELP = """\
Start and stop a real Apache Kafka 4.x (KRaft) and real Redis on loopback, without
Docker: one node of each by default, or a Kafka cluster and Redis Cluster / Sentinel.

usage: scripts/stack up|down|status|env|logs [NODE] [options]
       scripts/stack kill|pause|resume|start NODE [options]

  up       start what is not running yet and return once it answers: Kafka a real
           Metadata request listing every broker, Redis PING (a cluster: state ok,
           every primary with a replica; Sentinel: a master with a replica online).
           Else fail, print the log tail and stop what this call started.  A no-op
           when everything runs; restarts the nodes that do not.
  down     stop the processes this script started, by recorded pid (SIGTERM, then
           SIGKILL after a deadline).  Keeps Kafka's data unless --wipe.
  status   show every node's pid/ports and probe; exit 0 only if all is up and healthy.
  env      print `export KAFKAREDIS_...=...` lines for the stack
           (use: eval "$(scripts/stack env)").
  logs     print the tail of the logs (of NODE only if given; -n N lines, -f to follow).
  kill     SIGKILL one node (a crash).         pause   SIGSTOP one node (a hang).
  resume   SIGCONT a paused node.              start   restart a killed or stopped
           node on the same data and ports, and wait until it answers (and, in a
           Redis cluster, sees the cluster ok).
  NODE     kafka, redis (the defaults); kafka-1 .. kafka-N (--brokers N);
           redis-1 .. redis-6 (--redis cluster); redis-master, redis-replica, sentinel
           (--redis sentinel; named by the role they start in).

Options (all commands):
  --dir DIR               state dir (default <repo>/.stack; env KAFKAREDIS_STACK_DIR)
  --only kafka|redis      act on one component only
  --kafka-port N          broker port (default 19092; env KAFKAREDIS_STACK_KAFKA_PORT);
                          with --brokers N, broker i listens on N + 2(i-1) and its
                          controller on the port after it
  --controller-port N     KRaft controller port of a single node (default kafka port
                          + 1; env KAFKAREDIS_STACK_CONTROLLER_PORT)
  --redis-port N          redis port (default 16379; env KAFKAREDIS_STACK_REDIS_PORT);
                          cluster: nodes on N .. N+5, cluster bus ports N+6 .. N+11;
                          sentinel: master N, replica N+1, sentinel N+2
  --brokers N             Kafka nodes (default 1).  N > 1: a KRaft cluster, every node
                          broker and controller; RF min(3,N), min.insync.replicas 2,
                          internal topics replicated, 3 partitions per new topic
  --redis MODE            standalone (default), cluster (3 primaries + 3 replicas) or
                          sentinel (master + replica + one sentinel, service %(service)s)
up only:
  --kafka-config K=V      extra/overriding broker property (repeatable;
                          --kafka-config '' drops the recorded ones)
  --redis-arg "ARGS"      extra redis-server arguments (repeatable, shell-split;
                          --redis-arg '' drops the recorded ones)
  --timeout SECONDS       readiness deadline (default 60; env KAFKAREDIS_STACK_TIMEOUT;
                          also for `start`)
  --fresh                 stop, wipe the data and reformat Kafka's storage first
  --kafka-version V       Kafka release (default %(kafka_version)s;
                          env KAFKAREDIS_STACK_KAFKA_VERSION)
down only:
  --wipe                  also delete data (Kafka log dirs; everything in the
                          state dir when no --only is given)
  --kill                  SIGKILL at once (simulates a crash)
  --stop-timeout SECONDS  SIGTERM grace period before SIGKILL (default 30)

`up` records the ports, the layout and the extra settings in DIR/stack.json; later
commands on the same DIR reuse them (options given on the command line win; for `up`
the KAFKAREDIS_STACK_* variables also win over the recorded values).  So
`down --only kafka --dir D` then `up --only kafka --dir D` restarts the same
brokers on the same data with the same settings.

Files in DIR: stack.json, NODE.pid ("PID START-TIME": a pid whose process start time
differs is stale and never signalled), one directory per node (Kafka:
server.properties, log4j2.properties, data/; Redis: its working dir, nothing is
persisted: --save "" --appendonly no; a cluster's nodes.conf, sentinel.conf), logs/
(NODE.log = the node's own log, NODE.out = its stdout/stderr).

Exit codes: 0 ok; 1 failed (not ready in time, exited, port taken; for
`status`: something is not up); 2 usage error or missing java/mvn/redis-server.

Kafka jars come from Maven Central once (via scripts/kafka-pom.xml and mvn)
and are cached in ${KAFKAREDIS_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/kafkaredis}
/kafka-<version>/libs.  Heap: KAFKAREDIS_STACK_KAFKA_HEAP_OPTS (default
"-Xmx512m -Xms256m" for one node, "-Xmx384m -Xms128m" per node of a cluster);
more JVM flags: KAFKAREDIS_STACK_KAFKA_JVM_OPTS.
"""

NODE_COMMANDS = ("kill", "pause", "resume", "start")


def describe(stack: Stack, node: Node) -> str:
    where = f"{node.name} on {HOST}:{node.port}"
    if node.kind == "kafka":
        return f"{where} (controller {HOST}:{node.peer_port})"
    if node.kind == "sentinel":
        return f"{where} (sentinel of service {SENTINEL_SERVICE})"
    if node.peer_port:
        return f"{where} (cluster bus {HOST}:{node.peer_port})"
    return where


def node_ready(stack: Stack, node: Node, joined: bool = False) -> str | None:
    if node.comp == "kafka":
        return kafka_nodes.node_ready(stack, node)
    return redis_modes.node_ready(stack, node, joined)


def comp_health(stack: Stack, comp: str, form: bool = False) -> str | None:
    if comp == "kafka":
        return kafka_nodes.health(stack)
    return redis_modes.health(stack, form)


def layout_name(stack: Stack, comp: str) -> str:
    if comp == "kafka":
        brokers = len(stack.kafka_nodes())
        return "kafka" if brokers == 1 else f"kafka cluster of {brokers}"
    return f"redis {redis_modes.mode(stack)}"


# --------------------------------------------------------------------------
# up / start


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
        for path in (*kafka_homes, *redis_homes, stack.logs, stack.config_file):
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


# --------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/stack",
        add_help=False,
        usage="scripts/stack COMMAND [NODE] [options]  (--help for details)",
    )
    parser.add_argument("command", choices=["up", "down", "status", "env", "logs", *NODE_COMMANDS])
    parser.add_argument("node", nargs="?")
    parser.add_argument(
        "--dir", type=Path, default=os.environ.get("KAFKAREDIS_STACK_DIR") or REPO / ".stack"
    )
    parser.add_argument("--only", choices=COMPONENTS)
    parser.add_argument("--kafka-port", type=int)
    parser.add_argument("--controller-port", type=int)
    parser.add_argument("--redis-port", type=int)
    parser.add_argument("--brokers", type=int)
    parser.add_argument("--redis", choices=REDIS_MODES)
    parser.add_argument("--kafka-config", action="append", metavar="KEY=VALUE")
    parser.add_argument("--redis-arg", action="append", metavar="ARGS")
    parser.add_argument("--kafka-version")
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("KAFKAREDIS_STACK_TIMEOUT") or 60.0),
    )
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--wipe", action="store_true")
    parser.add_argument("--kill", action="store_true")
    parser.add_argument("--stop-timeout", type=float, default=30.0)
    parser.add_argument("-n", "--lines", type=int, default=LOG_TAIL)
    parser.add_argument("-f", "--follow", action="store_true")
    args = parser.parse_args(argv)
    up_only = {
        "--kafka-config": args.kafka_config,
        "--redis-arg": args.redis_arg,
        "--fresh": args.fresh,
        "--kafka-version": args.kafka_version,
    }
    for name, value in up_only.items():
        if value and args.command != "up":
            parser.error(f"{name} only goes with `up`")
    if (args.wipe or args.kill) and args.command != "down":
        parser.error("--wipe/--kill only go with `down`")
    if args.command in NODE_COMMANDS and not args.node:
        parser.error(f"`{args.command}` wants a NODE (e.g. kafka-2, redis-3, redis-master)")
    if args.node and args.command not in (*NODE_COMMANDS, "logs"):
        parser.error(f"`{args.command}` takes no NODE (got {args.node!r})")
    return args


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    if not argv or argv[0] == "help" or any(a in ("-h", "--help") for a in argv):
        text = HELP % {"kafka_version": DEFAULT_KAFKA_VERSION, "service": SENTINEL_SERVICE}
        print(text, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    # SIGTERM (e.g. a test runner's timeout) cleans up like Ctrl-C: an `up` that
    # is interrupted stops what it started.
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `scripts/stack status | head` ends quietly
    args = parse_args(argv)
    stack = Stack(args.dir.expanduser().resolve())
    comps = [args.only] if args.only else list(COMPONENTS)
    commands = {
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
    try:
        resolve_config(args, stack)
        if args.command in ("up", "down", "kill", "start"):
            with locked(stack.dir / ".lock"):
                return commands[args.command](args, stack, comps)
        return commands[args.command](args, stack, comps)
    except StackError as exc:
        print(f"stack: error: {exc}", file=sys.stderr, flush=True)
        if exc.detail:
            print(exc.detail, file=sys.stderr, flush=True)
        return exc.code
    except KeyboardInterrupt:
        print("stack: interrupted", file=sys.stderr)
        return 130
