"""The KIP-848 consumer group protocol (`--group-protocol consumer`, or -X
group.protocol=consumer) end to end on the real Kafka 4.4.0 stack: three real `consume`
members split six partitions, commit, and a later member resumes from the commits."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Services, kafkaredis_process, wait_for
from tests.integration.test_consume_groups import (
    MESSAGES,
    PARTITIONS,
    committed_offsets,
    filled_topic,
    group_members,
    produce,
)
from tests.members import Member

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_consumer_protocol_members_split_six_partitions_and_resume_from_commits(
    services: Services, env: dict[str, str], members: list[Member]
) -> None:
    topic, group, admin, run_env = filled_topic(services.bootstrap, env)
    command = [
        *("--log-level", "INFO", "consume", "-g", group, "-f", "json", "-e"),
        *("--group-protocol", "consumer"),
    ]
    # stdout is read once all three are in the group: the first cannot read it all alone.
    for _ in range(3):
        member = Member(kafkaredis_process(command, run_env))
        member.drain("stderr")
        members.append(member)
    wait_for(
        lambda: len(group_members(admin, group)) == 3, 60, 0.2, "all three members in the group"
    )
    for member in members:
        member.drain("stdout")
    seen: list[tuple[int, int]] = []
    for member in members:
        status, lines, err = member.finish(timeout=180)
        assert status == 0, err
        assert "assigned this consumer" in err, err  # each got partitions of its own
        seen += [(r["partition"], r["offset"]) for r in lines]
    assert len(set(seen)) == MESSAGES  # together all of them
    per_partition = MESSAGES // PARTITIONS
    assert committed_offsets(services.bootstrap, group, topic) == dict.fromkeys(
        range(PARTITIONS), per_partition
    )
    listed = kafkaredis_process(["groups", "--json"], run_env)
    out, err = listed.communicate(timeout=60)
    assert listed.returncode == 0, err
    [mine] = [g for g in json.loads(out) if g["group"] == group]
    assert (mine["type"], mine["protocol"]) == ("consumer", "consumer")
    assert mine["assignor"]  # the broker's (uniform by default)
    described = kafkaredis_process(["groups", "describe", group, "--json"], run_env)
    out, err = described.communicate(timeout=60)
    assert described.returncode == 0, err
    [detail] = json.loads(out)
    assert detail["type"] == "consumer" and "consumer.session.timeout.ms" in detail["configs"]
    # A later member (-X this time) resumes from the commits: only what came since.
    produce(services.bootstrap, topic, 600)
    later = Member(
        kafkaredis_process(
            ["-X", "group.protocol=consumer", "consume", "-g", group, "-f", "json", "-e"],
            run_env,
        )
    )
    members.append(later)
    later.drain("stderr")
    later.drain("stdout")
    status, lines, err = later.finish(timeout=120)
    assert status == 0, err
    assert len(lines) == 600
    assert all(r["offset"] >= per_partition for r in lines)
    # --from beginning does not rewind a group with commits either.
    again = Member(
        kafkaredis_process(
            [*command[2:], "--from", "beginning", "--timeout", "3"],
            run_env,
        )
    )
    members.append(again)
    again.drain("stderr")
    again.drain("stdout")
    status, lines, err = again.finish(timeout=120)
    assert status == 0, err
    assert lines == []


def test_group_protocol_flag_and_x_must_agree(env: dict[str, str]) -> None:
    proc = kafkaredis_process(
        ["-X", "group.protocol=classic", "consume", "--group-protocol", "consumer"], env
    )
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "contradict" in err.decode()
