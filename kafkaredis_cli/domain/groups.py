"""Consumer groups: what they are, their lag, and offset resets (values, port, commands)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple, Protocol

from kafkaredis_cli.errors import CheckFailed
from kafkaredis_cli.mediator import Command


class GroupBusyError(CheckFailed):
    """Offsets of a group with active members cannot be set (exit status 1)."""


SHARE_UNKNOWN = (
    "a share group: confluent-kafka 2.16's Admin API cannot describe share groups, so its "
    "state, members, topics and offsets (share-partition start offsets) are not shown"
)


class GroupInfo(NamedTuple):
    group: str
    state: str  # Stable, Empty, PreparingRebalance, Dead, ... (unknown for a share group)
    type: str  # classic, consumer (KIP-848), share (KIP-932), or unknown
    members: int
    topics: tuple[str, ...]  # assigned to members, or with committed offsets
    assignor: str = ""  # the partition assignor (classic: the client's; consumer: the broker's)
    note: str = ""  # what could not be found out about the group

    @property
    def protocol(self) -> str:
        """The group protocol its members speak (librdkafka's group.protocol, or share)."""
        return self.type


class MemberInfo(NamedTuple):
    member: str
    client: str
    host: str
    partitions: tuple[tuple[str, int], ...]  # its assignment


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupDetail:
    info: GroupInfo
    members: tuple[MemberInfo, ...]
    configs: Mapping[str, str]  # the group configs of its kind (consumer.*, share.*)


class Watermarks(NamedTuple):
    start: int  # the first offset still in the log
    end: int  # the next offset to be written


class PartitionLag(NamedTuple):
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has no offset for this partition
    end: int
    lag: int  # end - committed; with no offset, what is still in the log (end - start)


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupLag:
    group: str
    state: str
    members: int
    partitions: tuple[PartitionLag, ...]
    type: str = "classic"
    note: str = ""  # what could not be found out (a share group's offsets)

    @property
    def total(self) -> int:
        return sum(p.lag for p in self.partitions)

    def by_topic(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for p in self.partitions:
            totals[p.topic] = totals.get(p.topic, 0) + p.lag
        return totals


class GroupAdmin(Protocol):
    """The port to the cluster's consumer-group administration (adapters/kafka_groups.py)."""

    def list_groups(self) -> list[GroupInfo]: ...

    def describe(self, groups: Sequence[str]) -> list[GroupInfo]:
        """State, members and topics of these groups (unknown ones: state Dead, no members)."""

    def details(self, groups: Sequence[str]) -> list[GroupDetail]:
        """describe() with each group's members and its group configs."""

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        """The group's committed offsets: (topic, partition) -> offset."""

    def partitions(self, topic: str) -> int:
        """Partition count; KafkaError when the topic does not exist."""

    def watermarks(self, topic: str, partitions: Sequence[int]) -> dict[int, Watermarks]: ...

    def offsets_for_time(
        self, topic: str, partitions: Sequence[int], timestamp_ms: int
    ) -> dict[int, int | None]:
        """The first offset at or after the time, per partition (None: nothing that late)."""

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        """Set the group's committed offsets (the group must have no active members)."""

    def close(self) -> None: ...


# -- listing and lag ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ListGroups(Command[list[GroupInfo]]):
    """Every consumer group of the cluster, with state, members and topics."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DescribeGroups(Command[list[GroupDetail]]):
    """These groups in full: kind, state, members and their partitions, group configs."""

    groups: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupsLag(Command[list[GroupLag]]):
    """Committed offset, end offset and lag per partition of these groups (every group when
    none is named), for every topic the group reads or only `topic`."""

    groups: tuple[str, ...] = ()
    topic: str | None = None


# -- resetting ----------------------------------------------------------------------------


class ResetKind(Enum):
    EARLIEST = "earliest"
    LATEST = "latest"
    OFFSET = "offset"
    TIME = "time"
    SHIFT = "shift"


@dataclass(frozen=True, slots=True)
class ResetTarget:
    kind: ResetKind
    value: int = 0  # the offset, the epoch ms, or the shift


class PlannedReset(NamedTuple):
    partition: int
    current: int | None
    new: int | None  # None: left as it is (a shift of a partition with no offset)


@dataclass(frozen=True, kw_only=True, slots=True)
class ResetPlan:
    group: str
    topic: str
    target: ResetTarget
    rows: tuple[PlannedReset, ...]
    active_members: int
    executed: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class ResetGroupOffsets(Command[ResetPlan]):
    """Plan a group's new offsets on a topic; with `execute`, commit them (refused while
    the group has active members)."""

    group: str
    topic: str
    target: ResetTarget
    partitions: tuple[int, ...] | None = None  # None: every partition
    execute: bool = False
