"""`kafkaredis check` as a command: the rows saying whether Kafka and Redis work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kafkaredis_cli.domain.cluster_health import CheckRow, ClusterInfo
from kafkaredis_cli.mediator import Command

# The ports of the check: one metadata snapshot of the cluster, the Redis rows.
ReadCluster = Callable[[], ClusterInfo]
ReadRedisHealth = Callable[[], list[CheckRow]]


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckServices(Command[list[CheckRow]]):
    """Kafka's rows (the table of cluster checks), then Redis's (the mode, every node).

    `expected_brokers` overrides the setting kafka.expected_brokers."""

    expected_brokers: int | None = None
