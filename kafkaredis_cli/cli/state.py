"""What the root command parsed, turned into settings only when a command needs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kafkaredis_cli.cli.option_parsers import parse_pairs
from kafkaredis_cli.errors import UsageError

if TYPE_CHECKING:
    from kafkaredis_cli.bootstrap import App, Profile
    from kafkaredis_cli.cache_wiring import CacheApp
    from kafkaredis_cli.settings import Settings


@dataclass
class CliState:
    bootstrap_servers: str | None = None
    redis_url: str | None = None
    properties: list[str] = field(default_factory=list)
    env_file: Path | None = None
    log_level: str | None = None
    log_format: str | None = None
    context: str | None = None
    _settings: Settings | None = None

    def overrides(self) -> dict[str, Any]:
        kafka: dict[str, Any] = {}
        if self.bootstrap_servers:
            kafka["bootstrap_servers"] = self.bootstrap_servers
        if self.properties:
            kafka["properties"] = dict(parse_pairs(self.properties, "-X"))
        data: dict[str, Any] = {}
        if kafka:
            data["kafka"] = kafka
        if self.redis_url:
            data["redis"] = {"url": self.redis_url}
        if self.log_level:
            data["log_level"] = self.log_level
        if self.log_format:
            data["log_format"] = self.log_format
        if self.context is not None:  # "" too: no context for this command
            data["context"] = self.context
        return data

    def settings(self) -> Settings:
        if self._settings is None:
            from kafkaredis_cli import logs
            from kafkaredis_cli.settings import load_settings

            self._settings = load_settings(self.overrides(), self.env_file)
            logs.configure(self._settings.log_level, self._settings.log_format)
            from kafkaredis_cli.secrets import exposed_env_file

            exposed = exposed_env_file(self.env_file or Path(".env"))
            if exposed:
                from kafkaredis_cli.cli.console import warn

                warn(exposed)
        return self._settings

    def topic(self, name: str | None, option: str = "--topic") -> str:
        """The topic an option names (checked here, not by the broker), else the default."""
        if name is None:
            return self.settings().kafka.default_topic
        from kafkaredis_cli.settings import topic_problem

        problem = topic_problem(name)
        if problem:
            raise UsageError(f"{option} {problem}")
        return name

    def group(self, name: str, option: str = "--group") -> str:
        """A consumer group id an option or argument names (checked here: librdkafka
        aborts on a blank one)."""
        from kafkaredis_cli.settings import group_problem

        problem = group_problem(name)
        if problem:
            raise UsageError(f"{option} {problem}")
        return name

    def cache_app(self) -> CacheApp:
        """The mediator for commands on Redis alone (confluent-kafka is never loaded)."""
        from kafkaredis_cli.cache_wiring import build_cache_app

        return build_cache_app(self.settings())

    def app(
        self,
        profile: Profile = "single",
        delivery_timeout_s: float = 30.0,
        will_read_back: bool = False,
    ) -> App:
        from kafkaredis_cli.bootstrap import build_app

        return build_app(
            self.settings(), profile, delivery_timeout_s, will_read_back=will_read_back
        )


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj
