"""`kafkaredis groups describe GROUP...`: one group in full, of any kind (classic,
consumer, share): state, members and their partitions, the group configs of its kind,
and what the Admin API cannot show."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kafkaredis_cli.cli.console import out, print_json, warn
from kafkaredis_cli.cli.groups import _send, groups_app
from kafkaredis_cli.cli.options import JsonOpt
from kafkaredis_cli.cli.state import state

if TYPE_CHECKING:
    from kafkaredis_cli.domain.groups import GroupDetail


@groups_app.command("describe")
def describe(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(metavar="GROUP...", help="The groups.")],
    as_json: JsonOpt = False,
) -> None:
    """Kind, state, members and their partitions, and the group's configs (share.*,
    consumer.*); a share group's members and offsets cannot be shown (see docs/groups.md)."""
    from kafkaredis_cli.domain.groups import DescribeGroups

    groups = tuple(state(ctx).group(name, "GROUP") for name in names)
    found: list[GroupDetail] = _send(ctx, DescribeGroups(groups=groups))
    if as_json:
        print_json([_as_json(d) for d in found])
    else:
        for detail in found:
            _print(detail)
    for detail in found:
        if detail.info.note:
            warn(f"group {detail.info.group}: {detail.info.note}")
        elif detail.info.state == "Dead":
            warn(f"group {detail.info.group} does not exist")


def _as_json(detail: "GroupDetail") -> dict[str, Any]:
    info = detail.info
    return {
        "group": info.group,
        "type": info.type,
        "protocol": info.protocol,
        "state": info.state,
        "assignor": info.assignor,
        "topics": list(info.topics),
        "members": [
            {
                "member": m.member,
                "client": m.client,
                "host": m.host,
                "partitions": [{"topic": t, "partition": p} for t, p in m.partitions],
            }
            for m in detail.members
        ],
        "configs": dict(detail.configs),
        **({"note": info.note} if info.note else {}),
    }


def _print(detail: "GroupDetail") -> None:
    from rich.table import Table

    from kafkaredis_cli.cli.render import print_table

    info = detail.info
    if info.state == "Dead":
        out.print(f"{info.group}: no such group", markup=False)
        return
    members = "?" if info.type == "share" else str(info.members)
    out.print(
        f"{info.group}: {info.type} group, state {info.state}, {members} member(s), "
        f"assignor {info.assignor or '-'}",
        markup=False,
    )
    if detail.members:
        table = Table("member", "client", "host", "partitions")
        for m in detail.members:
            parts = ", ".join(f"{t}[{p}]" for t, p in m.partitions) or "-"
            table.add_row(m.member, m.client, m.host, parts)
        print_table(table)
    for name, value in detail.configs.items():
        out.print(f"  {name}={value}", markup=False)
