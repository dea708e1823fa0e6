"""The state dir, the settings recorded in it, and the nodes a stack is made of.

Kafka is one node (`kafka`) or a KRaft cluster of N nodes (`kafka-1` .. `kafka-N`,
each broker and controller).  Redis is one server (`redis`), a cluster of 3 primaries
and 3 replicas (`redis-1` .. `redis-6`) or a master, a replica and a sentinel
(`redis-master`, `redis-replica`, `sentinel`; named by the role they start in).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
DEFAULT_KAFKA_VERSION = "4.4.0"
DEFAULT_KAFKA_PORT = 19092
DEFAULT_REDIS_PORT = 16379
# The secure profile (`up --secure`, stacklib/secure.py): its own state dir and ports.
DEFAULT_SECURE_KAFKA_PORT = 19192  # SASL_SSL; controller + 1, mTLS listener + 2
DEFAULT_SECURE_REDIS_PORT = 16479  # TLS; the soon-expiring certificate's server on + 1
COMPONENTS = ("kafka", "redis")
REDIS_MODES = ("standalone", "cluster", "sentinel")
REDIS_CLUSTER_SIZE = 6  # 3 primaries + 3 replicas
SENTINEL_SERVICE = "kafkaredis"
MAX_BROKERS = 9

# Which recorded settings belong to which component.
COMPONENT_KEYS = {
    "kafka": (
        "kafka_port",
        "controller_port",
        "kafka_config",
        "kafka_version",
        "brokers",
        "secure",
    ),
    "redis": ("redis_port", "redis_args", "redis_mode", "secure"),
}
# Settings that cannot change while the component runs (`down` it first).
LAYOUT_KEYS = ("kafka_port", "controller_port", "brokers", "redis_port", "redis_mode", "secure")


class StackError(Exception):
    """A failure reported in one line (plus optional detail), exit code `code`."""

    def __init__(self, message: str, code: int = 1, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


class ProbeError(Exception):
    """A node did not answer as a ready one does (the message says how)."""


def say(msg: str) -> None:
    print(f"stack: {msg}", flush=True)


@dataclass(frozen=True)
class Node:
    """One process of the stack."""

    name: str  # kafka, kafka-2, redis, redis-3, redis-master, redis-replica, sentinel
    comp: str  # kafka | redis
    kind: str  # kafka | redis | sentinel
    index: int  # KRaft node.id; position among the component's nodes (from 1)
    port: int  # the client port
    peer_port: int | None = None  # KRaft controller port or Redis cluster bus port
    extra_port: int | None = None  # the secure profile's mTLS listener

    @property
    def ports(self) -> list[int]:
        return [p for p in (self.port, self.peer_port, self.extra_port) if p]


class Stack:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.config_file = directory / "stack.json"
        self.logs = directory / "logs"
        self.cfg: dict[str, Any] = {}

    # ---- files

    def home(self, node: Node) -> Path:
        return self.dir / node.name

    def pid_file(self, node: Node) -> Path:
        return self.dir / f"{node.name}.pid"

    def log_files(self, node: Node) -> list[Path]:
        return [self.logs / f"{node.name}.out", self.logs / f"{node.name}.log"]

    def saved(self) -> dict[str, Any]:
        try:
            data = json.loads(self.config_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.config_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.cfg, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.config_file)

    # ---- nodes

    def kafka_nodes(self) -> list[Node]:
        brokers = int(self.cfg.get("brokers", 1))
        port = int(self.cfg["kafka_port"])
        if brokers == 1:
            controller = int(self.cfg["controller_port"])
            mtls = port + 2 if self.secure else None
            return [Node("kafka", "kafka", "kafka", 1, port, controller, mtls)]
        # Broker i listens on port + 2(i-1), its controller on the next port.
        return [
            Node(f"kafka-{i}", "kafka", "kafka", i, port + 2 * (i - 1), port + 2 * (i - 1) + 1)
            for i in range(1, brokers + 1)
        ]

    def redis_nodes(self) -> list[Node]:
        mode = self.cfg.get("redis_mode", "standalone")
        port = int(self.cfg["redis_port"])
        if mode == "cluster":
            n = REDIS_CLUSTER_SIZE  # client ports port..port+5, bus ports port+6..port+11
            return [
                Node(f"redis-{i}", "redis", "redis", i, port + i - 1, port + n + i - 1)
                for i in range(1, n + 1)
            ]
        if mode == "sentinel":
            return [
                Node("redis-master", "redis", "redis", 1, port),
                Node("redis-replica", "redis", "redis", 2, port + 1),
                Node("sentinel", "redis", "sentinel", 3, port + 2),
            ]
        if self.secure:
            return [
                Node("redis", "redis", "redis", 1, port),
                Node("redis-expiring", "redis", "redis", 2, port + 1),
            ]
        return [Node("redis", "redis", "redis", 1, port)]

    @property
    def secure(self) -> bool:
        return bool(self.cfg.get("secure"))

    def nodes(self, comps: list[str] | tuple[str, ...] = COMPONENTS) -> list[Node]:
        out: list[Node] = []
        if "kafka" in comps:
            out += self.kafka_nodes()
        if "redis" in comps:
            out += self.redis_nodes()
        return out

    def node(self, name: str) -> Node:
        for node in self.nodes():
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes())
        raise StackError(f"no node {name!r} in this stack (nodes: {known})", code=2)

    # ---- addresses

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(f"{HOST}:{n.port}" for n in self.kafka_nodes())

    def redis_password(self) -> str | None:
        args = self.cfg.get("redis_args", [])
        password = None
        for i, arg in enumerate(args):
            if arg == "--requirepass" and i + 1 < len(args):
                password = args[i + 1]
        return password

    @property
    def redis_url(self) -> str:
        password = self.redis_password()
        auth = f":{urllib.parse.quote(password, safe='')}@" if password else ""
        first = self.redis_nodes()[0]
        if self.cfg.get("redis_mode") == "sentinel":
            sentinel = self.redis_nodes()[-1]
            return f"redis+sentinel://{auth}{HOST}:{sentinel.port}/{SENTINEL_SERVICE}/0"
        return f"redis://{auth}{HOST}:{first.port}/0"


def env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise StackError(f"{name}={value!r} is not a port number", code=2) from None


def resolve_config(args: argparse.Namespace, stack: Stack) -> None:
    """Merge command line, environment, the recorded stack.json and defaults.

    For `up`: command line > environment > recorded > default.
    For other commands: command line > recorded > environment > default (they
    must talk to what `up` actually started).
    """
    saved = stack.saved()
    secure = bool(getattr(args, "secure", False) or saved.get("secure"))
    var = "KAFKAREDIS_STACK_SECURE_" if secure else "KAFKAREDIS_STACK_"
    env = {
        "kafka_port": env_int(f"{var}KAFKA_PORT"),
        "controller_port": env_int(f"{var}CONTROLLER_PORT"),
        "redis_port": env_int(f"{var}REDIS_PORT"),
        "kafka_version": os.environ.get("KAFKAREDIS_STACK_KAFKA_VERSION") or None,
    }
    cli = {
        "kafka_port": args.kafka_port,
        "controller_port": args.controller_port,
        "redis_port": args.redis_port,
        "kafka_version": getattr(args, "kafka_version", None),
        "brokers": args.brokers,
        "redis_mode": args.redis,
    }
    sources = [cli, env, saved] if args.command == "up" else [cli, saved, env]
    sources.append(
        {
            "kafka_port": DEFAULT_SECURE_KAFKA_PORT if secure else DEFAULT_KAFKA_PORT,
            "redis_port": DEFAULT_SECURE_REDIS_PORT if secure else DEFAULT_REDIS_PORT,
            "kafka_version": DEFAULT_KAFKA_VERSION,
            "brokers": 1,
            "redis_mode": "standalone",
        }
    )

    def pick(key: str) -> Any:
        return next(s[key] for s in sources if s.get(key) is not None)

    keys = ("kafka_port", "redis_port", "kafka_version", "brokers", "redis_mode")
    cfg: dict[str, Any] = {key: pick(key) for key in keys}
    # The controller port follows the first source that names either port: a
    # new --kafka-port moves the controller to kafka port + 1 unless also given.
    for source in sources:
        if source.get("controller_port") is not None:
            cfg["controller_port"] = source["controller_port"]
            break
        if source.get("kafka_port") is not None:
            cfg["controller_port"] = source["kafka_port"] + 1
            break
    if not 1 <= int(cfg["brokers"]) <= MAX_BROKERS:
        raise StackError(f"--brokers wants 1..{MAX_BROKERS}, got {cfg['brokers']}", code=2)
    if cfg["redis_mode"] not in REDIS_MODES:
        raise StackError(f"bad redis mode {cfg['redis_mode']!r}", code=2)
    cfg["secure"] = secure
    if secure and (int(cfg["brokers"]) != 1 or cfg["redis_mode"] != "standalone"):
        raise StackError("--secure is one Kafka node and one standalone Redis", code=2)

    kafka_config = saved.get("kafka_config", [])
    redis_args = saved.get("redis_args", [])
    if getattr(args, "kafka_config", None):
        kafka_config = []
        for item in args.kafka_config:
            if not item.strip():  # --kafka-config '' clears the recorded ones
                continue
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise StackError(f"--kafka-config wants KEY=VALUE, got {item!r}", code=2)
            kafka_config.append(f"{key.strip()}={value.strip()}")
    if getattr(args, "redis_arg", None):
        redis_args = [word for item in args.redis_arg for word in shlex.split(item)]
    cfg["kafka_config"] = kafka_config
    cfg["redis_args"] = redis_args
    stack.cfg = cfg
    check_ports(stack)


def check_ports(stack: Stack) -> None:
    ports = [p for node in stack.nodes() for p in node.ports]
    for port in ports:
        if not 0 < port < 65536:
            raise StackError(f"bad port {port}", code=2)
    if len(set(ports)) != len(ports):
        layout = ", ".join(f"{n.name} {'/'.join(map(str, n.ports))}" for n in stack.nodes())
        raise StackError(
            f"the stack's ports overlap ({layout}); pick others with --kafka-port, "
            "--controller-port, --redis-port",
            code=2,
        )
