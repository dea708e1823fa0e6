"""The one Redis connection factory: a server, a Redis Cluster or a Sentinel's master.

`connect(settings)` resolves the mode (auto: a node whose INFO says cluster_enabled:1
is a cluster) and returns a RedisConnection: a redis-py client for single-key commands
(RedisCluster routes them), the primaries (SCAN runs on each) and the node that holds a
key's slot (multi-key writes are grouped by slot and sent to that node).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot
from redis.exceptions import SlotNotCoveredError
from redis.retry import Retry
from redis.sentinel import Sentinel

from kafkaredis_cli.errors import ConfigError
from kafkaredis_cli.redis_url import TLS_PARAMETERS, RedisTarget
from kafkaredis_cli.settings import RedisSettings

RETRY_ON = [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]


@dataclass(frozen=True)
class Node:
    name: str  # host:port
    client: redis.Redis


def retry_policy(settings: RedisSettings) -> Retry:
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), settings.retries)


def _client_options(settings: RedisSettings, target: RedisTarget) -> dict[str, Any]:
    options: dict[str, Any] = {
        "username": target.username,
        "password": target.password,
        "socket_timeout": settings.timeout_s,
        "socket_connect_timeout": settings.timeout_s,
        "retry": retry_policy(settings),
        "retry_on_error": RETRY_ON,
    }
    if target.tls:
        options["ssl"] = True
        for name in (TLS_PARAMETERS | {"ssl_password"}) & set(target.options):
            value: Any = target.options[name]
            if name == "ssl_check_hostname":
                value = value.lower() in ("1", "true", "yes")
            options[name] = value
    if "client_name" in target.options:
        options["client_name"] = target.options["client_name"]
    if "protocol" in target.options:
        options["protocol"] = int(target.options["protocol"])
    return options


class RedisConnection:
    """What the store needs of Redis, whatever the mode."""

    def __init__(self, mode: str, client: redis.Redis | RedisCluster, where: str) -> None:
        self.mode = mode  # standalone | cluster | sentinel
        self.client: Any = client  # redis.Redis or RedisCluster (same command methods)
        self.where = where
        self._slot_table: list[Node] | None = None  # slot -> its primary (a cluster)
        self.failing = False  # the last write gave up (redis_writes: no more waiting)

    @property
    def cluster(self) -> RedisCluster | None:
        return self.client if isinstance(self.client, RedisCluster) else None

    def primaries(self) -> list[Node]:
        cluster = self.cluster
        if cluster is None:
            return [Node(self._single_name(), self.client)]
        return [
            Node(n.name, cluster.get_redis_connection(n))
            for n in sorted(cluster.get_primaries(), key=lambda n: n.name)  # type: ignore[no-untyped-call]
        ]

    def node_for_slot(self, slot: int) -> Node:
        cluster = self.cluster
        if cluster is None:
            return Node(self._single_name(), self.client)
        return self.slot_table()[slot]

    def slot_table(self) -> list[Node]:
        """Every slot's primary, looked up once per topology (a list index per key
        instead of redis-py's lookup: most of a cluster write's client time otherwise).
        Raises SlotNotCoveredError while a slot has no node."""
        cluster = self.cluster
        assert cluster is not None
        if self._slot_table is None:
            slots = cluster.nodes_manager.slots_cache
            nodes: dict[str, Node] = {}
            table = []
            for slot in range(REDIS_CLUSTER_HASH_SLOTS):
                owners = slots.get(slot)
                if not owners:
                    raise SlotNotCoveredError(f"slot {slot} is not covered by the cluster")
                primary = owners[0]
                node = nodes.get(primary.name)
                if node is None:
                    client = cluster.get_redis_connection(primary)
                    node = nodes[primary.name] = Node(primary.name, client)
                table.append(node)
            self._slot_table = table
        return self._slot_table

    def slot_of(self, key: str) -> int:
        return key_slot(key.encode()) if self.cluster is not None else 0

    def refresh(self) -> None:
        """After MOVED or a dead node: learn the cluster's slots again (a Sentinel's
        pool asks the sentinels for the master on its next connection)."""
        cluster = self.cluster
        self._slot_table = None
        if cluster is not None:
            cluster.nodes_manager.initialize()
        else:
            self.client.connection_pool.disconnect()

    def _single_name(self) -> str:
        kwargs = self.client.connection_pool.connection_kwargs
        if "path" in kwargs:
            return f"unix:{kwargs['path']}"
        if self.mode == "sentinel":
            with_master = getattr(self.client.connection_pool, "get_master_address", None)
            if with_master is not None:
                try:
                    host, port = with_master()
                    return f"{host}:{port}"
                except redis.RedisError:
                    return "master unknown"
        return f"{kwargs.get('host')}:{kwargs.get('port')}"

    def close(self) -> None:
        self.client.close()


def connect(settings: RedisSettings) -> RedisConnection:
    """Build the client of the configured mode (auto: ask the node)."""
    target = settings.target()
    where = settings.masked_url()
    options = _client_options(settings, target)
    if target.sentinel:
        return RedisConnection("sentinel", _sentinel_master(settings, target, options), where)
    if target.path is not None:
        client = redis.Redis(unix_socket_path=target.path, db=target.db, **_no_ssl(options))
        return RedisConnection("standalone", client, where)
    mode = settings.mode
    if mode == "auto":
        mode = "cluster" if _cluster_enabled(target, options) else "standalone"
    if mode == "cluster":
        if target.db:
            raise ConfigError("Redis Cluster has database 0 only (the URL names another)")
        nodes = [ClusterNode(host, port) for host, port in target.hosts]  # type: ignore[no-untyped-call]
        cluster = RedisCluster(startup_nodes=nodes, **options)
        return RedisConnection("cluster", cluster, where)
    host, port = target.hosts[0]
    return RedisConnection("standalone", redis.Redis(host, port, target.db, **options), where)


def _no_ssl(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if not k.startswith("ssl")}


def _cluster_enabled(target: RedisTarget, options: dict[str, Any]) -> bool:
    """Does the (first reachable) node run in cluster mode? Unreachable: the error of the
    last node tried is raised (a redis-py exception, mapped by the caller)."""
    error: redis.RedisError | None = None
    for host, port in target.hosts:
        probe = redis.Redis(host, port, **options)
        try:
            return int(probe.info("cluster").get("cluster_enabled", 0)) == 1
        except redis.ConnectionError as exc:
            error = exc
        finally:
            probe.close()
    assert error is not None
    raise error


def _sentinel_master(
    settings: RedisSettings, target: RedisTarget, options: dict[str, Any]
) -> redis.Redis:
    sentinel_options: dict[str, Any] = {
        "socket_timeout": settings.timeout_s,
        "socket_connect_timeout": settings.timeout_s,
    }
    if settings.sentinel_password:  # an empty one (as .env.example has it) is none
        sentinel_options["password"] = settings.sentinel_password.get_secret_value()
    if target.tls:
        sentinel_options.update({k: v for k, v in options.items() if k.startswith("ssl")})
    sentinel = Sentinel(list(target.hosts), sentinel_kwargs=sentinel_options, **options)
    assert target.service is not None
    master: redis.Redis = sentinel.master_for(target.service, db=target.db)
    return master


def sentinel_of(connection: RedisConnection) -> Sentinel | None:
    """The Sentinel manager behind a sentinel connection (for `check`)."""
    pool = connection.client.connection_pool
    manager = getattr(pool, "sentinel_manager", None)
    return manager if isinstance(manager, Sentinel) else None


def service_of(connection: RedisConnection) -> str | None:
    return getattr(connection.client.connection_pool, "service_name", None)
