"""The root command: global options, the sub-commands, and errors -> exit statuses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from kafkaredis_cli import __version__
from kafkaredis_cli.cli import cache, check, config, consume, produce, timer
from kafkaredis_cli.cli.console import error
from kafkaredis_cli.cli.state import CliState
from kafkaredis_cli.errors import ExitStatus, KafkaRedisError


class KafkaRedisGroup(TyperGroup):
    """Turns known errors into one line on stderr and a documented exit status."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KafkaRedisError as exc:
            error(exc.message)
            raise typer.Exit(int(exc.exit_status)) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None
        except BrokenPipeError:
            _silence_broken_pipe()
            raise typer.Exit(int(ExitStatus.OK)) from None
        except Exception as exc:  # a bug: still one line, details with --log-level DEBUG
            if type(exc).__module__.split(".")[0] in ("typer", "click"):
                raise  # usage errors and exits: Typer prints them itself
            import logging

            logging.getLogger("kafkaredis").debug("unexpected error", exc_info=True)
            error(
                f"unexpected {type(exc).__name__}: {exc} (run with --log-level DEBUG for details)"
            )
            raise typer.Exit(int(ExitStatus.FAILED)) from None


def _silence_broken_pipe() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


app = typer.Typer(
    cls=KafkaRedisGroup,
    name="kafkaredis",
    help="Send to Kafka and keep a copy in Redis; read back, check the path, run a canary.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    """kafkaredis and the client libraries it runs on (as kcat -V names librdkafka)."""
    if value:
        import confluent_kafka
        import redis

        librdkafka = confluent_kafka.libversion()[0]
        client = confluent_kafka.version()
        sys.stdout.write(
            f"kafkaredis {__version__}\n"
            f"confluent-kafka {client} (librdkafka {librdkafka})\n"
            f"redis-py {redis.__version__}\n"
            f"Python {sys.version.split()[0]}\n"
        )
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option("--bootstrap-servers", "-b", help="Kafka bootstrap servers (host:port,…)."),
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option("--redis-url", help="Redis URL (redis:// or rediss://).")
    ] = None,
    properties: Annotated[
        list[str] | None,
        typer.Option("-X", help="librdkafka property key=value (repeatable), as in kcat."),
    ] = None,
    env_file: Annotated[
        Path | None, typer.Option("--env-file", help="Read settings from this .env file.")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR (stderr).")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="text or json (logs go to stderr).")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Options here apply to every command; they win over the environment and .env."""
    ctx.obj = CliState(
        bootstrap_servers=bootstrap_servers,
        redis_url=redis_url,
        properties=list(properties or []),
        env_file=env_file,
        log_level=log_level,
        log_format=log_format,
    )


app.command("produce")(produce.produce)
app.command("consume")(consume.consume)
app.command("timer")(timer.timer)
app.add_typer(cache.cache_app, name="cache")
app.command("inspect-cache")(cache.inspect_cache)
app.command("check")(check.check)
app.command("config")(config.config)


def main() -> None:
    app()
