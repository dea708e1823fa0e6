"""Plain help pages: each panel of options its own section, each command's whole summary.

Typer's rich help loads rich's tables, panels, markdown (markdown-it) and syntax
(pygments) modules: more than half the time of a `kafkaredis --help`. Click's plain
formatter prints the same options, metavars and help texts, and is not cut to the
terminal's width in a box; this module keeps what the panels said: the global options
in a section of their own, commands with their whole first paragraph.
"""

from __future__ import annotations

from typing import Any

OPTIONS = "Options"

# What an option's value is, where Typer would show only its type (<str>, <int range>).
VALUE_NAMES = {
    "--topic": "TOPIC",
    "--key": "KEY",
    "--key-delimiter": "DELIM",
    "--group": "GROUP",
    "--partition": "N",
    "--count": "N",
    "--limit": "N",
    "--brokers": "N",
    "--max-lag": "N",
    "--shift-by": "N",
    "--to-offset": "OFFSET",
    "--to-time": "TIME",
    "--from": "START",
    "--to": "END",
    "--pattern": "GLOB",
    "--timeout": "SECONDS",
    "--interval": "SECONDS",
    "--ttl": "SECONDS",
    "--max-loss": "LIMIT",
    "--metrics-host": "HOST",
    "--metrics-port": "PORT",
}


def format_options(command: Any, ctx: Any, formatter: Any) -> None:
    """Arguments, the command's own options, then each panel (rich_help_panel) in turn;
    a group's commands last."""
    sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], OPTIONS: []}
    for param in command.get_params(ctx):
        _name_the_value(param)
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            title = "Arguments"
            if not param.type_descriptor.is_choice:  # the name says it: no <str> after it
                record = (record[0].split(" <", 1)[0], record[1])
        else:
            title = getattr(param, "rich_help_panel", None) or OPTIONS
        sections.setdefault(title, []).append(record)
    for title, rows in sections.items():
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)
    if hasattr(command, "list_commands"):
        _format_commands(command, ctx, formatter)


def _name_the_value(param: Any) -> None:
    """Give a parameter whose metavar would be its bare type a name for its value
    (choices stay listed: <text|json> says more than a name)."""
    if param.metavar is not None or getattr(param, "is_flag", False):
        return
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or descriptor.is_choice:
        return
    if param.param_type_name == "argument":
        name = (param.name or "value").upper()
    else:
        longest = max(param.opts, key=len)
        name = VALUE_NAMES.get(longest, longest.lstrip("-").upper())
    param.metavar = f"{name}..." if param.nargs == -1 else name


def _format_commands(group: Any, ctx: Any, formatter: Any) -> None:
    rows = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        rows.append((name, summary(command)))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def summary(command: Any) -> str:
    """A command's short help, else the first paragraph of its help, whole."""
    if command.short_help:
        return str(command.short_help).strip()
    text = (command.help or "").strip()
    return " ".join(text.split("\n\n")[0].split())


def plain_help(command: Any) -> None:
    """Give one command (a group's commands too, through their own call) plain help."""

    def options(ctx: Any, formatter: Any) -> None:
        format_options(command, ctx, formatter)

    command.format_options = options
