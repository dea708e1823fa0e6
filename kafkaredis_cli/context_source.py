"""The context as a pydantic-settings source, and where each setting came from.

Precedence, highest first: options (init kwargs), the environment, `.env`, the context,
the defaults. The context in force is the `context` setting (--context, then
KAFKAREDIS_CONTEXT, then a .env line), else the file's current one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
)

from kafkaredis_cli.contexts import read_contexts, resolve

if TYPE_CHECKING:
    from kafkaredis_cli.settings import Settings


class ContextSettingsSource(PydanticBaseSettingsSource):
    """The settings of the context in force, secret references resolved."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ gives the whole context at once

    def __call__(self) -> dict[str, Any]:
        asked = self.current_state.get("context")
        if asked == "" or (asked is not None and not isinstance(asked, str)):
            return {}  # "": no context at all; a wrong type: the setting's validation says so
        file = read_contexts()
        name = asked or file.current
        if name is None:
            return {}
        values = resolve(name, file.get(name))
        return {**values, "context": name}


ORIGIN_DEFAULT = "default"


def value_origins(
    settings: Settings, overrides: dict[str, Any], env_file: Path | None
) -> dict[str, str]:
    """Where each shown setting (`kafka.bootstrap_servers`, `log_level`, ...) came from:
    option, environment, .env (or the --env-file), context NAME, or default. A setting
    several layers add up to (kafka.properties) names each of them, highest first."""
    cls = type(settings)
    config = cls.model_config
    common: dict[str, Any] = {
        "env_prefix": config.get("env_prefix", ""),
        "env_nested_delimiter": config.get("env_nested_delimiter"),
        "case_sensitive": config.get("case_sensitive", False),
    }
    dotenv = env_file if env_file is not None else config.get("env_file")
    layers: list[tuple[str, dict[str, Any]]] = [
        ("option", overrides),
        ("environment", EnvSettingsSource(cls, **common)()),
        (
            str(env_file) if env_file is not None else ".env",
            DotEnvSettingsSource(
                cls, env_file=dotenv, env_file_encoding=config.get("env_file_encoding"), **common
            )(),
        ),
    ]
    if settings.context:
        layers.append((f"context {settings.context}", read_contexts().get(settings.context)))
    origins: dict[str, str] = {}
    for path in _paths(settings.masked()):
        found = [label for label, data in layers if _has(data, path)]
        if path == ("context",) and settings.context and not found:
            found = ["current context"]
        if path == ("kafka", "properties"):
            origins[".".join(path)] = " + ".join(found) or ORIGIN_DEFAULT
        else:
            origins[".".join(path)] = found[0] if found else ORIGIN_DEFAULT
    return origins


def _paths(data: dict[str, Any]) -> list[tuple[str, ...]]:
    """The settings as `config` lists them: a section's fields, or a top-level one."""
    paths: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            paths += [(key, name) for name in value]
        else:
            paths.append((key,))
    return paths


def _has(data: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(data, dict):
            return False
        matches = [k for k in data if isinstance(k, str) and k.lower() == key]
        if not matches:
            return False
        data = data[matches[0]]
    return True


def add_context_source(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
    file_secret_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The sources in their order of precedence, the context after .env."""
    return (
        init_settings,
        env_settings,
        dotenv_settings,
        ContextSettingsSource(settings_cls),
        file_secret_settings,
    )
