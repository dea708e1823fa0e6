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


def format_options(command: Any, ctx: Any, formatter: Any) -> None:
    """Arguments, the command's own options, then each panel (rich_help_panel) in turn;
    a group's commands last."""
    sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], OPTIONS: []}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            title = "Arguments"
        else:
            title = getattr(param, "rich_help_panel", None) or OPTIONS
        sections.setdefault(title, []).append(record)
    for title, rows in sections.items():
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)
    if hasattr(command, "list_commands"):
        _format_commands(command, ctx, formatter)


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
