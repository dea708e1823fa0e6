"""Consumer-group handlers: list groups, compute their lag, plan and apply offset resets."""

from __future__ import annotations

from kafkaredis_cli.domain.groups import (
    DescribeGroups,
    GroupAdmin,
    GroupBusyError,
    GroupDetail,
    GroupInfo,
    GroupLag,
    GroupsLag,
    ListGroups,
    PartitionLag,
    PlannedReset,
    ResetGroupOffsets,
    ResetKind,
    ResetPlan,
    ResetTarget,
    Watermarks,
)
from kafkaredis_cli.domain.partitions import check_partition
from kafkaredis_cli.errors import CheckFailed, KafkaError

_GONE = ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC")


class _GroupHandler:
    def __init__(self, admin: GroupAdmin) -> None:
        self._admin = admin


class ListGroupsHandler(_GroupHandler):
    def handle(self, command: ListGroups) -> list[GroupInfo]:
        return self._admin.list_groups()


class DescribeGroupsHandler(_GroupHandler):
    def handle(self, command: DescribeGroups) -> list[GroupDetail]:
        return self._admin.details(command.groups)


class GroupsLagHandler(_GroupHandler):
    def handle(self, command: GroupsLag) -> list[GroupLag]:
        admin = self._admin
        infos = admin.describe(command.groups) if command.groups else admin.list_groups()
        marks: dict[str, dict[int, Watermarks] | None] = {}  # per topic, asked once

        def watermarks(topic: str) -> dict[int, Watermarks] | None:
            if topic not in marks:
                try:
                    count = admin.partitions(topic)
                except KafkaError as exc:
                    if command.topic is not None or exc.code not in _GONE:
                        raise
                    marks[topic] = None  # a deleted topic the group still has offsets on
                else:
                    marks[topic] = admin.watermarks(topic, range(count))
            return marks[topic]

        out: list[GroupLag] = []
        for info in infos:
            if info.type == "share":  # no offsets of its own that the Admin API shows
                out.append(
                    GroupLag(
                        group=info.group,
                        state=info.state,
                        members=info.members,
                        partitions=(),
                        type=info.type,
                        note=info.note,
                    )
                )
                continue
            committed = admin.committed(info.group)
            topics = (command.topic,) if command.topic is not None else info.topics
            rows: list[PartitionLag] = []
            for topic in topics:
                for partition, mark in sorted((watermarks(topic) or {}).items()):
                    offset = committed.get((topic, partition))
                    behind = mark.end - (mark.start if offset is None else offset)
                    rows.append(
                        PartitionLag(info.group, topic, partition, offset, mark.end, max(0, behind))
                    )
            out.append(
                GroupLag(
                    group=info.group,
                    state=info.state,
                    members=info.members,
                    partitions=tuple(rows),
                    type=info.type,
                )
            )
        return out


class ResetGroupOffsetsHandler(_GroupHandler):
    def handle(self, command: ResetGroupOffsets) -> ResetPlan:
        admin = self._admin
        count = admin.partitions(command.topic)
        partitions = sorted(set(command.partitions or range(count)))
        for partition in partitions:
            check_partition(command.topic, partition, count)
        [info] = admin.describe([command.group])
        if info.type == "share":
            raise CheckFailed(
                f"group {command.group!r} is a share group: its offsets cannot be reset "
                "through confluent-kafka 2.16's Admin API"
            )
        committed = admin.committed(command.group)
        current = {p: committed.get((command.topic, p)) for p in partitions}
        new = _new_offsets(admin, command.topic, command.target, current)
        rows = tuple(PlannedReset(p, current[p], new[p]) for p in partitions)
        if command.execute:
            if info.members:
                raise GroupBusyError(
                    f"group {command.group!r} has {info.members} active member(s) "
                    f"(state {info.state}): stop its consumers before a reset"
                )
            changes = {row.partition: row.new for row in rows if row.new is not None}
            if changes:
                admin.commit(command.group, command.topic, changes)
        return ResetPlan(
            group=command.group,
            topic=command.topic,
            target=command.target,
            rows=rows,
            active_members=info.members,
            executed=command.execute,
        )


def _new_offsets(
    admin: GroupAdmin, topic: str, target: ResetTarget, current: dict[int, int | None]
) -> dict[int, int | None]:
    """Each partition's new offset, within what the log holds (start..end)."""
    partitions = list(current)
    marks = admin.watermarks(topic, partitions)
    kind = target.kind
    wanted: dict[int, int | None]
    if kind is ResetKind.EARLIEST:
        wanted = {p: marks[p].start for p in partitions}
    elif kind is ResetKind.LATEST:
        wanted = {p: marks[p].end for p in partitions}
    elif kind is ResetKind.OFFSET:
        wanted = {p: target.value for p in partitions}
    elif kind is ResetKind.TIME:
        found = admin.offsets_for_time(topic, partitions, target.value)
        wanted = {p: marks[p].end if found[p] is None else found[p] for p in partitions}
    else:  # SHIFT: from the committed offset; a partition without one is left alone
        wanted = {p: _shifted(current[p], target.value) for p in partitions}
    return {
        p: None if offset is None else min(max(offset, marks[p].start), marks[p].end)
        for p, offset in wanted.items()
    }


def _shifted(offset: int | None, by: int) -> int | None:
    return None if offset is None else offset + by
