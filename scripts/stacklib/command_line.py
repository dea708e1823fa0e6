"""scripts/stack's command line: the help text, argument parsing, and main (runs a
command from stacklib.commands, turning StackError into a message and an exit code)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from stacklib.commands import COMMANDS
from stacklib.layout import (
    COMPONENTS,
    DEFAULT_KAFKA_VERSION,
    REDIS_MODES,
    SENTINEL_SERVICE,
    Stack,
    StackError,
    resolve_config,
)
from stacklib.prereqs import REPO
from stacklib.processes import LOG_TAIL, locked

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
           (use: eval "$(scripts/stack env)"; a secure stack: as --user).
  logs     print the tail of the logs (of NODE only if given; -n N lines, -f to follow).
  kill     SIGKILL one node (a crash).         pause   SIGSTOP one node (a hang).
  resume   SIGCONT a paused node.              start   restart a killed or stopped
           node on the same data and ports, and wait until it answers (and, in a
           Redis cluster, sees the cluster ok).
  NODE     kafka, redis (the defaults); kafka-1 .. kafka-N (--brokers N);
           redis-1 .. redis-6 (--redis cluster); redis-master, redis-replica, sentinel
           (--redis sentinel; named by the role they start in).

Options (all commands):
  --dir DIR               state dir (default <repo>/.stack, with --secure
                          <repo>/.stack-secure; env KAFKAREDIS_STACK_DIR)
  --secure                the secure profile (docs/security.md): one Kafka node with
                          SASL_SSL/SCRAM-SHA-512 on the Kafka port (default 19192), the
                          controller (SSL) on + 1, mTLS on + 2, ACLs; a TLS-only Redis
                          with ACL users (default 16479), a server whose certificate
                          expires in 3 days on + 1; a throwaway CA in DIR/secure.
                          Ports: env KAFKAREDIS_STACK_SECURE_KAFKA_PORT / _REDIS_PORT
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
env only:
  --user NAME             secure stack: kr-user (default; SCRAM, Redis keys kr:*),
                          mtls (client certificate), admin, kr-other (Redis keys other:*)
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


# Command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/stack",
        add_help=False,
        usage="scripts/stack COMMAND [NODE] [options]  (--help for details)",
    )
    parser.add_argument("command", choices=["up", "down", "status", "env", "logs", *NODE_COMMANDS])
    parser.add_argument("node", nargs="?")
    parser.add_argument("--dir", type=Path, default=os.environ.get("KAFKAREDIS_STACK_DIR"))
    parser.add_argument("--secure", action="store_true")
    parser.add_argument("--user")
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
    if args.dir is None:
        args.dir = REPO / (".stack-secure" if args.secure else ".stack")
    if args.user and args.command != "env":
        parser.error("--user only goes with `env`")
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
    try:
        resolve_config(args, stack)
        if args.command in ("up", "down", "kill", "start"):
            with locked(stack.dir / ".lock"):
                return COMMANDS[args.command](args, stack, comps)
        return COMMANDS[args.command](args, stack, comps)
    except StackError as exc:
        print(f"stack: error: {exc}", file=sys.stderr, flush=True)
        if exc.detail:
            print(exc.detail, file=sys.stderr, flush=True)
        return exc.code
    except KeyboardInterrupt:
        print("stack: interrupted", file=sys.stderr)
        return 130
