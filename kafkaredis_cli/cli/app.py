"""The root command: global options, the sub-commands, and errors -> exit statuses."""

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kafkaredis_cli import __version__
from kafkaredis_cli.cli import (
    cache,
    check,
    config,
    consume,
    context_commands,
    groups,
    produce,
    replay,
    timer,
)
from kafkaredis_cli.cli.completion import complete_context
from kafkaredis_cli.cli.console import error
from kafkaredis_cli.cli.root_options import (
    ROOT_PANEL,
    LogFormat,
    LogLevel,
    RootOptionsGroup,
    remember,
)
from kafkaredis_cli.errors import ExitStatus, KafkaRedisError
from kafkaredis_cli.signals import ForcedStop, exit_status_for


class KafkaRedisGroup(RootOptionsGroup):
    """Turns known errors into one line on stderr and a documented exit status."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KafkaRedisError as exc:
            error(exc.message)
            raise typer.Exit(int(exc.exit_status)) from None
        except ForcedStop as exc:
            error(f"stopped at once by a second {signal.Signals(exc.signum).name}")
            raise typer.Exit(exit_status_for(exc.signum)) from None
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
    rich_markup_mode=None,  # plain help (cli/help_pages.py): rich's would double --help's time
    add_completion=True,
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
        typer.Option(
            "--bootstrap-servers",
            "-b",
            metavar="HOST:PORT,…",
            help="Kafka bootstrap servers. (env KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS)",
            rich_help_panel=ROOT_PANEL,
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url",
            "-u",
            metavar="URL",
            help="Redis URL (redis://, rediss://). (env KAFKAREDIS_REDIS__URL)",
            rich_help_panel=ROOT_PANEL,
        ),
    ] = None,
    properties: Annotated[
        list[str] | None,
        typer.Option(
            "-X",
            metavar="KEY=VALUE",
            help="librdkafka property (repeatable), as in kcat. "
            "(env KAFKAREDIS_KAFKA__PROPERTIES, JSON)",
            rich_help_panel=ROOT_PANEL,
        ),
    ] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            metavar="PATH",
            help="Read settings from this .env file (default ./.env).",
            rich_help_panel=ROOT_PANEL,
        ),
    ] = None,
    log_level: Annotated[
        LogLevel | None,
        typer.Option(
            "--log-level",
            case_sensitive=False,
            help="Logs on stderr from this level. (env KAFKAREDIS_LOG_LEVEL)",
            rich_help_panel=ROOT_PANEL,
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            case_sensitive=False,
            help="Log line format. (env KAFKAREDIS_LOG_FORMAT)",
            rich_help_panel=ROOT_PANEL,
        ),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            metavar="NAME",
            help="Use this named context (kafkaredis context …) for this command. "
            "(env KAFKAREDIS_CONTEXT)",
            rich_help_panel=ROOT_PANEL,
            autocompletion=complete_context,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Show the versions of kafkaredis, librdkafka and redis-py.",
        ),
    ] = False,
) -> None:
    """Global options may come before or after the command; they win over the
    environment and .env."""
    for name, value in (
        ("bootstrap_servers", bootstrap_servers),
        ("redis_url", redis_url),
        ("properties", properties),
        ("env_file", env_file),
        ("log_level", log_level),
        ("log_format", log_format),
        ("context", context),
    ):
        remember(ctx, name, value)


app.command("produce")(produce.produce)
app.command("consume")(consume.consume)
app.command("timer")(timer.timer)
cache.cache_app.command("replay")(replay.replay)
app.add_typer(cache.cache_app, name="cache")
app.command("inspect-cache")(cache.inspect_cache)
app.add_typer(groups.groups_app, name="groups")
app.command("check")(check.check)
app.command("config")(config.config)
app.add_typer(context_commands.context_app, name="context")


def main() -> None:
    app()
