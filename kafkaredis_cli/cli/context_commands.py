"""`kafkaredis context add|use|list|show|delete`: the named contexts (docs/contexts.md).

They read and write the contexts file only, never Kafka or Redis, and print no secret:
like `config`, they go through no handler (there is no service behind them)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kafkaredis_cli.cli.completion import complete_context
from kafkaredis_cli.cli.console import info, print_json, warn
from kafkaredis_cli.cli.options import JsonOpt
from kafkaredis_cli.cli.state import CliState, state
from kafkaredis_cli.errors import ConfigError, UsageError

context_app = typer.Typer(
    help="Named contexts: the settings of several clusters in one file, one of them current.",
    no_args_is_help=True,
)

NameArg = Annotated[
    str, typer.Argument(metavar="NAME", help="Context name.", autocompletion=complete_context)
]


@context_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Context name.")],
    topics: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="Topic (repeatable; the first is the default)."),
    ] = None,
    group: Annotated[str | None, typer.Option("--group", "-g", help="Consumer group.")] = None,
    key_prefix: Annotated[
        str | None, typer.Option("--key-prefix", help="Prefix of the Redis keys.")
    ] = None,
    redis_mode: Annotated[
        str | None,
        typer.Option("--redis-mode", help="auto, standalone, cluster or sentinel."),
    ] = None,
    assignments: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            metavar="SETTING=VALUE",
            help="Any kafka.* or redis.* setting (repeatable), e.g. "
            "kafka.sasl_password=env:KAFKA_PASSWORD.",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a context of that name.")
    ] = False,
    use: Annotated[bool, typer.Option("--use", help="Make it the current context.")] = False,
) -> None:
    """Add a context from the global options (-b, -u, -X, --log-level, --log-format) and
    these; a secret may be given as env:NAME or file:PATH, read when it is used."""
    from kafkaredis_cli.contexts import holds_secret, name_problem, read_contexts, write_contexts

    problem = name_problem(name)
    if problem:
        raise UsageError(problem)
    file = read_contexts()
    if name in file.contexts and not replace:
        raise UsageError(f"context {name!r} exists (--replace, or context delete {name})")
    values = _context_values(state(ctx), topics, group, key_prefix, redis_mode, assignments)
    _validate(name, values)
    file.contexts[name] = values
    if use:
        file.current = name
    write_contexts(file)
    now = " (current)" if file.current == name else ""
    info(f"added context {name}{now} to {file.path}")
    if holds_secret(values):
        info("it holds a secret (the file is mode 0600); env:NAME or file:PATH keep it out")
    _overridden()


@context_app.command("use")
def use(name: NameArg) -> None:
    """Make NAME the current context (remembered in the file)."""
    from kafkaredis_cli.contexts import read_contexts, write_contexts

    file = read_contexts()
    file.get(name)
    file.current = name
    write_contexts(file)
    info(f"using context {name}")
    _overridden()


def _overridden() -> None:
    """Say so when KAFKAREDIS_CONTEXT chooses another context than the current one."""
    import os

    chosen = os.environ.get("KAFKAREDIS_CONTEXT")
    if chosen is not None:
        what = f"context {chosen}" if chosen else "no context"
        warn(f"KAFKAREDIS_CONTEXT is set: commands use {what}, not the current one")


@context_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List the contexts; the current one is marked *."""
    from kafkaredis_cli.contexts import masked, read_contexts

    file = read_contexts()
    rows = []
    for name in sorted(file.contexts):
        shown = masked(file.contexts[name])
        rows.append(
            {
                "name": name,
                "current": name == file.current,
                "bootstrap_servers": shown.get("kafka", {}).get("bootstrap_servers"),
                "redis_url": shown.get("redis", {}).get("url"),
            }
        )
    if as_json:
        print_json({"path": str(file.path), "current": file.current, "contexts": rows})
        return
    if not rows:
        info(f"no contexts in {file.path} (kafkaredis context add NAME -b HOST:PORT -u URL)")
        return
    width = max(len("NAME"), *(len(row["name"]) for row in rows))
    lines = [f"  {'NAME':<{width}}  BOOTSTRAP SERVERS / REDIS URL"]
    for row in rows:
        mark = "*" if row["current"] else " "
        where = f"{row['bootstrap_servers'] or '-'}  {row['redis_url'] or '-'}"
        lines.append(f"{mark} {row['name']:<{width}}  {where}")
    sys.stdout.write("\n".join(lines) + "\n")


@context_app.command("show")
def show(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="Context name (default: the current one).",
            autocompletion=complete_context,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a context's settings (the current one by default), secrets masked."""
    from kafkaredis_cli.contexts import masked, read_contexts

    file = read_contexts()
    if name is None:
        if file.current is None:
            raise UsageError("no current context (kafkaredis context use NAME, or show NAME)")
        name = file.current
    values = masked(file.get(name))
    if as_json:
        print_json({"name": name, "current": name == file.current, "settings": values})
        return
    now = " (current)" if name == file.current else ""
    lines = [f"context  {name}{now}", f"file     {file.path}"]
    lines += [f"{path}  {value}" for path, value in _flat(values)]
    sys.stdout.write("\n".join(lines) + "\n")


@context_app.command("delete")
def delete(name: NameArg) -> None:
    """Delete a context (if it is the current one, no context is current any more)."""
    from kafkaredis_cli.contexts import read_contexts, write_contexts

    file = read_contexts()
    file.get(name)
    del file.contexts[name]
    if file.current == name:
        file.current = None
    write_contexts(file)
    info(f"deleted context {name}")


def _flat(values: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, dict) and value:
            rows += _flat(value, f"{prefix}{key}.")
        else:
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            rows.append((f"{prefix}{key}", text))
    return rows


def _context_values(
    cli: CliState,
    topics: list[str] | None,
    group: str | None,
    key_prefix: str | None,
    redis_mode: str | None,
    assignments: list[str] | None,
) -> dict[str, Any]:
    """The context's settings, in the shape of the settings: only what was given."""
    from kafkaredis_cli.cli.option_parsers import parse_pairs

    given = cli.overrides()
    given.pop("context", None)
    kafka: dict[str, Any] = given.pop("kafka", {})
    redis: dict[str, Any] = given.pop("redis", {})
    for place, value in (
        ((kafka, "topics"), list(topics) if topics else None),
        ((kafka, "group_id"), group),
        ((redis, "key_prefix"), key_prefix),
        ((redis, "mode"), redis_mode),
    ):
        if value is not None:
            place[0][place[1]] = value
    sections = {"kafka": kafka, "redis": redis}
    for setting, value in parse_pairs(assignments, "--set"):
        section, _, field = setting.partition(".")
        if section not in sections or not _is_field(section, field) or field == "properties":
            raise UsageError(
                f"--set {setting!r}: not a kafka.* or redis.* setting (-X for librdkafka "
                "properties; kafkaredis config lists them)"
            )
        sections[section][field] = _split(value) if field == "topics" else value
    return {**{k: v for k, v in sections.items() if v}, **given}


def _is_field(section: str, field: str) -> bool:
    from kafkaredis_cli.settings import KafkaSettings, RedisSettings

    model = KafkaSettings if section == "kafka" else RedisSettings
    return field in model.model_fields


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _validate(name: str, values: dict[str, Any]) -> None:
    """Refuse a context that could not be loaded (a reference stands for a valid value)."""
    from pydantic import ValidationError

    from kafkaredis_cli.contexts import resolve_as_placeholders
    from kafkaredis_cli.settings import KafkaSettings, RedisSettings

    checked = resolve_as_placeholders(values)
    for section, model in (("kafka", KafkaSettings), ("redis", RedisSettings)):
        try:
            model.model_validate(checked.get(section, {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, (section, *e['loc'])))}: "
                + e["msg"].removeprefix("Value error, ")
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise ConfigError(f"context {name!r}: bad setting: {problems}") from None
