"""A batch always ends with its summary and its accounting, whatever stops it.

Every line read is delivered, failed, unknown outcome or not sent; the counts add up to
the lines read; the lines after a stopping error are counted "not sent" and are not on
the broker. (A broker killed, Redis killed and a signal mid-batch: test_faults.py, which
asserts the same sum.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.cli_errors import error_line
from tests.conftest import CliResult
from tests.integration.test_bad_input import topic_values

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]


def accounted(result: CliResult) -> dict[str, Any]:
    """The JSON summary, checked to add up."""
    summary: dict[str, Any] = json.loads(result.stdout)
    outcomes = (
        summary["delivered"] + summary["failed"] + summary["unknown_outcome"] + summary["not_sent"]
    )
    assert outcomes == summary["read"], summary
    assert summary["sent"] == summary["read"] - summary["not_sent"], summary
    return summary


def good(i: int) -> bytes:
    return json.dumps({"key": f"k{i}", "value": f"v{i}"}).encode()


# A bad JSON line of each kind, between two good lines before and three after it.
BAD_JSON_LINES = {
    "not JSON": b'{"value": "broken"',
    "not UTF-8": b'{"value": "\xff\xfe"}',
    "a number past the int-string limit": b'{"value": 1' + b"9" * 5000 + b"}",
    "nested too deeply": b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "not an object": b"[1, 2]",
    "a NUL": b"\x00",
    "bad base64 marked": b'{"value": "!!!", "encoding": {"value": "base64"}}',
    "headers not an object": b'{"value": "v", "headers": 7}',
}


@pytest.mark.parametrize("kind", BAD_JSON_LINES, ids=str)
def test_a_bad_line_of_any_kind_stops_the_batch_with_its_accounting(
    cli: Cli, services: Any, make_topic: Callable[..., str], topic: str, kind: str
) -> None:
    make_topic(topic)
    lines = [good(0), good(1), BAD_JSON_LINES[kind], b"", good(3), good(4), good(5)]
    result = cli(
        "produce", "-t", topic, "--input-format", "json", "--json", input=b"\n".join(lines)
    )
    error_line(result, ExitStatus.USAGE, "line 3", "4 line(s) from there not sent")
    summary = accounted(result)
    assert (summary["read"], summary["delivered"], summary["not_sent"]) == (6, 2, 4)
    assert summary["cached"] == summary["verified"] == 2
    assert sorted(topic_values(services.bootstrap, topic)) == [b"v0", b"v1"]


def test_a_bad_hex_line_in_text_input_is_accounted(
    cli: Cli, services: Any, make_topic: Callable[..., str], topic: str
) -> None:
    make_topic(topic)
    result = cli(
        "produce", "-t", topic, "--value-encoding", "hex", "--json",
        input=b"6869\nzz\n6869\n",
    )  # fmt: skip
    error_line(result, ExitStatus.USAGE, "line 2", "2 line(s) from there not sent")
    summary = accounted(result)
    assert (summary["read"], summary["delivered"], summary["not_sent"]) == (3, 1, 2)
    assert topic_values(services.bootstrap, topic) == [b"hi"]


def test_an_oversized_line_among_small_ones_stops_the_batch_with_its_accounting(
    cli: Cli, services: Any, make_topic: Callable[..., str], topic: str
) -> None:
    """The issue's case: a line over message.max.bytes on stdin between small ones."""
    make_topic(topic)
    lines = [b"before-1", b"before-2", b"x" * 1_100_000, b"after-1", b"after-2"]
    result = cli("produce", "-t", topic, "--json", input=b"\n".join(lines) + b"\n")
    error_line(
        result, ExitStatus.KAFKA, "batch stopped at message 3", "message.max.bytes",
        "2 line(s) after it not sent",
    )  # fmt: skip
    summary = accounted(result)
    assert (summary["read"], summary["delivered"], summary["failed"]) == (5, 2, 1)
    assert (summary["not_sent"], summary["cached"], summary["verified"]) == (2, 2, 2)
    assert any("message.max.bytes" in e for e in summary["errors"])
    assert sorted(topic_values(services.bootstrap, topic)) == [b"before-1", b"before-2"]


def test_a_10mb_line_is_refused_with_its_accounting(
    cli: Cli, services: Any, make_topic: Callable[..., str], topic: str
) -> None:
    make_topic(topic)
    result = cli("produce", "-t", topic, "--json", input=b"a\n" + b"y" * 10_000_000 + b"\nb\n")
    error_line(result, ExitStatus.KAFKA, "10000000 bytes", "message.max.bytes")
    summary = accounted(result)
    assert (summary["read"], summary["delivered"], summary["failed"], summary["not_sent"]) == (
        3, 1, 1, 1,
    )  # fmt: skip
    assert topic_values(services.bootstrap, topic) == [b"a"]


def test_a_partition_out_of_range_in_a_batch_is_accounted(
    cli: Cli, services: Any, make_topic: Callable[..., str], topic: str
) -> None:
    make_topic(topic, 2)
    result = cli("produce", "-t", topic, "-p", "5", "--json", input=b"a\nb\nc\n")
    error_line(result, ExitStatus.USAGE, "0..1", "not 5", "2 line(s) after it not sent")
    summary = accounted(result)
    assert (summary["read"], summary["failed"], summary["not_sent"]) == (3, 1, 2)
    assert topic_values(services.bootstrap, topic) == []


def test_the_text_summary_names_the_lines_not_sent(
    cli: Cli, make_topic: Callable[..., str], topic: str
) -> None:
    make_topic(topic)
    result = cli("produce", "-t", topic, "--input-format", "json", input=b'{"value":"a"}\nx\ny\n')
    assert result.exit_code == ExitStatus.USAGE
    assert result.stdout.startswith("sent 1  delivered 1  failed 0  unknown outcome 0  not sent 2")
