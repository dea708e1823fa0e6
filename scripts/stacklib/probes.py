"""What scripts/stack says about a node or a component: where it listens, whether it
answers, whether the whole (a Kafka cluster, a Redis mode) is healthy."""

from __future__ import annotations

from stacklib import kafka_nodes, redis_modes
from stacklib.layout import HOST, SENTINEL_SERVICE, Node, Stack


def describe(stack: Stack, node: Node) -> str:
    where = f"{node.name} on {HOST}:{node.port}"
    if node.kind == "kafka" and node.extra_port:
        return (
            f"{where} SASL_SSL (mTLS {HOST}:{node.extra_port}, controller {HOST}:{node.peer_port})"
        )
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
