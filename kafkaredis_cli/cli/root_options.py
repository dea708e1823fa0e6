"""The root options, defined once on the root command and accepted after any subcommand.

`kafkaredis -b host:9092 produce x` and `kafkaredis produce -b host:9092 x` mean the same,
as kcat users expect. The root callback's signature is the one definition: the group
below copies each of its options onto every subcommand (nested ones too), where the copy
writes into the same `CliState`. A value given after the subcommand wins over one given
before it; `-X` values from both places add up.
"""

from __future__ import annotations

import copy
from enum import Enum, StrEnum
from typing import Any

import typer
from typer.core import TyperGroup

from kafkaredis_cli.cli.help_pages import plain_help
from kafkaredis_cli.cli.state import state

ROOT_PANEL = "Global options (before or after the command)"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def remember(ctx: typer.Context, name: str, value: Any) -> None:
    """Store one root option's value in the command line's state (if it was given)."""
    if value is None or value == () or value == []:
        return
    cli = state(ctx)
    if isinstance(value, Enum):
        value = value.value
    current = getattr(cli, name)
    if isinstance(current, list):
        current.extend(value)
    else:
        setattr(cli, name, value)


def _remember_callback(ctx: typer.Context, param: Any, value: Any) -> Any:
    remember(ctx, param.name, value)
    return value


def _no_type(ctx: Any) -> None:
    return None


def _hide_flag_type(param: Any) -> Any:
    if getattr(param, "is_flag", False):
        param.display_type_rich = _no_type
    return param


def _hide_flag_types(command: Any) -> None:
    """A flag takes no value: its help row shows no `<bool>` placeholder (--help too)."""
    for param in command.params:
        _hide_flag_type(param)
    make_help_option = command.get_help_option

    def help_option(ctx: Any) -> Any:
        return _hide_flag_type(make_help_option(ctx))

    command.get_help_option = help_option


def _adopt(command: Any, options: list[Any]) -> None:
    _hide_flag_types(command)
    plain_help(command)
    for option in options:
        twin = copy.copy(option)
        twin.expose_value = False
        twin.callback = _remember_callback
        command.params.append(twin)
    for sub in getattr(command, "commands", {}).values():
        _adopt(sub, options)


class RootOptionsGroup(TyperGroup):
    """A group whose own non-eager options are also accepted by every subcommand."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shared = [
            p
            for p in self.params
            if getattr(p, "rich_help_panel", None) == ROOT_PANEL and not p.is_eager
        ]
        _hide_flag_types(self)
        plain_help(self)
        for command in self.commands.values():
            _adopt(command, shared)

    def get_params(self, ctx: Any) -> list[Any]:
        # Typer adds --install-completion and --show-completion after __init__.
        return [_hide_flag_type(p) for p in super().get_params(ctx)]
