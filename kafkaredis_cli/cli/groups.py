"""`kafkaredis groups`, `groups lag` and `groups reset`: consumer groups and their offsets."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kafkaredis_cli.cli.completion import complete_topic
from kafkaredis_cli.cli.console import info, out, print_json, warn
from kafkaredis_cli.cli.options import JsonOpt
from kafkaredis_cli.cli.state import state
from kafkaredis_cli.errors import CheckFailed, UsageError

if TYPE_CHECKING:
    from kafkaredis_cli.domain.groups import GroupInfo, GroupLag, ResetPlan, ResetTarget
    from kafkaredis_cli.mediator import Command

groups_app = typer.Typer(
    help="Consumer groups: list them, show their lag, reset their offsets.",
    invoke_without_command=True,
)


def _send(ctx: typer.Context, command: "Command[Any]") -> Any:
    app = state(ctx).app()
    try:
        return app.mediator.send(command)
    finally:
        app.close()


@groups_app.callback()
def groups(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the groups of every kind (classic, consumer, share): state, members, topics."""
    if ctx.invoked_subcommand is not None:
        return
    from kafkaredis_cli.domain.groups import ListGroups

    found: list[GroupInfo] = _send(ctx, ListGroups())
    if as_json:
        print_json(
            [{**g._asdict(), "protocol": g.protocol, "topics": list(g.topics)} for g in found]
        )
        return
    from rich.table import Table

    from kafkaredis_cli.cli.render import print_table

    table = Table("group", "state", "type", "assignor", "members", "topics")
    for g in found:
        members = "?" if g.type == "share" else str(g.members)
        topics = "?" if g.type == "share" else ",".join(g.topics) or "-"
        table.add_row(g.group, g.state, g.type, g.assignor or "-", members, topics)
    print_table(table)
    shares = sum(1 for g in found if g.type == "share")
    described = f" ({shares} share group(s): not described, see docs/groups.md)"
    info(f"{len(found)} group(s){described if shares else ''}")


@groups_app.command("lag")
def lag(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(metavar="[GROUP]...", help="Groups (default: all).")
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic",
            "-t",
            help="Only this topic (every partition).",
            autocompletion=complete_topic,
        ),
    ] = None,
    max_lag: Annotated[
        int | None,
        typer.Option("--max-lag", min=0, help="Exit 1 when a group's total lag is over N."),
    ] = None,
    per_partition: Annotated[
        bool,
        typer.Option("--per-partition", help="--max-lag applies to each partition's lag."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Committed offset, end offset and lag per partition; totals per group and topic."""
    from kafkaredis_cli.domain.groups import GroupsLag

    cli = state(ctx)
    if per_partition and max_lag is None:
        raise UsageError("--per-partition says how --max-lag applies: give --max-lag N too")
    chosen = cli.topic(topic) if topic is not None else None
    groups = tuple(cli.group(name, "GROUP") for name in names or ())
    found: list[GroupLag] = _send(ctx, GroupsLag(groups=groups, topic=chosen))
    _print_lag(found, as_json)
    if not found:
        info("no consumer groups")
    for g in found:
        if g.note:
            warn(f"group {g.group}: {g.note}")
        elif g.members == 0 and all(p.committed is None for p in g.partitions):
            warn(f"group {g.group} has no members and no committed offsets (state {g.state})")
    if max_lag is None:
        return
    if per_partition:
        over = [p for g in found for p in g.partitions if p.lag > max_lag]
        if over:
            worst = max(over, key=lambda p: p.lag)
            raise CheckFailed(
                f"{len(over)} partition(s) over --max-lag {max_lag}: worst {worst.group} "
                f"{worst.topic}[{worst.partition}] lag {worst.lag}"
            )
        return
    groups_over = [g for g in found if g.total > max_lag]
    if groups_over:
        named = ", ".join(f"{g.group} ({g.total})" for g in groups_over)
        raise CheckFailed(f"lag over --max-lag {max_lag}: {named}")


def _print_lag(found: "list[GroupLag]", as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "group": g.group,
                    "state": g.state,
                    "members": g.members,
                    "type": g.type,
                    **({"note": g.note} if g.note else {}),
                    "lag": g.total,
                    "topics": g.by_topic(),
                    "partitions": [
                        {k: v for k, v in p._asdict().items() if k != "group"} for p in g.partitions
                    ],
                }
                for g in found
            ]
        )
        return
    from rich.table import Table

    from kafkaredis_cli.cli.render import print_table

    table = Table("group", "topic", "partition", "committed", "end", "lag")
    for g in found:
        for p in g.partitions:
            committed = "-" if p.committed is None else str(p.committed)
            table.add_row(g.group, p.topic, str(p.partition), committed, str(p.end), str(p.lag))
        for topic_name, total in sorted(g.by_topic().items()):
            table.add_row(g.group, topic_name, "all", "", "", str(total), style="bold")
    print_table(table)
    for g in found:
        if g.note:
            out.print(f"{g.group}: lag not known  ({g.type} group)", markup=False)
            continue
        out.print(f"{g.group}: lag {g.total}  ({g.state}, {g.members} member(s))", markup=False)


@groups_app.command("reset")
def reset(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(metavar="GROUP", help="The consumer group.")],
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic",
            "-t",
            help="The topic whose offsets to reset.",
            autocompletion=complete_topic,
        ),
    ] = None,
    partition: Annotated[
        list[int] | None,
        typer.Option(
            "--partition", "-p", min=0, metavar="N", help="Only this partition (repeatable)."
        ),
    ] = None,
    to_earliest: Annotated[
        bool, typer.Option("--to-earliest", help="To the first offset still in the log.")
    ] = False,
    to_latest: Annotated[bool, typer.Option("--to-latest", help="To the end.")] = False,
    to_offset: Annotated[
        int | None, typer.Option("--to-offset", min=0, help="To this offset (kept in range).")
    ] = None,
    to_time: Annotated[
        str | None,
        typer.Option(
            "--to-time", help="To the first message at or after @epoch-ms, ISO time, now or -15m."
        ),
    ] = None,
    shift_by: Annotated[
        int | None,
        typer.Option("--shift-by", help="Move the committed offset by N (negative: back)."),
    ] = None,
    execute: Annotated[
        bool, typer.Option("--execute", help="Apply the plan (default: only print it).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Plan (and with --execute apply) new committed offsets for GROUP on a topic."""
    from kafkaredis_cli.domain.groups import ResetGroupOffsets

    if topic is None:
        raise UsageError("groups reset needs the topic: -t TOPIC")
    target = _target(to_earliest, to_latest, to_offset, to_time, shift_by)
    plan: ResetPlan = _send(
        ctx,
        ResetGroupOffsets(
            group=state(ctx).group(group, "GROUP"),
            topic=state(ctx).topic(topic),
            target=target,
            partitions=tuple(partition) if partition else None,
            execute=execute,
        ),
    )
    _print_plan(plan, as_json)
    if plan.executed:
        info(f"offsets of group {plan.group} on {plan.topic} set")
        return
    info("dry run: nothing changed (add --execute to apply)")
    if plan.active_members:
        warn(f"group {plan.group} has {plan.active_members} active member(s): --execute refuses")


def _target(
    to_earliest: bool,
    to_latest: bool,
    to_offset: int | None,
    to_time: str | None,
    shift_by: int | None,
) -> "ResetTarget":
    from kafkaredis_cli.domain.groups import ResetKind, ResetTarget

    chosen: list[ResetTarget] = []
    if to_earliest:
        chosen.append(ResetTarget(ResetKind.EARLIEST))
    if to_latest:
        chosen.append(ResetTarget(ResetKind.LATEST))
    if to_offset is not None:
        chosen.append(ResetTarget(ResetKind.OFFSET, to_offset))
    if to_time is not None:
        chosen.append(ResetTarget(ResetKind.TIME, _time_ms(to_time)))
    if shift_by is not None:
        chosen.append(ResetTarget(ResetKind.SHIFT, shift_by))
    if len(chosen) != 1:
        raise UsageError(
            "give exactly one of --to-earliest, --to-latest, --to-offset N, --to-time T, "
            "--shift-by N"
        )
    return chosen[0]


def _time_ms(text: str) -> int:
    from kafkaredis_cli.domain.positions import TIMES, parse_time

    moment = parse_time(text)
    if moment is None:
        raise UsageError(f"--to-time {text!r} is not {TIMES}")
    return moment


def _print_plan(plan: "ResetPlan", as_json: bool) -> None:
    rows = [{"partition": r.partition, "current": r.current, "new": r.new} for r in plan.rows]
    if as_json:
        print_json(
            {
                "group": plan.group,
                "topic": plan.topic,
                "to": plan.target.kind.value,
                "value": plan.target.value,
                "executed": plan.executed,
                "active_members": plan.active_members,
                "partitions": rows,
            }
        )
        return
    from rich.table import Table

    from kafkaredis_cli.cli.render import print_table

    table = Table("topic", "partition", "current", "new", "change")
    for r in plan.rows:
        change = "" if r.new is None or r.current is None else f"{r.new - r.current:+d}"
        table.add_row(
            plan.topic,
            str(r.partition),
            "-" if r.current is None else str(r.current),
            "unchanged" if r.new is None else str(r.new),
            change,
        )
    print_table(table)


from kafkaredis_cli.cli import groups_describe  # noqa: E402, F401  (registers `describe`)
