"""The group handlers on an in-memory GroupAdmin: lag arithmetic and reset plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from kafkaredis_cli.domain.groups import (
    GroupBusyError,
    GroupInfo,
    GroupsLag,
    ResetGroupOffsets,
    ResetKind,
    ResetTarget,
    Watermarks,
)
from kafkaredis_cli.errors import KafkaError, UsageError
from kafkaredis_cli.handlers.groups import GroupsLagHandler, ResetGroupOffsetsHandler


@dataclass
class FakeGroupAdmin:
    groups: dict[str, GroupInfo] = field(default_factory=dict)
    offsets: dict[str, dict[tuple[str, int], int]] = field(default_factory=dict)
    logs: dict[str, list[Watermarks]] = field(default_factory=dict)
    times: dict[str, list[int | None]] = field(default_factory=dict)
    commits: list[tuple[str, str, dict[int, int]]] = field(default_factory=list)

    def list_groups(self) -> list[GroupInfo]:
        return [self.groups[g] for g in sorted(self.groups)]

    def describe(self, groups: Sequence[str]) -> list[GroupInfo]:
        return [self.groups.get(g, GroupInfo(g, "Dead", "unknown", 0, ())) for g in groups]

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        return dict(self.offsets.get(group, {}))

    def partitions(self, topic: str) -> int:
        if topic not in self.logs:
            raise KafkaError(f"topic {topic!r} does not exist", code="UNKNOWN_TOPIC_OR_PART")
        return len(self.logs[topic])

    def watermarks(self, topic: str, partitions: Sequence[int]) -> dict[int, Watermarks]:
        return {p: self.logs[topic][p] for p in partitions}

    def offsets_for_time(
        self, topic: str, partitions: Sequence[int], timestamp_ms: int
    ) -> dict[int, int | None]:
        return {p: self.times[topic][p] for p in partitions}

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        self.commits.append((group, topic, dict(offsets)))

    def close(self) -> None:
        pass


def admin() -> FakeGroupAdmin:
    return FakeGroupAdmin(
        groups={"g": GroupInfo("g", "Empty", "classic", 0, ("t", "gone"))},
        offsets={"g": {("t", 0): 5, ("t", 2): 12, ("gone", 0): 3}},
        logs={"t": [Watermarks(0, 10), Watermarks(4, 8), Watermarks(0, 10)]},
        times={"t": [7, None, 2]},
    )


def test_lag_without_an_offset_is_what_the_log_still_holds_never_negative() -> None:
    [lag] = GroupsLagHandler(admin()).handle(GroupsLag())
    rows = [(p.topic, p.partition, p.committed, p.end, p.lag) for p in lag.partitions]
    # "gone" has offsets but no longer exists: left out, not an error.
    assert rows == [("t", 0, 5, 10, 5), ("t", 1, None, 8, 4), ("t", 2, 12, 10, 0)]
    assert lag.total == 9 and lag.by_topic() == {"t": 9}


def test_lag_of_a_named_topic_that_does_not_exist_is_an_error() -> None:
    with pytest.raises(KafkaError, match="does not exist"):
        GroupsLagHandler(admin()).handle(GroupsLag(groups=("g",), topic="gone"))


def test_lag_of_an_unknown_group_on_a_topic_counts_the_whole_log() -> None:
    [lag] = GroupsLagHandler(admin()).handle(GroupsLag(groups=("new",), topic="t"))
    assert lag.state == "Dead" and lag.total == 10 + 4 + 10


def plan(
    fake: FakeGroupAdmin, kind: ResetKind, value: int = 0, execute: bool = False
) -> list[tuple[int, int | None, int | None]]:
    result = ResetGroupOffsetsHandler(fake).handle(
        ResetGroupOffsets(group="g", topic="t", target=ResetTarget(kind, value), execute=execute)
    )
    return [(r.partition, r.current, r.new) for r in result.rows]


def test_reset_plans_stay_within_the_log_and_a_dry_run_commits_nothing() -> None:
    fake = admin()
    assert plan(fake, ResetKind.EARLIEST) == [(0, 5, 0), (1, None, 4), (2, 12, 0)]
    assert plan(fake, ResetKind.LATEST) == [(0, 5, 10), (1, None, 8), (2, 12, 10)]
    assert plan(fake, ResetKind.OFFSET, 2) == [(0, 5, 2), (1, None, 4), (2, 12, 2)]
    assert plan(fake, ResetKind.SHIFT, -7) == [(0, 5, 0), (1, None, None), (2, 12, 5)]
    assert plan(fake, ResetKind.TIME, 123) == [(0, 5, 7), (1, None, 8), (2, 12, 2)]
    assert fake.commits == []


def test_reset_execute_commits_the_plan_but_not_partitions_left_alone() -> None:
    fake = admin()
    plan(fake, ResetKind.SHIFT, 1, execute=True)
    assert fake.commits == [("g", "t", {0: 6, 2: 10})]


def test_reset_execute_refuses_a_group_with_members() -> None:
    fake = admin()
    fake.groups["g"] = GroupInfo("g", "Stable", "classic", 2, ("t",))
    assert plan(fake, ResetKind.EARLIEST)[0] == (0, 5, 0)  # the plan is still shown
    with pytest.raises(GroupBusyError, match="2 active member"):
        plan(fake, ResetKind.EARLIEST, execute=True)
    assert fake.commits == []


def test_reset_of_a_partition_out_of_range_is_bad_input() -> None:
    command = ResetGroupOffsets(
        group="g", topic="t", target=ResetTarget(ResetKind.EARLIEST), partitions=(3,)
    )
    with pytest.raises(UsageError, match=r"partitions 0\.\.2, not 3"):
        ResetGroupOffsetsHandler(admin()).handle(command)
