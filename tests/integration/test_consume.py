"""consume against the real broker and redis-server: starts, counts, groups, formats."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from tests.conftest import CliResult, Services, kafkaredis_process, ok, wait_for

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]


def produce_lines(cli: Cli, lines: list[str], *args: str) -> None:
    summary = json.loads(
        ok(cli("produce", "--file", "-", "--json", *args, input="\n".join(lines) + "\n")).stdout
    )
    assert summary["delivered"] == len(lines)


def consumed(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = ok(cli("consume", "-f", "json", *args))
    return [json.loads(line) for line in result.stdout.splitlines()]


def values(records: list[dict[str, Any]]) -> list[str]:
    return [r["value"] for r in records]


def test_from_beginning_with_count(cli: Cli, topic: str) -> None:
    produce_lines(cli, [f"m{i}" for i in range(10)])
    first = consumed(cli, "--from", "beginning", "--count", "3", "--no-group")
    assert values(first) == ["m0", "m1", "m2"]
    assert [r["offset"] for r in first] == [0, 1, 2]
    assert all(r["topic"] == topic and r["partition"] == 0 for r in first)


def test_last_n_of_each_partition(cli: Cli, topic: str, make_topic: Callable[..., str]) -> None:
    make_topic(topic, 3)
    for partition in range(3):
        lines = [f"p{partition}-{i}" for i in range(5)]
        produce_lines(cli, lines, "-p", str(partition), "--no-verify")
    got = consumed(cli, "--from", "-2", "-e", "--no-group")
    assert sorted(values(got)) == sorted(f"p{p}-{i}" for p in range(3) for i in (3, 4))
    more_than_there_is = consumed(cli, "--from", "-50", "-e", "--no-group", "-p", "1")
    assert values(more_than_there_is) == [f"p1-{i}" for i in range(5)]


def test_from_offset_on_one_partition_raw(cli: Cli, topic: str) -> None:
    produce_lines(cli, ["a", "b", "c", "d"])
    result = ok(cli("consume", "--from", "2", "-p", "0", "--count", "1", "-f", "raw", "--no-group"))
    assert result.stdout == "c\n"


def test_from_a_timestamp(cli: Cli, topic: str) -> None:
    produce_lines(cli, ["early-1", "early-2"])
    everything = consumed(cli, "--from", "beginning", "-e", "--no-group")
    cut = everything[-1]["timestamp"] + 1
    # Later messages get a later (or equal) broker timestamp than `cut - 1`; wait for
    # the clock to pass `cut` so the next ones are stamped at or after it.
    while datetime.now(tz=UTC).timestamp() * 1000 < cut:
        pass
    produce_lines(cli, ["late-1", "late-2"])
    assert values(consumed(cli, "--from", f"@{cut}", "-e", "--no-group")) == ["late-1", "late-2"]
    iso = datetime.fromtimestamp(cut / 1000, tz=UTC).isoformat(timespec="milliseconds")
    assert values(consumed(cli, "--from", iso, "-e", "--no-group")) == ["late-1", "late-2"]
    future = consumed(cli, "--from", "@99999999999999", "-e", "--no-group")
    assert future == []


def test_exit_at_end_on_an_empty_topic_in_a_group_and_without(
    cli: Cli, topic: str, make_topic: Callable[..., str]
) -> None:
    make_topic(topic, 3)
    for args in (("--no-group",), ("--group", "empty-g"), ("--group", "empty-g", "--from", "end")):
        result = ok(cli("consume", "-e", *args))
        assert result.stdout == ""
        assert "consumed 0 message(s)" in result.stderr


def test_exit_at_end_in_a_group_reads_every_partition_to_its_end(
    cli: Cli, topic: str, make_topic: Callable[..., str]
) -> None:
    make_topic(topic, 3)
    produce_lines(cli, [f"k{i}:v{i}" for i in range(30)], "-K", ":")
    got = consumed(cli, "--group", "whole", "--from", "beginning", "-e")
    assert sorted(values(got)) == sorted(f"v{i}" for i in range(30))
    assert ok(cli("consume", "--group", "whole", "-e")).stdout == ""  # all committed


def test_a_group_consumes_half_stops_restarts_and_gets_the_rest(
    cli: Cli, topic: str, make_topic: Callable[..., str]
) -> None:
    make_topic(topic, 3)
    n = 40
    produce_lines(cli, [f"key{i % 11}:value {i}" for i in range(n)], "-K", ":")
    first = consumed(cli, "--group", "halves", "--count", str(n // 2))
    assert len(first) == n // 2
    second = consumed(cli, "--group", "halves", "-e")
    seen_first = {(r["partition"], r["offset"]) for r in first}
    seen_second = {(r["partition"], r["offset"]) for r in second}
    assert not seen_first & seen_second, "repeated after the restart"
    assert len(seen_first | seen_second) == n, "skipped after the restart"
    assert sorted(values(first + second)) == sorted(f"value {i}" for i in range(n))
    # Per partition, the second run starts right where the first stopped.
    for partition in range(3):
        a = sorted(o for p, o in seen_first if p == partition)
        b = sorted(o for p, o in seen_second if p == partition)
        assert a + b == list(range(len(a) + len(b)))


def test_timeout_ends_a_quiet_follow(cli: Cli, topic: str) -> None:
    produce_lines(cli, ["only"])
    result = ok(cli("consume", "--group", "quiet", "--timeout", "0.5"))
    assert result.stdout.splitlines()[0].endswith("only")
    short = cli("consume", "--group", "quiet2", "--count", "3", "--timeout", "0.5")
    assert short.exit_code == 1
    assert "timed out after 0.5s with 1 of 3 messages" in short.stderr


def test_consume_updates_the_redis_records(cli: Cli, topic: str, prefix: str) -> None:
    produce_lines(cli, ["a", "b"], "--no-verify")
    before = json.loads(ok(cli("cache", "list", "--pattern", "msg:*", "--json")).stdout)
    assert len(before) == 2 and {e["status"] for e in before} == {"delivered"}
    result = ok(cli("consume", "--from", "beginning", "-e", "--no-group"))
    assert "consumed 2 message(s), 2 Redis record(s) updated" in result.stderr
    for entry in before:
        shown = json.loads(ok(cli("cache", "get", entry["key"], "--json")).stdout)
        assert shown["ttl_s"] > 0  # the update kept the TTL
        record = shown["record"]
        assert record["status"] == "consumed"
        assert record["consumed_at"] >= record["delivered_at"] >= record["sent_at"]
        assert record["latency_ms"] >= 0
    untouched = ok(cli("consume", "--from", "beginning", "-e", "--no-group", "--no-cache"))
    assert "0 Redis record(s) updated" in untouched.stderr


def test_json_round_trip_consume_then_produce_reproduces_keys_values_headers(
    cli: Cli, topic: str
) -> None:
    binary = bytes(range(256))
    lines = [
        json.dumps(
            {
                "key": base64.b64encode(b"\xfe\xff").decode(),
                "value": base64.b64encode(binary).decode(),
                "encoding": {"key": "base64", "value": "base64"},
                "headers": [
                    {
                        "name": "bin",
                        "value": base64.b64encode(b"\x00\x80").decode(),
                        "encoding": "base64",
                    },
                    {"name": "text", "value": "héllo"},
                    {"name": "none", "value": None},
                ],
            }
        ),
        json.dumps({"key": None, "value": "plain ✓", "headers": []}),
        json.dumps(
            {
                "key": "k",
                "value": "",
                "headers": [{"name": "dup", "value": "1"}, {"name": "dup", "value": "2"}],
            }
        ),
    ]
    produce_lines(cli, lines, "--input-format", "json")
    dump = ok(cli("consume", "--from", "beginning", "-e", "-f", "json", "--no-group")).stdout
    copy_topic = f"{topic}-copy"
    copied = json.loads(
        ok(
            cli(
                "produce",
                "--file",
                "-",
                "--input-format",
                "json",
                "-t",
                copy_topic,
                "--json",
                input=dump,
            )
        ).stdout
    )
    assert copied["delivered"] == copied["verified"] == 3
    again = consumed(cli, "-t", copy_topic, "--from", "beginning", "-e", "--no-group")
    original = [json.loads(line) for line in dump.splitlines()]

    def essence(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["key"], r["value"], r.get("encoding"), r["headers"])

    assert [essence(r) for r in again] == [essence(r) for r in original]
    assert base64.b64decode(original[0]["value"]) == binary
    assert original[0]["encoding"] == {"key": "base64", "value": "base64"}
    assert original[0]["headers"][0] == {"name": "bin", "value": "AIA=", "encoding": "base64"}
    assert original[0]["headers"][2] == {"name": "none", "value": None}
    assert original[1]["key"] is None and original[1]["value"] == "plain ✓"
    assert original[2]["value"] == ""
    # Copies are messages of their own: new ids.
    assert {r["id"] for r in again}.isdisjoint({r["id"] for r in original})


def test_unknown_topic_is_named(cli: Cli, topic: str) -> None:
    result = cli("consume", "-t", f"{topic}-absent", "-e", "--no-group")
    assert result.exit_code == 4
    assert f"topic '{topic}-absent' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_exit_at_end_waits_while_other_members_of_the_group_hold_every_partition(
    cli: Cli, env: dict[str, str], services: Services, topic: str
) -> None:
    """A second member that the group gives nothing to read waits for an assignment
    (bounded by --timeout): it is not at the end of partitions it never had."""
    produce_lines(cli, ["held"])
    group = f"busy-{topic}"
    # Static members, so the range assignor orders them by instance id: "a" gets the one
    # partition, "b" (the member under test) gets nothing.
    holder = kafkaredis_process(
        [
            *("-X", "group.instance.id=a", "-X", "heartbeat.interval.ms=300"),
            *("consume", "-g", group, "--timeout", "60", "-f", "raw"),
        ],
        env,
    )
    admin = AdminClient({"bootstrap.servers": services.bootstrap})

    def holder_has_the_partition() -> bool:
        described = admin.describe_consumer_groups([group])[group].result(timeout=5)
        return any(m.assignment.topic_partitions for m in described.members)

    try:
        wait_for(holder_has_the_partition, 30, what="the first member to get the partition")
        started = time.monotonic()
        result = ok(
            cli("-X", "group.instance.id=b", "consume", "-g", group, "-e", "--timeout", "4")
        )
        assert time.monotonic() - started >= 4  # ended by --timeout, not "at the end"
        assert "gave this consumer no partitions" in result.stderr
        assert "waiting for an assignment" in result.stderr
        assert "consumed 0 message(s)" in result.stderr
    finally:
        holder.terminate()
        out, err = holder.communicate(timeout=30)
    assert out == b"held\n", err
