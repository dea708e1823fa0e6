"""`kafkaredis config`: the effective settings, every secret masked."""

import typer

from kafkaredis_cli.cli.console import print_json
from kafkaredis_cli.cli.options import JsonOpt
from kafkaredis_cli.cli.state import state


def config(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Show the effective settings, secrets masked, and where each came from: an option,
    the environment, .env, the context in force, or the default."""
    from kafkaredis_cli.context_source import value_origins

    given = state(ctx)
    settings = given.settings()
    data = settings.masked()
    origins = value_origins(settings, given.overrides(), given.env_file)
    if as_json:
        print_json({**data, "sources": origins})
        return
    from rich.table import Table

    table = Table("setting", "environment variable", "value", "from")
    for section, values in data.items():
        if isinstance(values, dict):
            for name, value in values.items():
                env = f"KAFKAREDIS_{section.upper()}__{name.upper()}"
                where = origins.get(f"{section}.{name}", "")
                table.add_row(f"{section}.{name}", env, _show(value), where)
        else:
            where = origins.get(section, "")
            table.add_row(section, f"KAFKAREDIS_{section.upper()}", _show(values), where)
    from kafkaredis_cli.cli import render  # not loaded for --help

    render.print_table(table)


def _show(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)
