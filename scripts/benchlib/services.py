"""The services a run measures against: the stack (and a Redis Cluster of its own), kcat,
the kafkaredis command, fresh topics, Redis keys of the run, the input file."""

from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from benchlib.processes import BenchError, say

ROOT = Path(__file__).resolve().parents[2]


STACK = ROOT / "scripts" / "stack"


DEFAULT_BOOTSTRAP = "127.0.0.1:19092"


DEFAULT_REDIS_URL = "redis://127.0.0.1:16379/0"


def ensure_stack() -> tuple[str, str]:
    """Start the stack (a no-op when it runs) and return its bootstrap servers and Redis
    URL, as `scripts/stack env` prints them: the ports it runs on, recorded or not."""
    say("scripts/stack up (a no-op when the stack runs)")
    result = subprocess.run(
        [sys.executable, str(STACK), "up"], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise BenchError(f"scripts/stack up failed:\n{result.stdout}\n{result.stderr}")
    env = subprocess.run(
        [sys.executable, str(STACK), "env"], capture_output=True, text=True, timeout=60
    )
    found = dict(
        line.removeprefix("export ").split("=", 1)
        for line in env.stdout.splitlines()
        if line.startswith("export ") and "=" in line
    )
    return (
        found.get("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP),
        found.get("KAFKAREDIS_REDIS__URL", DEFAULT_REDIS_URL),
    )


def ensure_kcat(install: bool) -> str | None:
    found = shutil.which("kcat")
    if found or not install:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        say("kcat is missing and apt-get is not available: kcat figures are skipped")
        return None
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            say("kcat is missing; installing it needs root (no sudo): kcat figures skipped")
            return None
        prefix = [sudo, "-n"]
    say("kcat is missing: installing the Debian package `kcat` with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install_cmd = [*prefix, apt, "install", "-y", "--no-install-recommends", "kcat"]
    if subprocess.run(install_cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run([*prefix, apt, "update"], env=env, capture_output=True)
        result = subprocess.run(install_cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            say(f"apt-get install kcat failed: kcat figures skipped\n{result.stderr[-500:]}")
            return None
    return shutil.which("kcat")


def kafkaredis_exe() -> str:
    local = Path(sys.executable).parent / "kafkaredis"
    if local.exists():
        return str(local)
    found = shutil.which("kafkaredis")
    if found is None:
        raise BenchError("the `kafkaredis` command is not installed (pip install -e .)")
    return found


class Broker:
    """Topics of this run (created with N partitions, deleted at the end)."""

    def __init__(self, bootstrap: str, partitions: int, run_id: str) -> None:
        from confluent_kafka.admin import AdminClient

        self.bootstrap = bootstrap
        self.partitions = partitions
        self.run_id = run_id
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.created: list[str] = []

    def topic(self, what: str) -> str:
        from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

        name = f"kbench-{self.run_id}-{what}-{len(self.created)}"
        futures = self.admin.create_topics([NewTopic(name, num_partitions=self.partitions)])
        futures[name].result(timeout=60)
        self.created.append(name)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            meta = self.admin.list_topics(name, timeout=10).topics.get(name)
            if (
                meta is not None
                and meta.error is None
                and len(meta.partitions) == self.partitions
                and all(p.leader >= 0 for p in meta.partitions.values())
            ):
                return name
            time.sleep(0.1)
        raise BenchError(f"topic {name} got no leaders within 60s")

    def count(self, topic: str) -> int:
        """Messages in a topic (sum of high watermarks; topics are fresh)."""
        from confluent_kafka import Consumer, KafkaException, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "kbench-count"})
        deadline = time.monotonic() + 60
        try:
            total = 0
            for p in range(self.partitions):
                while True:  # a fresh topic's leader may not be settled yet: ask again
                    try:
                        low, high = consumer.get_watermark_offsets(
                            TopicPartition(topic, p), timeout=10, cached=False
                        )
                        break
                    except KafkaException:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.5)
                total += high - low
            return total
        finally:
            consumer.close()

    def cleanup(self) -> None:
        if not self.created:
            return
        futures = self.admin.delete_topics(self.created, operation_timeout=30)
        for future in futures.values():
            with suppress(Exception):
                future.result(timeout=60)
        self.created.clear()


def clear_prefix(redis_url: str, prefix: str) -> int:
    import redis

    if _is_cluster(redis_url):
        return _clear_prefix_cluster(redis_url, prefix)
    client = redis.Redis.from_url(redis_url)
    try:
        removed = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                removed += int(client.unlink(*batch))
                batch = []
        if batch:
            removed += int(client.unlink(*batch))
        return removed
    finally:
        client.close()


def _is_cluster(redis_url: str) -> bool:
    import redis

    with redis.Redis.from_url(redis_url) as client:
        return int(client.info("cluster").get("cluster_enabled", 0)) == 1


def _clear_prefix_cluster(redis_url: str, prefix: str) -> int:
    """SCAN each primary; UNLINK (redis-py splits the keys by slot)."""
    from redis.cluster import RedisCluster

    cluster = RedisCluster.from_url(redis_url)
    try:
        removed = 0
        for node in cluster.get_primaries():  # type: ignore[no-untyped-call]
            batch = list(
                cluster.get_redis_connection(node).scan_iter(match=f"{prefix}:*", count=5000)
            )
            for start in range(0, len(batch), 5000):
                removed += int(cluster.unlink(*batch[start : start + 5000]))
        return removed
    finally:
        cluster.close()


@contextmanager
def redis_cluster(args: argparse.Namespace, workdir: Path) -> Iterator[str | None]:
    """The Redis Cluster of the cached-batch line: --redis-cluster-url, or one of its
    own (scripts/stack up --redis cluster on free ports, stopped at the end)."""
    if args.redis_cluster_url or args.no_redis_cluster:
        yield args.redis_cluster_url
        return
    port = _free_port_block(12)  # 6 nodes and their cluster bus ports
    layout = ["--dir", str(workdir / "redis-cluster"), "--only", "redis", "--redis", "cluster",
              "--redis-port", str(port)]  # fmt: skip
    say(f"scripts/stack up --redis cluster (nodes on {port}..{port + 5})")
    result = subprocess.run(
        [sys.executable, str(STACK), "up", *layout], capture_output=True, text=True, timeout=600
    )
    try:
        if result.returncode != 0:
            raise BenchError(f"scripts/stack up --redis cluster failed:\n{result.stderr[-2000:]}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        subprocess.run(
            [sys.executable, str(STACK), "down", "--kill", "--wipe", *layout],
            capture_output=True,
            timeout=120,
        )


def _free_port_block(count: int) -> int:
    """The first of `count` consecutive free loopback ports, below the ephemeral range."""
    import socket

    def bindable(port: int) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    for _ in range(500):
        port = random.randrange(20000, 32000 - count)
        if all(bindable(p) for p in range(port, port + count)):
            return port
    raise BenchError("no free ports for the Redis Cluster")


def redis_version(redis_url: str) -> str | None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return str(client.info("server").get("redis_version"))
    except redis.RedisError:
        return None
    finally:
        client.close()


def write_data(path: Path, n: int, size: int, seed: int = 6) -> None:
    """N lines of `size` printable bytes each (base64 of seeded random bytes)."""
    rng = random.Random(seed)
    raw_len = (size * 3) // 4 + 3
    with path.open("wb", buffering=1 << 20) as out:
        for _ in range(n):
            out.write(base64.b64encode(rng.randbytes(raw_len))[:size] + b"\n")


def kr_env(bootstrap: str, redis_url: str, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAREDIS_")}
    env.update(
        {
            "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "KAFKAREDIS_REDIS__URL": redis_url,
            "KAFKAREDIS_REDIS__KEY_PREFIX": prefix,
            "KAFKAREDIS_KAFKA__GROUP_ID": f"{prefix}-group",
            "KAFKAREDIS_KAFKA__TOPICS": f"{prefix}-default",
            "KAFKAREDIS_CONTEXT": "",  # no named context: the user's current one is not measured
        }
    )
    return env
