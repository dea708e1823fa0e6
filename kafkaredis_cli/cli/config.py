"""`kafkaredis config`: the effective settings, every secret masked."""

import typer

from kafkaredis_cli.cli.console import print_json
from kafkaredis_cli.cli.options import JsonOpt
from kafkaredis_cli.cli.state import state


def config(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Show the effective settings (environment, .env and options), secrets masked."""
    data = state(ctx).settings().masked()
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    table = Table("setting", "environment variable", "value")
    for section, values in data.items():
        if isinstance(values, dict):
            for name, value in values.items():
                env = f"KAFKAREDIS_{section.upper()}__{name.upper()}"
                table.add_row(f"{section}.{name}", env, _show(value))
        else:
            table.add_row(section, f"KAFKAREDIS_{section.upper()}", _show(values))
    from kafkaredis_cli.cli import render  # not loaded for --help

    render.print_table(table)


def _show(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)
