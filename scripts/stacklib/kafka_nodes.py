"""Kafka nodes: one combined KRaft node, or a cluster of N nodes that are each broker
and controller (static controller quorum, one cluster id); their configuration,
storage format, start command and readiness probes (a real Metadata request)."""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import socket
import struct
import subprocess
import uuid
from pathlib import Path
from typing import Any

from stacklib.layout import HOST, Node, Stack, StackError, say
from stacklib.processes import LOG_TAIL, spawn

DEFAULT_HEAP_OPTS = "-Xmx512m -Xms256m"
CLUSTER_HEAP_OPTS = "-Xmx384m -Xms128m"  # per node of a cluster

# Broker settings for a single combined KRaft node used by tests.  Anything
# here can be overridden with --kafka-config KEY=VALUE.
BROKER_DEFAULTS = {
    "num.partitions": "1",
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    # After a crash (SIGKILL) the restarted node refuses its own re-registration
    # (DUPLICATE_BROKER_REGISTRATION) until the old session expires: 9 s by default.
    "broker.session.timeout.ms": "4000",
    "broker.heartbeat.interval.ms": "1000",
    "auto.create.topics.enable": "true",
    # Small machine (2 cores): fewer threads, small cleaner buffer (default 128 MiB).
    "num.network.threads": "2",
    "num.io.threads": "4",
    "num.recovery.threads.per.data.dir": "1",
    "log.cleaner.threads": "1",
    "log.cleaner.dedupe.buffer.size": "16777216",
}

GC_OPTS = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:ParallelGCThreads=2",
    "-XX:ConcGCThreads=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
]


# On top of BROKER_DEFAULTS for a cluster of N > 1 nodes: replicated internal topics,
# RF 3 (or N) by default, acks=all needs 2 in sync, a dead node fenced within 3 s.
def cluster_defaults(brokers: int) -> dict[str, str]:
    rf = str(min(3, brokers))
    isr = str(min(2, brokers))
    return {
        "num.partitions": "3",
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": "12",
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "transaction.state.log.num.partitions": "6",
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": isr,
        "share.coordinator.state.topic.num.partitions": "6",
        "broker.session.timeout.ms": "3000",
        "broker.heartbeat.interval.ms": "500",
        "replica.lag.time.max.ms": "10000",
        "num.io.threads": "2",
        "num.replica.fetchers": "1",
        "background.threads": "2",
    }


LOG4J2_PROPERTIES = """\
# Written by scripts/stack.  Broker logs go to {log}, rolled at 20 MB.
status = warn
name = kafkaredis-stack
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.filePattern = {log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
"""


# --------------------------------------------------------------------------
# Configuration and storage


def config_dir(stack: Stack, node: Node) -> Path:
    return stack.home(node)


def data_dir(stack: Stack, node: Node) -> Path:
    return stack.home(node) / "data"


def properties(stack: Stack, node: Node) -> dict[str, str]:
    nodes = stack.kafka_nodes()
    voters = ",".join(f"{n.index}@{HOST}:{n.peer_port}" for n in nodes)
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.index),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{HOST}:{node.port},CONTROLLER://{HOST}:{node.peer_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{node.port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir(stack, node)),
    }
    props.update(BROKER_DEFAULTS)
    if len(nodes) > 1:
        props.update(cluster_defaults(len(nodes)))
    for item in stack.cfg["kafka_config"]:
        key, _, value = item.partition("=")
        props[key] = value
    return props


def write_config(stack: Stack, node: Node) -> None:
    home = config_dir(stack, node)
    home.mkdir(parents=True, exist_ok=True)
    stack.logs.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by scripts/stack on every `up`; edit with --kafka-config K=V."]
    for key, value in properties(stack, node).items():
        esc = value.replace("\\", "\\\\")
        lines.append(f"{key}={esc}")
    (home / "server.properties").write_text("\n".join(lines) + "\n")
    (home / "log4j2.properties").write_text(
        LOG4J2_PROPERTIES.format(log=stack.logs / f"{node.name}.log")
    )


def formatted(stack: Stack, node: Node) -> bool:
    return (data_dir(stack, node) / "meta.properties").is_file()


def cluster_id(stack: Stack) -> str:
    """The cluster id of a formatted node of this stack, else a new one."""
    for node in stack.kafka_nodes():
        meta = data_dir(stack, node) / "meta.properties"
        if meta.is_file():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
    new = "-"
    while new.startswith("-"):  # argparse-style tools read "-..." as an option
        new = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return new


def format_storage(stack: Stack, nodes: list[Node], java: str, libs: Path) -> None:
    """Format the storage of `nodes` (in parallel) with the stack's cluster id."""
    cid = cluster_id(stack)
    runs = []
    for node in nodes:
        data = data_dir(stack, node)
        if data.exists():  # a half-done earlier format: start over
            shutil.rmtree(data)
        home = config_dir(stack, node)
        cmd = [
            java,
            "-Xmx256m",
            f"-Dlog4j2.configurationFile=file:{home / 'log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            "--config",
            str(home / "server.properties"),
            f"--cluster-id={cid}",  # one token: an id may start with "-"
        ]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        runs.append((node, proc))
    failed = []
    for node, proc in runs:
        out, _ = proc.communicate()
        if proc.returncode != 0 or not formatted(stack, node):
            lines = out.decode("utf-8", "replace").splitlines()[-LOG_TAIL:]
            failed.append((node, proc.returncode, lines))
    if failed:
        node, code, lines = failed[0]
        raise StackError(
            f"formatting Kafka storage in {data_dir(stack, node)} failed (exit {code})",
            detail="\n".join(lines),
        )
    where = ", ".join(str(data_dir(stack, n)) for n in nodes)
    say(f"formatted Kafka storage in {where} (cluster id {cid})")


def start(stack: Stack, node: Node, java: str, libs: Path) -> subprocess.Popen[bytes]:
    home = config_dir(stack, node)
    cluster = len(stack.kafka_nodes()) > 1
    heap_default = CLUSTER_HEAP_OPTS if cluster else DEFAULT_HEAP_OPTS
    heap = shlex.split(os.environ.get("KAFKAREDIS_STACK_KAFKA_HEAP_OPTS") or heap_default)
    extra = shlex.split(os.environ.get("KAFKAREDIS_STACK_KAFKA_JVM_OPTS", ""))
    cmd = [
        java,
        *heap,
        *GC_OPTS,
        *extra,
        f"-Dlog4j2.configurationFile=file:{home / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={stack.logs}",
        "-cp",
        f"{libs}/*",
        "kafka.Kafka",
        str(home / "server.properties"),
    ]
    return spawn(cmd, stack.logs / f"{node.name}.out", home)


# --------------------------------------------------------------------------
# Readiness


class ProbeError(Exception):
    pass


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ProbeError("connection closed")
        buf += chunk
    return bytes(buf)


def _kafka_call(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client_id = b"kafkaredis-stack"
    header = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", _recv_exact(sock, 4))[0]
    resp = _recv_exact(sock, size)
    if struct.unpack_from(">i", resp)[0] != corr:
        raise ProbeError("correlation id mismatch")
    return resp[4:]


def _read_str(buf: bytes, off: int) -> tuple[str | None, int]:
    n = struct.unpack_from(">h", buf, off)[0]
    off += 2
    if n < 0:
        return None, off
    return buf[off : off + n].decode("utf-8", "replace"), off + n


def kafka_metadata(port: int, timeout: float = 3.0) -> dict[str, Any]:
    """ApiVersions v0, then a Metadata request (v4..v8, no topics).

    Returns {"brokers": [(node_id, host, port)], "cluster_id", "controller_id"}.
    """
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            resp = _kafka_call(sock, 18, 0, 1, b"")
            error, count = struct.unpack_from(">hi", resp, 0)
            if error:
                raise ProbeError(f"ApiVersions error {error}")
            versions: dict[int, tuple[int, int]] = {}
            for i in range(count):
                key, lo, hi = struct.unpack_from(">hhh", resp, 6 + 6 * i)
                versions[key] = (lo, hi)
            if 3 not in versions:
                raise ProbeError("broker does not list Metadata")
            lo, hi = versions[3]
            version = min(hi, 8)
            if version < max(lo, 4):
                raise ProbeError(f"no usable Metadata version in {lo}..{hi}")
            body = struct.pack(">ib", 0, 0)  # no topics, no auto creation
            if version >= 8:
                body += b"\x00\x00"  # no authorized operations
            resp = _kafka_call(sock, 3, version, 2, body)
    except (OSError, struct.error) as exc:
        raise ProbeError(str(exc) or type(exc).__name__) from None
    try:
        off = 4  # throttle_time_ms
        count = struct.unpack_from(">i", resp, off)[0]
        off += 4
        brokers = []
        for _ in range(count):
            node_id = struct.unpack_from(">i", resp, off)[0]
            host, off = _read_str(resp, off + 4)
            bport = struct.unpack_from(">i", resp, off)[0]
            _rack, off = _read_str(resp, off + 4)
            brokers.append((node_id, host, bport))
        cluster_id, off = _read_str(resp, off)
        controller_id = struct.unpack_from(">i", resp, off)[0]
    except struct.error:
        raise ProbeError("malformed Metadata response") from None
    return {"brokers": brokers, "cluster_id": cluster_id, "controller_id": controller_id}


def node_ready(stack: Stack, node: Node) -> str | None:
    """None when `node` serves metadata listing itself and a controller, else why not."""
    try:
        meta = kafka_metadata(node.port)
    except ProbeError as exc:
        return str(exc)
    if not any(b[2] == node.port for b in meta["brokers"]):
        return f"metadata lists no broker on port {node.port}: {meta['brokers']}"
    if meta["controller_id"] < 0:
        return "no controller yet"
    return None


def health(stack: Stack) -> str | None:
    """None when every node lists every broker of the stack (all registered), else why not."""
    nodes = stack.kafka_nodes()
    if len(nodes) == 1:
        return None
    want = {n.port for n in nodes}
    for node in nodes:
        try:
            meta = kafka_metadata(node.port)
        except ProbeError as exc:
            return f"{node.name}: {exc}"
        have = {b[2] for b in meta["brokers"]}
        if have != want:
            return f"{node.name} lists brokers on ports {sorted(have)}, not {sorted(want)}"
    return None
