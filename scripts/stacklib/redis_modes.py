"""Redis modes: one redis-server (standalone), a cluster of 3 primaries + 3 replicas,
or a master + replica watched by one sentinel (service `kafkaredis`).  Nothing is
persisted (--save "" --appendonly no).  Readiness is asked with redis-cli."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from stacklib import secure
from stacklib.layout import HOST, SENTINEL_SERVICE, Node, ProbeError, Stack, StackError, say
from stacklib.processes import spawn

CLUSTER_NODE_TIMEOUT_MS = 2000
SENTINEL_DOWN_AFTER_MS = 1000
SENTINEL_FAILOVER_TIMEOUT_MS = 3000
ALL_SLOTS = 16384


def mode(stack: Stack) -> str:
    return str(stack.cfg.get("redis_mode", "standalone"))


def cli(stack: Stack, node: Node, *command: str, timeout: float = 3.0) -> str:
    """Run one redis-cli command against `node`; its reply, or ProbeError."""
    env = dict(os.environ)
    env.pop("REDISCLI_AUTH", None)
    password = stack.redis_password()
    if password and node.kind != "sentinel":
        env["REDISCLI_AUTH"] = password  # not on the command line, not in `ps`
    login: list[str] = []
    if stack.secure:
        login, env["REDISCLI_AUTH"] = secure.redis_cli_args(stack)
    cmd = ["redis-cli", "-e", *login, "-h", HOST, "-p", str(node.port), *command]
    try:
        res = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        raise ProbeError(f"no answer within {timeout:g}s") from None
    except OSError as exc:
        raise ProbeError(str(exc)) from None
    out = res.stdout.strip()
    if res.returncode != 0:
        why = (res.stderr.strip() or out).splitlines()
        raise ProbeError(why[-1] if why else f"redis-cli exit {res.returncode}")
    return out


def info_fields(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep:
            fields[key] = value
    return fields


def pairs(text: str) -> dict[str, str]:
    """A flat key/value reply (SENTINEL MASTER) as a dict."""
    lines = text.splitlines()
    return dict(zip(lines[::2], lines[1::2], strict=False))


# --------------------------------------------------------------------------
# Starting


def server_args(stack: Stack, node: Node) -> list[str]:
    home = stack.home(node)
    args = [
        "--bind",
        HOST,
        "--port",
        str(node.port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        str(home),
        "--logfile",
        str(stack.logs / f"{node.name}.log"),
    ]
    if stack.secure:
        args[2:4] = secure.redis_args(stack, node)  # TLS only, users from the ACL file
    if mode(stack) != "standalone":
        args += ["--repl-diskless-sync-delay", "0"]  # a replica syncs at once, not in 5 s
        password = stack.redis_password()
        if password:
            args += ["--masterauth", password]
    if mode(stack) == "cluster":
        args += [
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            str(node.peer_port),
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(CLUSTER_NODE_TIMEOUT_MS),
            "--cluster-replica-validity-factor",
            "0",  # a replica may always take over
        ]
    return args


def sentinel_node(stack: Stack) -> Node:
    return stack.redis_nodes()[-1]


def sentinel_conf(stack: Stack) -> Path:
    return stack.home(sentinel_node(stack)) / "sentinel.conf"


def current_master_port(stack: Stack) -> int:
    """The master's port as the sentinel sees it (or its rewritten config, else the start)."""
    try:
        ask = ("SENTINEL", "get-master-addr-by-name", SENTINEL_SERVICE)
        reply = cli(stack, sentinel_node(stack), *ask)
        return int(reply.splitlines()[1])
    except (ProbeError, IndexError, ValueError):
        pass
    try:
        for line in sentinel_conf(stack).read_text().splitlines():
            words = line.split()
            if words[:3] == ["sentinel", "monitor", SENTINEL_SERVICE] and len(words) >= 5:
                return int(words[4])
    except (OSError, ValueError):
        pass
    return stack.redis_nodes()[0].port


def write_sentinel_conf(stack: Stack, master_port: int) -> None:
    node = sentinel_node(stack)
    lines = [
        "# Written by scripts/stack on a fresh `up`; the sentinel rewrites it.",
        f"port {node.port}",
        f"bind {HOST}",
        "daemonize no",
        f"dir {stack.home(node)}",
        f"logfile {stack.logs / f'{node.name}.log'}",
        f"sentinel monitor {SENTINEL_SERVICE} {HOST} {master_port} 1",
        f"sentinel down-after-milliseconds {SENTINEL_SERVICE} {SENTINEL_DOWN_AFTER_MS}",
        f"sentinel failover-timeout {SENTINEL_SERVICE} {SENTINEL_FAILOVER_TIMEOUT_MS}",
        f"sentinel parallel-syncs {SENTINEL_SERVICE} 1",
    ]
    password = stack.redis_password()
    if password:
        lines.append(f"sentinel auth-pass {SENTINEL_SERVICE} {password}")
    conf = sentinel_conf(stack)
    conf.write_text("\n".join(lines) + "\n")
    conf.chmod(0o600)


def prepare(stack: Stack, fresh: bool) -> None:
    """Before starting nodes: a fresh start forgets the old cluster / sentinel state."""
    for node in stack.redis_nodes():
        stack.home(node).mkdir(parents=True, exist_ok=True)
    stack.logs.mkdir(parents=True, exist_ok=True)
    if not fresh:
        return
    if mode(stack) == "cluster":
        for node in stack.redis_nodes():
            (stack.home(node) / "nodes.conf").unlink(missing_ok=True)
    if mode(stack) == "sentinel":
        write_sentinel_conf(stack, stack.redis_nodes()[0].port)


def start(stack: Stack, node: Node, redis: str) -> subprocess.Popen[bytes]:
    home = stack.home(node)
    if node.kind == "sentinel":
        cmd = [redis, str(sentinel_conf(stack)), "--sentinel"]
    else:
        cmd = [redis, *server_args(stack, node)]
        if mode(stack) == "sentinel":
            master = current_master_port(stack)
            if master != node.port:
                cmd += ["--replicaof", HOST, str(master)]
        cmd += stack.cfg["redis_args"]
    return spawn(cmd, stack.logs / f"{node.name}.out", home)


def await_replication(stack: Stack, timeout: float = 10.0) -> None:
    """Before the sentinel starts: let the master list its replica online, so that the
    sentinel's first INFO finds the replica (it asks again only every 10 s)."""
    deadline = time.monotonic() + timeout
    master = next(n for n in stack.redis_nodes() if n.port == current_master_port(stack))
    while time.monotonic() < deadline:
        try:
            info = info_fields(cli(stack, master, "INFO", "replication"))
        except ProbeError:
            info = {}
        if any("state=online" in v for k, v in info.items() if k.startswith("slave")):
            return
        time.sleep(0.1)


# --------------------------------------------------------------------------
# Readiness


def node_ready(stack: Stack, node: Node, joined: bool = False) -> str | None:
    """None when `node` answers PING (and, if `joined`, sees its cluster ok), else why not."""
    try:
        reply = cli(stack, node, "PING")
        if reply != "PONG":
            return f"PING answered {reply!r}"
        if joined and mode(stack) == "cluster":
            state = info_fields(cli(stack, node, "CLUSTER", "INFO")).get("cluster_state")
            if state != "ok":
                return f"cluster_state:{state}"
    except ProbeError as exc:
        return str(exc)
    return None


def create_cluster(stack: Stack) -> None:
    nodes = stack.redis_nodes()
    info = info_fields(cli(stack, nodes[0], "CLUSTER", "INFO"))
    if info.get("cluster_known_nodes", "1") != "1" or info.get("cluster_slots_assigned") != "0":
        return  # formed already
    addresses = [f"{HOST}:{n.port}" for n in nodes]
    cmd = ["--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"]
    try:
        cli(stack, nodes[0], *cmd, timeout=60)
    except ProbeError as exc:
        raise StackError(f"redis-cli --cluster create failed: {exc}") from None
    say(f"created a Redis cluster of {len(nodes)} nodes (3 primaries, 3 replicas)")


def cluster_health(stack: Stack) -> str | None:
    nodes = stack.redis_nodes()
    for node in nodes:
        info = info_fields(cli(stack, node, "CLUSTER", "INFO"))
        if info.get("cluster_state") != "ok":
            return f"{node.name}: cluster_state:{info.get('cluster_state')}"
        if info.get("cluster_slots_ok") != str(ALL_SLOTS):
            return f"{node.name}: cluster_slots_ok:{info.get('cluster_slots_ok')}"
    rows = [line.split() for line in cli(stack, nodes[0], "CLUSTER", "NODES").splitlines()]
    primaries = [r for r in rows if "master" in r[2] and "fail" not in r[2] and len(r) > 8]
    if len(primaries) != 3:
        return f"{len(primaries)} primaries with slots, not 3"
    for primary in primaries:
        replicas = [
            r for r in rows if r[3] == primary[0] and "fail" not in r[2] and r[7] == "connected"
        ]
        if not replicas:
            return f"primary {primary[1].split('@')[0]} has no replica"
    return None


def sentinel_health(stack: Stack) -> str | None:
    sentinel = sentinel_node(stack)
    master = pairs(cli(stack, sentinel, "SENTINEL", "MASTER", SENTINEL_SERVICE))
    if master.get("flags") != "master":
        return f"sentinel sees the master as {master.get('flags')}"
    if int(master.get("num-slaves", "0")) < 1:
        return "sentinel knows no replica yet"
    port = int(master["port"])
    node = next((n for n in stack.redis_nodes() if n.port == port), None)
    if node is None:
        return f"sentinel's master on port {port} is not a node of this stack"
    info = info_fields(cli(stack, node, "INFO", "replication"))
    if info.get("role") != "master":
        return f"{node.name} is {info.get('role')}, not master"
    if not any("state=online" in v for k, v in info.items() if k.startswith("slave")):
        return f"{node.name} has no replica online"
    return None


def health(stack: Stack, form: bool = False) -> str | None:
    """None when the mode's whole setup works (creating the cluster first if `form`)."""
    try:
        if mode(stack) == "cluster":
            if form:
                create_cluster(stack)
            return cluster_health(stack)
        if mode(stack) == "sentinel":
            return sentinel_health(stack)
    except ProbeError as exc:
        return str(exc)
    return None
