"""`kafkaredis check`: can we reach Kafka and Redis? A table of what works."""

from typing import Annotated

import typer

from kafkaredis_cli.cli.console import print_json
from kafkaredis_cli.cli.options import JsonOpt
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.domain.certificates import DEFAULT_MIN_DAYS
from kafkaredis_cli.errors import CheckFailed


def check(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    brokers: Annotated[
        int | None,
        typer.Option(
            "--brokers",
            min=1,
            help="Brokers the Kafka cluster should have (default: the setting "
            "kafka.expected_brokers); fewer registered is a failure.",
        ),
    ] = None,
    cert_min_days: Annotated[
        int,
        typer.Option(
            "--cert-min-days",
            min=0,
            max=36500,
            help="Fail when a TLS certificate (a broker's, a Redis node's, the client's) "
            "expires within this many days.",
        ),
    ] = DEFAULT_MIN_DAYS,
) -> None:
    """Connect to Kafka (brokers, every topic's partitions) and Redis (every node), show
    security and certificates. Missing brokers, partitions leaderless, offline,
    under-replicated or below min.insync.replicas fail (exit 1).

    Security: Kafka's protocol, SASL mechanism and principal; Redis's TLS and ACL user;
    every TLS certificate's expiry (each broker's, each Redis node's, the client's). A
    certificate that has expired, expires within --cert-min-days, is not trusted or does
    not match the host fails too."""
    from kafkaredis_cli.check_wiring import build_check_mediator
    from kafkaredis_cli.domain.service_checks import CheckServices

    mediator = build_check_mediator(state(ctx).settings())
    rows = mediator.send(CheckServices(expected_brokers=brokers, cert_min_days=cert_min_days))
    if as_json:
        print_json({"ok": all(r.ok for r in rows), "checks": [r.as_dict() for r in rows]})
    else:
        from rich.table import Table

        table = Table("service", "target", "status", "detail")
        for r in rows:
            table.add_row(r.service, r.target, "[green]ok[/]" if r.ok else "[red]FAIL[/]", r.detail)
        from kafkaredis_cli.cli import render  # not loaded for --help

        render.print_table(table)
    failed = dict.fromkeys(r.service for r in rows if not r.ok)
    if failed:
        raise CheckFailed(f"not working: {', '.join(failed)}")
