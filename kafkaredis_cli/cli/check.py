"""`kafkaredis check`: can we reach Kafka and Redis? A table of what works."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from kafkaredis_cli.cli import render
from kafkaredis_cli.cli.check_redis import redis_rows
from kafkaredis_cli.cli.console import print_json
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.errors import CheckFailed, ConfigError, KafkaRedisError


def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Connect to Kafka (metadata: brokers, topics) and Redis (the mode, every node)."""
    from kafkaredis_cli.adapters.kafka import KafkaMetadata

    settings = state(ctx).settings()
    rows: list[dict[str, Any]] = []
    kafka = KafkaMetadata(settings.kafka.to_librdkafka(), settings.kafka.timeout_s)
    try:
        cluster = kafka.cluster(settings.kafka.topics)
        rows.append(
            {
                "service": "kafka",
                "target": settings.kafka.bootstrap_servers,
                "ok": True,
                "detail": f"cluster {cluster.cluster_id}, brokers {', '.join(cluster.brokers)}",
            }
        )
        for topic, partitions in cluster.topics.items():
            rows.append(
                {
                    "service": "kafka topic",
                    "target": topic,
                    "ok": True,
                    "detail": f"{partitions} partition(s)"
                    if partitions >= 0
                    else "not created yet (created on first produce if the broker allows)",
                }
            )
    except ConfigError:
        raise  # a bad setting is not a service that is down
    except KafkaRedisError as exc:
        rows.append(
            {
                "service": "kafka",
                "target": settings.kafka.bootstrap_servers,
                "ok": False,
                "detail": exc.message,
            }
        )
    finally:
        kafka.close()
    rows += redis_rows(settings)
    if as_json:
        print_json({"ok": all(r["ok"] for r in rows), "checks": rows})
    else:
        table = Table("service", "target", "status", "detail")
        for r in rows:
            table.add_row(
                r["service"],
                r["target"],
                "[green]ok[/]" if r["ok"] else "[red]FAIL[/]",
                r["detail"],
            )
        render.print_table(table)
    failed = [r["service"] for r in rows if not r["ok"]]
    if failed:
        raise CheckFailed(f"not working: {', '.join(failed)}")
