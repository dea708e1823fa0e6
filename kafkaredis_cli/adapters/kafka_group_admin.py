"""What confluent-kafka's Admin API can say about groups of every kind (KIP-932 share
groups included, which its consumer-group calls leave out), and group configs."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.adapters.errors import from_kafka_exception
from kafkaredis_cli.errors import KafkaError


def all_group_ids(admin: Any, timeout_s: float, where: str) -> set[str]:
    """Every group the brokers know, of any kind (ListGroups with no type filter):
    confluent-kafka 2.16's list_consumer_groups leaves share groups out."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            found = admin.list_groups(timeout=timeout_s)
    except ck.KafkaException as exc:
        raise from_kafka_exception(exc, f"list groups on {where}") from None
    return {g.id for g in found}


def _wait(future: Any, timeout_s: float, what: str) -> Any:
    try:
        return future.result(timeout=timeout_s + 1)
    except ck.KafkaException as exc:
        raise from_kafka_exception(exc, what) from None
    except TimeoutError:
        raise KafkaError(f"{what}: no answer from Kafka within {timeout_s:g}s") from None


def set_group_configs(admin: Any, group: str, values: Mapping[str, str], timeout_s: float) -> None:
    """Set these group configs (incrementally: the group's other configs stay)."""
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        ResourceType,
    )

    entries = [
        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
        for name, value in values.items()
    ]
    resource = ConfigResource(ResourceType.GROUP, group, incremental_configs=entries)
    futures = admin.incremental_alter_configs([resource], request_timeout=timeout_s)
    for future in futures.values():
        _wait(future, timeout_s, f"set configs of group {group!r}")


def group_configs(admin: Any, group: str, timeout_s: float) -> dict[str, str]:
    """The group's configs (defaults included): name -> value."""
    from confluent_kafka.admin import ConfigResource, ResourceType  # type: ignore[attr-defined]

    futures = admin.describe_configs(
        [ConfigResource(ResourceType.GROUP, group)], request_timeout=timeout_s
    )
    out: dict[str, str] = {}
    for future in futures.values():
        found = _wait(future, timeout_s, f"configs of group {group!r}")
        out.update({name: entry.value for name, entry in found.items()})
    return out
