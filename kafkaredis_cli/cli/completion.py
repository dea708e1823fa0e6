"""Shell completion of values that live on the services: topic names from the broker.

Completion must never hang a shell or print an error into it: the broker gets a short
deadline, and anything that goes wrong (no settings, no broker) completes nothing.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, cast

import typer

if TYPE_CHECKING:
    from kafkaredis_cli.cli.state import CliState

COMPLETION_TIMEOUT_S = 1.5


def _given(ctx: typer.Context) -> CliState:
    """The root options the command line names so far, before the subcommand too (when
    completing, the root callback that remembers those does not run)."""
    from kafkaredis_cli.cli.root_options import remember
    from kafkaredis_cli.cli.state import state

    given = state(ctx)
    root = cast("typer.Context", ctx.find_root())
    for name, value in root.params.items():
        if hasattr(given, name) and getattr(given, name) in (None, []):
            remember(root, name, value)
    return given


def complete_topic(ctx: typer.Context, incomplete: str) -> list[str]:
    """Topic names that start with what was typed (internal `__` topics only when asked).

    The broker is the one the command line names so far (`-b`, `--env-file`,
    `--context`), else the environment's, .env's or the current context's.
    """
    with contextlib.suppress(Exception):
        import logging

        from kafkaredis_cli.adapters.kafka_metadata import KafkaMetadata
        from kafkaredis_cli.settings import load_settings

        logging.disable(logging.CRITICAL)
        given = _given(ctx)
        kafka = load_settings(given.overrides(), given.env_file).kafka
        conf = {**kafka.to_librdkafka(), "log_level": "0"}
        metadata = KafkaMetadata(conf, min(kafka.timeout_s, COMPLETION_TIMEOUT_S))
        try:
            names = metadata.topic_names()
        finally:
            metadata.close()
        hidden = not incomplete.startswith("_")
        return [n for n in names if n.startswith(incomplete) and not (hidden and n[:1] == "_")]
    return []


COMPLETION_KEYS = 200


def _shown_key(full_key: str, prefix: str) -> str:
    """How a user types a key: the bare id of a message record, else relative to the prefix."""
    relative = full_key[len(prefix) + 1 :] if full_key.startswith(prefix + ":") else full_key
    return relative[4:] if relative.startswith("msg:") else relative


def complete_cache_key(ctx: typer.Context, incomplete: str) -> list[str]:
    """Message ids and keys under the prefix from Redis (a SCAN of at most 200 keys)."""
    with contextlib.suppress(Exception):
        import logging

        from kafkaredis_cli.adapters.redis import RedisStore
        from kafkaredis_cli.keys import KeySpace
        from kafkaredis_cli.settings import load_settings

        logging.disable(logging.CRITICAL)
        given = _given(ctx)
        settings = load_settings(given.overrides(), given.env_file).redis
        quick = settings.model_copy(
            update={"timeout_s": min(settings.timeout_s, COMPLETION_TIMEOUT_S), "retries": 0}
        )
        keys = KeySpace(quick.key_prefix)
        with contextlib.closing(RedisStore(quick, keys)) as store:
            shown = [
                _shown_key(entry.key, keys.prefix) for entry in store.scan(limit=COMPLETION_KEYS)
            ]
        return sorted(k for k in shown if k.startswith(incomplete))
    return []


def complete_context(ctx: typer.Context, incomplete: str) -> list[str]:
    """The names of the contexts file's contexts (no service is asked)."""
    with contextlib.suppress(Exception):
        from kafkaredis_cli.contexts import read_contexts

        return sorted(n for n in read_contexts().contexts if n.startswith(incomplete))
    return []
