"""Kafka nodes: one combined KRaft node, or a cluster of N nodes that are each broker
and controller (static controller quorum, one cluster id); their configuration,
storage format, start command and readiness probes (Metadata through confluent-kafka)."""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from stacklib import secure
from stacklib.layout import HOST, Node, ProbeError, Stack, StackError, say
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
    # Share groups (KIP-932) and the consumer protocol (KIP-848): a 1 s heartbeat (5 s
    # by default) so members join fast; tests may give a share group a short record lock.
    "group.share.min.record.lock.duration.ms": "1000",
    "group.share.min.heartbeat.interval.ms": "1000",
    "group.share.heartbeat.interval.ms": "1000",
    "group.consumer.min.heartbeat.interval.ms": "1000",
    "group.consumer.heartbeat.interval.ms": "1000",
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
    if stack.secure:
        props.update(secure.kafka_properties(stack, node))
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
        if stack.secure:
            cmd += secure.scram_args(stack)
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


def kafka_metadata(port: int, timeout: float = 3.0, secure_as: Stack | None = None) -> Any:
    """The cluster's metadata as the broker on `port` serves it (confluent-kafka); asked
    as the secure profile's admin user if `secure_as` is a secure stack."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    login = secure.client_conf(secure_as) if secure_as is not None and secure_as.secure else {}
    admin = AdminClient(
        {
            **login,
            "bootstrap.servers": f"{HOST}:{port}",
            "client.id": "kafkaredis-stack",
            "log_level": 0,  # a broker still starting is no error worth printing
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 200,
        }
    )
    try:
        return admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise ProbeError(exc.args[0].str()) from None


def node_ready(stack: Stack, node: Node) -> str | None:
    """None when `node` serves metadata listing itself and a controller, else why not."""
    try:
        meta = kafka_metadata(node.port, secure_as=stack)
    except ProbeError as exc:
        return str(exc)
    ports = sorted(b.port for b in meta.brokers.values())
    if node.port not in ports:
        return f"metadata lists no broker on port {node.port}, only on {ports}"
    if meta.controller_id < 0:
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
        have = {b.port for b in meta.brokers.values()}
        if have != want:
            return f"{node.name} lists brokers on ports {sorted(have)}, not {sorted(want)}"
    return None
