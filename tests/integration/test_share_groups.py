"""Share groups (KIP-932) on the real Kafka 4.4.0 stack: real `consume --share-group`
processes sharing one partition's records, a member SIGKILLed while it holds records,
a handling failure that releases its records, and the Redis records marked consumed
exactly for the records accepted."""

from __future__ import annotations

import fcntl
import json
import re
import signal
import subprocess
import termios
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from tests.conftest import Services, free_port, kafkaredis_process, wait_for
from tests.members import Member
from tests.topics import create_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RECORDS = 3000
QUIET_S = 15  # --timeout of members: longer than a join (5 s heartbeats on Kafka's defaults)
RAW_LOG = re.compile(r"^%\d+\|", re.M)


def filled(services: Services, env: dict[str, str], tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A one-partition topic holding RECORDS kafkaredis messages (their records in
    Redis), and the environment of `consume` processes on it."""
    topic = create_topic(services.bootstrap, f"share-{uuid.uuid4().hex[:8]}", 1)
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"value-{i:05d}\n" for i in range(RECORDS)))
    run_env = {**env, "KAFKAREDIS_KAFKA__TOPICS": topic}
    # Batches of 20 (a share fetch acquires whole batches): members get a few each.
    command = ["produce", "-l", str(lines), "--no-verify", "-X", "batch.num.messages=20"]
    produce = kafkaredis_process(command, run_env)
    _out, err = produce.communicate(timeout=120)
    assert produce.returncode == 0, err
    return topic, run_env


def share_member(env: dict[str, str], group: str, *args: str, read_stdout: bool = True) -> Member:
    command = ["--log-level", "INFO", "consume", "--share-group", group, "-f", "json", *args]
    member = Member(kafkaredis_process(command, env))
    member.drain("stderr")
    if read_stdout:
        member.drain("stdout")
    return member


def values(lines: list[dict[str, Any]]) -> list[str]:
    return [line["value"] for line in lines if line["value"].startswith("value-")]


def set_lock(bootstrap: str, group: str, ms: int) -> float:
    """A short record lock for the group (the stack allows 1 s and up; a broker with
    Kafka's defaults 15 s and up): the lock set, in seconds."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for wanted in (ms, 15_000):
        entry = ConfigEntry(
            "share.record.lock.duration.ms",
            str(wanted),
            incremental_operation=AlterConfigOpType.SET,
        )
        resource = ConfigResource(ResourceType.GROUP, group, incremental_configs=[entry])
        try:
            for future in admin.incremental_alter_configs([resource]).values():
                future.result(timeout=10)
        except KafkaException:
            continue  # out of the broker's range: the next
        return wanted / 1000
    raise AssertionError("no record lock the broker takes")


def consumed_ids(client: Any, prefix: str) -> dict[str, str]:
    """Message id -> the status word of its Redis record."""
    out = {}
    for key in client.scan_iter(f"{prefix}:msg:*", count=1000):
        status = client.get(key).split(b" ", 1)[0].decode()
        out[key.decode().rsplit(":", 1)[1]] = status
    return out


def summary(err: str) -> dict[str, int]:
    found = re.search(
        r"consumed (\d+) message\(s\) from share group \S+: (\d+) accepted, (\d+) released"
        r".*?, (\d+) redelivered",
        err,
    )
    assert found, err
    return dict(
        zip(
            ("consumed", "accepted", "released", "redelivered"),
            map(int, found.groups()),
            strict=True,
        )
    )


def test_three_members_of_a_share_group_share_one_partition(
    services: Services, env: dict[str, str], tmp_path: Path, members: list[Member], prefix: str
) -> None:
    topic, run_env = filled(services, env, tmp_path)
    group = f"sg-{uuid.uuid4().hex[:8]}"
    lock_s = set_lock(services.bootstrap, group, 2000)  # what a member leaving holds: back soon
    # Small acquisitions (-X max.poll.records), and stdout read only once every member
    # has filled its pipe (each blocks there, holding at most 50 records): each member
    # reads some of the partition's records, whoever joins first.
    for _ in range(3):
        members.append(
            share_member(
                run_env,
                group,
                "--timeout",
                f"{lock_s + 8:g}",
                "-X",
                "max.poll.records=50",
                read_stdout=False,
            )
        )
    wait_for(
        lambda: all(_pipe_bytes(m.proc) >= 60_000 for m in members),
        90,
        0.2,
        "every member's full pipe",
    )
    for member in members:
        member.drain("stdout")
    results = [member.finish(timeout=120) for member in members]
    seen: list[str] = []
    for status, lines, err in results:
        assert status == 0, err
        assert not RAW_LOG.search(err), err  # librdkafka's Preview warning: never raw
        assert "Preview" not in err
        assert err.count("share consumer is in preview") == 1, err
        got = values(lines)
        assert got, f"a member read nothing: {[len(values(r[1])) for r in results]}"
        assert summary(err)["accepted"] == len(got)
        seen += got
    assert sorted(seen) == [f"value-{i:05d}" for i in range(RECORDS)]  # all, each once
    client = redis.Redis.from_url(services.redis_url)
    assert set(consumed_ids(client, prefix).values()) == {"consumed"}
    assert len(consumed_ids(client, prefix)) == RECORDS
    # `groups` lists it as a share group.
    listed = kafkaredis_process(["groups", "--json"], run_env)
    out, err = listed.communicate(timeout=60)
    assert listed.returncode == 0, err
    [mine] = [g for g in json.loads(out) if g["group"] == group]
    assert (mine["type"], mine["protocol"]) == ("share", "share")
    described = kafkaredis_process(["groups", "describe", group, "--json"], run_env)
    out, err = described.communicate(timeout=60)
    assert described.returncode == 0, err
    [detail] = json.loads(out)
    assert detail["type"] == "share" and "cannot describe share groups" in detail["note"]
    assert detail["configs"]["share.record.lock.duration.ms"] == f"{lock_s * 1000:.0f}"
    assert detail["configs"]["share.auto.offset.reset"] == "earliest"  # set by the member
    del topic


def test_a_count_accepts_that_many_and_redis_marks_exactly_those(
    services: Services, env: dict[str, str], tmp_path: Path, members: list[Member], prefix: str
) -> None:
    _topic, run_env = filled(services, env, tmp_path)
    group = f"sg-{uuid.uuid4().hex[:8]}"
    first = share_member(run_env, group, "--count", "120")
    members.append(first)
    status, lines, err = first.finish(timeout=60)
    assert status == 0, err
    assert summary(err)["accepted"] == 120 == len(lines)
    client = redis.Redis.from_url(services.redis_url)
    statuses = consumed_ids(client, prefix)
    accepted = {line["id"] for line in lines}
    assert {i for i, s in statuses.items() if s == "consumed"} == accepted
    # The rest is still there for the group: a second member reads exactly the rest.
    second = share_member(run_env, group, "--timeout", str(QUIET_S))
    members.append(second)
    status, rest, err = second.finish(timeout=90)
    assert status == 0, err
    assert sorted(values(lines) + values(rest)) == [f"value-{i:05d}" for i in range(RECORDS)]


def test_a_handling_failure_releases_the_records_to_another_member(
    services: Services, env: dict[str, str], tmp_path: Path, members: list[Member], prefix: str
) -> None:
    _topic, run_env = filled(services, env, tmp_path)
    group = f"sg-{uuid.uuid4().hex[:8]}"
    dead_redis = {**run_env, "KAFKAREDIS_REDIS__URL": f"redis://127.0.0.1:{free_port()}/0"}
    failing = share_member(dead_redis, group, "--timeout", "60")
    members.append(failing)
    status, _lines, err = failing.finish(timeout=90)
    assert status == 5, err  # Redis unreachable
    assert re.search(r"\d+ record\(s\) released to share group", err), err
    released = summary(err)["released"]
    assert released > 0 and summary(err)["accepted"] == 0
    other = share_member(run_env, group, "--timeout", str(QUIET_S))
    members.append(other)
    status, lines, err = other.finish(timeout=90)
    assert status == 0, err
    assert sorted(values(lines)) == [f"value-{i:05d}" for i in range(RECORDS)]
    assert summary(err)["redelivered"] == released  # delivered a second time, here
    client = redis.Redis.from_url(services.redis_url)
    assert set(consumed_ids(client, prefix).values()) == {"consumed"}


def _pipe_bytes(proc: subprocess.Popen[bytes]) -> int:
    buffered = bytearray(4)
    assert proc.stdout is not None
    fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, buffered)
    return int.from_bytes(buffered, "little")


def test_a_killed_member_loses_nothing(
    services: Services, env: dict[str, str], tmp_path: Path, members: list[Member]
) -> None:
    _topic, run_env = filled(services, env, tmp_path)
    group = f"sg-{uuid.uuid4().hex[:8]}"
    lock_s = set_lock(services.bootstrap, group, 2000)
    # Its stdout unread: it blocks on the full pipe in the middle of its first poll's
    # records, all acquired and none acknowledged; then it is killed.
    holder = share_member(run_env, group, read_stdout=False)
    members.append(holder)
    wait_for(lambda: _pipe_bytes(holder.proc) >= 60_000, 60, 0.1, "the holder's full pipe")
    holder.proc.send_signal(signal.SIGKILL)
    holder.proc.wait(timeout=10)
    assert holder.proc.stdout is not None
    printed = holder.proc.stdout.read().decode().splitlines()
    assert printed  # it showed records it never acknowledged
    others = [share_member(run_env, group, "--timeout", f"{lock_s + QUIET_S:g}") for _ in range(2)]
    members.extend(others)
    seen: list[str] = []
    redelivered = 0
    for member in others:
        status, lines, err = member.finish(timeout=120)
        assert status == 0, err
        seen += values(lines)
        redelivered += summary(err)["redelivered"]
    assert sorted(seen) == [f"value-{i:05d}" for i in range(RECORDS)]  # none lost
    held = {json.loads(line)["value"] for line in printed}
    assert redelivered >= len(held)  # what it held came back, counted as redeliveries


def test_share_group_options_that_have_no_meaning_are_usage_errors(
    env: dict[str, str],
) -> None:
    for extra in (["--to", "5"], ["-e"], ["--partition", "0"], ["--from", "-5"], ["-g", "x"]):
        proc = kafkaredis_process(["consume", "--share-group", "g", *extra], env)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (extra, err)
        assert "--share-group" in err.decode()


def test_from_end_starts_a_new_share_group_at_the_latest(
    services: Services, env: dict[str, str], tmp_path: Path, members: list[Member]
) -> None:
    topic, run_env = filled(services, env, tmp_path)
    group = f"sg-{uuid.uuid4().hex[:8]}"
    member = share_member(run_env, group, "--from", "end", "--count", "1", "--timeout", "60")
    members.append(member)
    producer = Producer({"bootstrap.servers": services.bootstrap})

    def got_the_new_one() -> bool:  # produced until the member (once in) reads one
        producer.produce(topic, b"late")
        producer.flush(10)
        return member.proc.poll() is not None

    wait_for(got_the_new_one, 60, 0.5, "the member to read a new record")
    status, lines, err = member.finish(timeout=30)
    assert status == 0, err
    assert [line["value"] for line in lines] == ["late"]
    assert "is new: it starts at the latest record" in err
    described = kafkaredis_process(["groups", "describe", group, "--json"], run_env)
    out, _err = described.communicate(timeout=60)
    assert json.loads(out)[0]["configs"]["share.auto.offset.reset"] == "latest"


@pytest.mark.parametrize(("signum", "count", "status"), [
    (signal.SIGINT, [], 0),
    (signal.SIGINT, ["--count", "100000"], 130),
    (signal.SIGTERM, ["--count", "100000"], 143),
])  # fmt: skip
def test_a_signal_ends_a_share_member_with_its_summary(
    services: Services,
    env: dict[str, str],
    tmp_path: Path,
    members: list[Member],
    signum: signal.Signals,
    count: list[str],
    status: int,
) -> None:
    _topic, run_env = filled(services, env, tmp_path)
    member = share_member(run_env, f"sg-{uuid.uuid4().hex[:8]}", *count)
    members.append(member)
    wait_for(lambda: b"".join(member.out).count(b"\n") >= RECORDS, 90, 0.2, "every record")
    member.proc.send_signal(signum)
    got, lines, err = member.finish(timeout=60)
    assert got == status, err
    assert summary(err)["accepted"] == len(values(lines)) == RECORDS
