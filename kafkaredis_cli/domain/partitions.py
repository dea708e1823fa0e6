"""Which partitions a topic has: a partition a command names is checked here."""

from __future__ import annotations

from kafkaredis_cli.errors import UsageError


def check_partition(topic: str, partition: int, partitions: int) -> None:
    """A partition of a topic with `partitions` partitions, else a usage error naming them."""
    if not 0 <= partition < partitions:
        raise UsageError(f"topic {topic!r} has partitions 0..{partitions - 1}, not {partition}")
