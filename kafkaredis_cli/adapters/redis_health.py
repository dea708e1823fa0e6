"""What `check` shows of Redis: the mode, then every node with its role and state.

A check fails on: a server that does not answer, a replica used as the master (its
writes fail READONLY), a Redis Cluster whose cluster_state is not ok (or a primary of it
that is down), a Sentinel that knows no master for the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from kafkaredis_cli.adapters.redis_connect import RedisConnection, sentinel_of, service_of


@dataclass(frozen=True)
class HealthRow:
    service: str  # redis | redis node | redis sentinel
    target: str
    ok: bool
    detail: str


def redis_health(connection: RedisConnection) -> list[HealthRow]:
    if connection.mode == "cluster":
        return _cluster(connection)
    if connection.mode == "sentinel":
        return _sentinel(connection)
    return _standalone(connection)


def _role(client: redis.Redis) -> tuple[str, dict[str, Any]]:
    info: dict[str, Any] = client.info("replication")
    return str(info.get("role", "?")), info


def _version(client: redis.Redis) -> str:
    return str(client.info("server").get("redis_version"))


def _standalone(connection: RedisConnection) -> list[HealthRow]:
    client = connection.client
    client.ping()
    role, info = _role(client)
    version = _version(client)
    if role != "master":
        master = f"{info.get('master_host')}:{info.get('master_port')}"
        return [
            HealthRow(
                "redis",
                connection.where,
                False,
                f"standalone, redis {version}: a replica (of {master}) used as the master, "
                "writes fail READONLY",
            )
        ]
    return [HealthRow("redis", connection.where, True, f"standalone, PONG, redis {version}")]


def _cluster(connection: RedisConnection) -> list[HealthRow]:
    cluster = connection.cluster
    assert cluster is not None
    entry = _answering_node(cluster)
    state = str(entry.execute_command("CLUSTER INFO").get("cluster_state"))
    nodes = _cluster_nodes(entry.execute_command("CLUSTER NODES"))
    primaries = [n for n in nodes if n["role"] == "primary" and n["slots"]]
    rows = [
        HealthRow(
            "redis",
            connection.where,
            state == "ok",
            f"cluster, cluster_state {state}, {len(primaries)} primaries with slots, "
            f"{len(nodes)} nodes, redis {_version(entry)}",
        )
    ]
    for node in sorted(nodes, key=lambda n: n["address"]):
        down = node["down"]
        serving = node["role"] == "primary" and bool(node["slots"])
        detail = f"{node['role']}, {'down' if down else 'up'}"
        if node["slots"]:
            detail += f", slots {node['slots']}"
        if node["master_of"]:
            detail += f", replica of {node['master_of']}"
        rows.append(HealthRow("redis node", node["address"], not (down and serving), detail))
    return rows


def _answering_node(cluster: Any) -> Any:
    """A node that answers (the default one may be the primary that just died)."""
    error: redis.RedisError | None = None
    default = cluster.get_default_node()
    for node in [default, *[n for n in cluster.get_nodes() if n is not default]]:
        client = cluster.get_redis_connection(node)
        try:
            client.ping()
            return client
        except redis.RedisError as exc:
            error = exc
    assert error is not None
    raise error


def _cluster_nodes(raw: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """CLUSTER NODES (as redis-py parses it): address, role, down, slots, whose replica."""
    by_id = {info.get("node_id"): address.split("@")[0] for address, info in raw.items()}
    parsed = []
    for address, info in raw.items():
        flags = set(str(info.get("flags", "")).split(","))
        parsed.append(
            {
                "address": address.split("@")[0],
                "role": "primary" if "master" in flags else "replica",
                "down": bool(flags & {"fail", "fail?", "noaddr"}),
                "slots": ",".join("-".join(map(str, s)) for s in info.get("slots", [])),
                "master_of": by_id.get(info.get("master_id")),
            }
        )
    return parsed


def _sentinel(connection: RedisConnection) -> list[HealthRow]:
    sentinel: Any = sentinel_of(connection)
    service = service_of(connection)
    assert sentinel is not None and service is not None
    rows: list[HealthRow] = []
    for client in sentinel.sentinels:
        kwargs = client.connection_pool.connection_kwargs
        address = f"{kwargs.get('host')}:{kwargs.get('port')}"
        try:
            client.ping()
            rows.append(HealthRow("redis sentinel", address, True, "sentinel, PONG"))
        except redis.RedisError as exc:
            rows.append(HealthRow("redis sentinel", address, True, f"sentinel, down: {exc}"))
    try:
        host, port = sentinel.discover_master(service)
    except redis.RedisError:
        head = HealthRow(
            "redis", connection.where, False, f"sentinel: no master known for {service!r}"
        )
        return [head, *rows]
    master = connection.client
    role, _ = _role(master)
    head = HealthRow(
        "redis",
        connection.where,
        role == "master",
        f"sentinel, service {service!r}, master {host}:{port}, redis {_version(master)}"
        + ("" if role == "master" else f": {host}:{port} says it is a {role}"),
    )
    rows.append(HealthRow("redis node", f"{host}:{port}", role == "master", f"master ({role})"))
    for replica in sentinel.discover_slaves(service):
        rows.append(HealthRow("redis node", f"{replica[0]}:{replica[1]}", True, "replica"))
    return [head, *rows]
