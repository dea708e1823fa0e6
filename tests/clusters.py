"""Session-wide clusters for tests marked `cluster`.

`kafka_cluster` (3 KRaft nodes, each broker and controller, RF 3, min.insync.replicas 2),
`redis_cluster` (3 primaries + 3 replicas) and `redis_sentinel` (master, replica, one
sentinel, service `kafkaredis`) are started by scripts/stack, each in a directory of its
own on free ports, the first time a test asks for them (so `pytest tests/unit` starts
nothing), and stopped and wiped at the end of the session, also when tests fail.

A test that kills, pauses or stops a node restarts it and waits for `wait_healthy()`
before it ends, so the next test finds the cluster whole; if it does not (say it failed
half-way), the autouse `clusters_whole_after_test` does it after the test.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import _bindable, run_stack, wait_for

KAFKA_BROKERS = 3
REDIS_CLUSTER_NODES = 6  # client ports base..base+5, cluster bus ports base+6..base+11
SENTINEL_SERVICE = "kafkaredis"


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free loopback ports (below the ephemeral range)."""
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(20000, 32000 - count)
        if all(_bindable(p) for p in range(port, port + count)):
            return port
    raise RuntimeError(f"no {count} consecutive free ports")


@dataclass
class StackNodes:
    """Nodes started by scripts/stack in `dir`; subclasses say which and how to name them."""

    dir: Path
    base_port: int

    def layout(self) -> list[str]:
        raise NotImplementedError

    def stack(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_stack(*args, "--dir", str(self.dir), *self.layout())
        assert result.returncode == 0, (
            f"scripts/stack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
        return result

    def down(self) -> None:
        run_stack("down", "--kill", "--wipe", "--dir", str(self.dir), *self.layout())

    def status_ok(self) -> bool:
        return run_stack("status", "--dir", str(self.dir), *self.layout()).returncode == 0

    def healthy(self) -> bool:
        return self.status_ok()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        raise NotImplementedError

    def make_whole(self) -> None:
        """Resume paused nodes, restart stopped ones and wait until healthy (after a test
        that did not, e.g. because it failed half-way)."""
        if self.healthy():
            return
        status = run_stack("status", "--dir", str(self.dir), *self.layout()).stdout
        for line in status.splitlines():
            if ": PAUSED" in line:
                self.resume(line.split()[1].rstrip(":"))
        self.start()
        self.wait_healthy(120)

    def node_name(self, node: int | str) -> str:
        raise NotImplementedError

    def kill(self, node: int | str) -> None:
        """SIGKILL the node (a crash)."""
        self.stack("kill", self.node_name(node))

    def pause(self, node: int | str) -> None:
        """SIGSTOP the node (a hang: its sockets stay open, nothing answers)."""
        self.stack("pause", self.node_name(node))

    def resume(self, node: int | str) -> None:
        """SIGCONT a paused node."""
        self.stack("resume", self.node_name(node))

    def start(self, node: int | str | None = None) -> None:
        """Restart a killed node on its old data and ports (every stopped node if None)."""
        if node is None:
            self.stack("up", "--timeout", "120")
        else:
            self.stack("start", self.node_name(node), "--timeout", "120")


N = TypeVar("N", bound=StackNodes)


@dataclass
class KafkaCluster(StackNodes):
    node_ids: tuple[int, ...] = tuple(range(1, KAFKA_BROKERS + 1))

    def layout(self) -> list[str]:
        return ["--only", "kafka", "--brokers", str(len(self.node_ids)), "--kafka-port",
                str(self.base_port)]  # fmt: skip

    def port(self, node_id: int) -> int:
        return self.base_port + 2 * (node_id - 1)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.port(n)}" for n in self.node_ids)

    def node_name(self, node: int | str) -> str:
        return node if isinstance(node, str) else f"kafka-{node}"

    def leaders(self, topic: str) -> dict[int, int]:
        """partition -> id of its leading broker (-1: none), as one broker sees the topic."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        meta = admin.list_topics(topic, timeout=10).topics[topic]
        return {p.id: p.leader for p in meta.partitions.values()}

    def problems(self) -> list[str]:
        """What keeps the cluster from being whole: missing brokers, partitions without a
        leader or with fewer in-sync replicas than replicas (empty when healthy)."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 3000})
        try:
            meta = admin.list_topics(timeout=5)
        except KafkaException as exc:
            return [f"metadata: {exc}"]
        found = []
        missing = set(self.node_ids) - set(meta.brokers)
        if missing:
            found.append(f"brokers {sorted(missing)} not registered")
        for topic in meta.topics.values():
            for p in topic.partitions.values():
                if p.leader < 0:
                    found.append(f"{topic.topic}/{p.id} has no leader")
                elif len(p.isrs) < len(p.replicas):
                    found.append(f"{topic.topic}/{p.id} under-replicated (isr {p.isrs})")
        return found

    def healthy(self) -> bool:
        return self.status_ok() and not self.problems()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Every broker registered, every partition led and fully in sync."""
        last: list[str] = []

        def healthy() -> bool:
            last[:] = self.problems()
            return not last

        try:
            wait_for(healthy, timeout, interval=0.5, what="the Kafka cluster to be healthy")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {last[:5]}") from None


@dataclass
class RedisClusterNodes(StackNodes):
    def layout(self) -> list[str]:
        return ["--only", "redis", "--redis", "cluster", "--redis-port", str(self.base_port)]

    @property
    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(REDIS_CLUSTER_NODES)]

    @property
    def urls(self) -> list[str]:
        return [f"redis://127.0.0.1:{p}/0" for p in self.ports]

    @property
    def url(self) -> str:
        return self.urls[0]

    def node_name(self, node: int | str) -> str:
        if isinstance(node, int) or node.isdigit():
            return f"redis-{int(node) - self.base_port + 1}"
        return node

    def view(self) -> dict[int, tuple[str, int | None]]:
        """port -> (role, port of its primary) as the first answering node sees the cluster;
        role is "master", "slave" or "fail" (a node the cluster marks failed)."""
        import redis

        for port in self.ports:
            try:
                with redis.Redis(port=port, socket_timeout=2) as client:
                    nodes = client.execute_command("CLUSTER NODES")  # parsed: "ip:port" -> {...}
            except redis.RedisError:
                continue
            port_of = {n["node_id"]: int(addr.rsplit(":", 1)[1]) for addr, n in nodes.items()}
            view: dict[int, tuple[str, int | None]] = {}
            for node in nodes.values():
                flags = node["flags"].split(",")
                role = "fail" if "fail" in flags else ("master" if "master" in flags else "slave")
                view[port_of[node["node_id"]]] = (role, port_of.get(node["master_id"]))
            return view
        return {}

    def primaries(self) -> list[int]:
        """Ports of the primaries (not failed), as the first answering node sees them."""
        return sorted(p for p, (role, _) in self.view().items() if role == "master")

    def replica_of(self, primary: int) -> int | None:
        """The port of a replica of `primary` (None if it has none)."""
        found = [p for p, (role, of) in self.view().items() if role == "slave" and of == primary]
        return found[0] if found else None

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """cluster_state:ok on every node, 3 primaries each with a replica."""
        wait_for(self.status_ok, timeout, interval=0.5, what="the Redis cluster to be healthy")


@dataclass
class RedisSentinel(StackNodes):
    def layout(self) -> list[str]:
        return ["--only", "redis", "--redis", "sentinel", "--redis-port", str(self.base_port)]

    @property
    def sentinel_port(self) -> int:
        return self.base_port + 2

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SENTINEL_SERVICE}/0"

    @property
    def data_ports(self) -> list[int]:
        return [self.base_port, self.base_port + 1]

    @property
    def master_port(self) -> int:
        """The port of the master the sentinel names now."""
        import redis

        with redis.Redis(port=self.sentinel_port, socket_timeout=2) as client:
            _host, port = client.execute_command(
                "SENTINEL", "get-master-addr-by-name", SENTINEL_SERVICE
            )
        return int(port)

    def node_name(self, node: int | str) -> str:
        names = {self.base_port: "redis-master", self.base_port + 1: "redis-replica",
                 self.sentinel_port: "sentinel"}  # fmt: skip
        if isinstance(node, int) or node.isdigit():
            return names[int(node)]
        return node

    def kill_master(self) -> int:
        """SIGKILL the current master; its port."""
        port = self.master_port
        self.kill(port)
        return port

    def wait_master_changed(self, old_port: int, timeout: float = 30.0) -> int:
        """Wait until the sentinel names a master other than `old_port`; its port."""

        def changed() -> int | None:
            try:
                port = self.master_port
            except Exception:
                return None
            return port if port != old_port else None

        new: int = wait_for(changed, timeout, interval=0.2, what="a new master")  # type: ignore[assignment]
        return new

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """The sentinel sees a master with a replica online."""
        wait_for(self.status_ok, timeout, interval=0.5, what="the Redis sentinel setup")


CLUSTER_FIXTURES = ("kafka_cluster", "redis_cluster", "redis_sentinel")


@pytest.fixture(autouse=True)
def clusters_whole_after_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used a cluster: make it whole again if the test did not (so one
    failure does not fail every later test on that cluster)."""
    yield
    for name in CLUSTER_FIXTURES:
        if name in request.fixturenames:
            nodes: StackNodes = request.getfixturevalue(name)
            nodes.make_whole()


def _session(make: Callable[[int], N], ports: int) -> Iterator[N]:
    """Start `make(first port)` on `ports` free ports (other ports if another process took
    one meanwhile), yield it, then stop it and wipe its data, also when tests failed."""
    for attempt in range(3):
        nodes = make(free_port_block(ports))
        try:
            # A generous deadline: CI shares two cores with the tests around it.
            result = run_stack("up", "--timeout", "180", "--dir", str(nodes.dir), *nodes.layout())
            if result.returncode == 0:
                yield nodes
                return
        finally:
            nodes.down()
        if "already in use" not in result.stderr or attempt == 2:
            what = type(nodes).__name__
            pytest.fail(f"could not start {what}:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A 3-node Kafka cluster for the whole session (started on first use)."""
    directory = tmp_path_factory.mktemp("kafka-cluster")
    yield from _session(lambda port: KafkaCluster(directory, port), 2 * KAFKA_BROKERS)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """A Redis Cluster of 3 primaries and 3 replicas for the whole session."""
    directory = tmp_path_factory.mktemp("redis-cluster")
    yield from _session(lambda port: RedisClusterNodes(directory, port), 2 * REDIS_CLUSTER_NODES)


@pytest.fixture(scope="session")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisSentinel]:
    """A Redis master, a replica and one sentinel (service `kafkaredis`) for the session."""
    directory = tmp_path_factory.mktemp("redis-sentinel")
    yield from _session(lambda port: RedisSentinel(directory, port), 3)
