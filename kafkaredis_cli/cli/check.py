"""`kafkaredis check`: can we reach Kafka and Redis? A table of what works."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from kafkaredis_cli.cli import render
from kafkaredis_cli.cli.check_kafka import kafka_rows
from kafkaredis_cli.cli.console import print_json
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.errors import CheckFailed, KafkaRedisError


def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    brokers: Annotated[
        int | None,
        typer.Option(
            "--brokers",
            min=1,
            help="Brokers the Kafka cluster should have (default: the setting "
            "kafka.expected_brokers); fewer registered is a failure.",
        ),
    ] = None,
) -> None:
    """Connect to Kafka (metadata: brokers, topics, partition health) and Redis (PING,
    version). Missing brokers, partitions without a leader, under-replicated or below
    min.insync.replicas fail (exit 1)."""
    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.keys import KeySpace

    settings = state(ctx).settings()
    rows: list[dict[str, Any]] = []
    rows.extend(kafka_rows(settings.kafka, brokers))
    with RedisStore(settings.redis, KeySpace(settings.redis.key_prefix)) as store:
        try:
            server = store.server_info()
            rows.append(
                {
                    "service": "redis",
                    "target": settings.redis.masked_url(),
                    "ok": True,
                    "detail": f"PONG, redis {server.get('version')} ({server.get('mode')})",
                }
            )
        except KafkaRedisError as exc:
            rows.append(
                {
                    "service": "redis",
                    "target": settings.redis.masked_url(),
                    "ok": False,
                    "detail": exc.message,
                }
            )
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
    failed = dict.fromkeys(r["service"] for r in rows if not r["ok"])
    if failed:
        raise CheckFailed(f"not working: {', '.join(failed)}")
