"""`kafkaredis cache get|list|delete` and `inspect-cache`: SCAN only, never KEYS."""

from contextlib import closing
from typing import Annotated

import typer

from kafkaredis_cli.cli.completion import complete_cache_key, complete_topic
from kafkaredis_cli.cli.console import info, print_json
from kafkaredis_cli.cli.options import JsonOpt
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.errors import NotFoundError, UsageError

cache_app = typer.Typer(
    help="Look at and delete the Redis records kafkaredis keeps.", no_args_is_help=True
)


@cache_app.command("get")
def get(
    ctx: typer.Context,
    key: Annotated[
        str,
        typer.Argument(
            help="A message id, latest:TOPIC, or a key under the prefix.",
            autocompletion=complete_cache_key,
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Show one record (a message id, latest:TOPIC, or any key under the prefix)."""
    from kafkaredis_cli.domain.cache_queries import GetCacheEntry

    with closing(state(ctx).cache_app()) as app:
        entry = app.mediator.send(GetCacheEntry(key=key))
    if entry is None:
        raise NotFoundError(f"no key {app.keys.resolve(key)}")
    from kafkaredis_cli.cli import render  # not loaded for --help

    render.cache_entry(entry, as_json)


@cache_app.command("list")
def list_(
    ctx: typer.Context,
    pattern: Annotated[
        str | None, typer.Option("--pattern", help="Glob under the prefix, e.g. 'msg:*'.")
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic", "-t", help="Only records of this topic.", autocompletion=complete_topic
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most N keys.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List keys under the prefix (SCAN), with type, TTL and where the message is."""
    from kafkaredis_cli.domain.cache_queries import ListCache

    if limit < 1:
        raise UsageError("--limit must be at least 1")
    with closing(state(ctx).cache_app()) as app:
        entries = app.mediator.send(ListCache(pattern=pattern, topic=topic, limit=limit))
    from kafkaredis_cli.cli import render  # not loaded for --help

    render.cache_list(entries, as_json)


@cache_app.command("delete")
def delete(
    ctx: typer.Context,
    keys: Annotated[
        list[str] | None,
        typer.Argument(help="Message ids or keys.", autocompletion=complete_cache_key),
    ] = None,
    pattern: Annotated[
        str | None, typer.Option("--pattern", help="Delete every key matching (needs --yes).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm a --pattern delete.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete records by id or key, or every key matching --pattern (with --yes)."""
    from kafkaredis_cli.domain.cache_queries import DeleteCache

    if not keys and not pattern:
        raise UsageError("name the keys to delete, or give --pattern P --yes")
    if pattern and not yes:
        raise UsageError("--pattern deletes every matching key: add --yes to confirm")
    with closing(state(ctx).cache_app()) as app:
        done = app.mediator.send(DeleteCache(keys=tuple(keys or ()), pattern=pattern))
    if as_json:
        print_json({"deleted": done.deleted, "asked": done.asked})
    else:
        info(f"deleted {done.deleted} of {done.asked} key(s)")


def inspect_cache(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Summarise the cache: keys under the prefix by kind, TTLs, memory."""
    from kafkaredis_cli.domain.cache_queries import InspectCache

    with closing(state(ctx).cache_app()) as app:
        summary = app.mediator.send(InspectCache())
    from kafkaredis_cli.cli import render  # not loaded for --help

    render.cache_summary(summary, as_json)
