"""kcat users' spellings: consume --json is --format json, timer -c is --count; options
that contradict each other are usage errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.conftest import CliResult, ok

Cli = Callable[..., CliResult]


def test_consume_json_is_format_json(cli: Cli) -> None:
    ok(cli("produce", "hello", "-k", "k1"))
    args = ("consume", "--from", "beginning", "-e", "--no-group")
    as_json = ok(cli(*args, "--json")).stdout
    as_format = ok(cli(*args, "--format", "json")).stdout
    assert [json.loads(line)["value"] for line in as_json.splitlines()] == ["hello"]
    assert as_json == as_format


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["consume", "--group", "g", "--no-group"], "--group and --no-group"),
        (["consume", "--json", "--format", "raw"], "--json and --format raw"),
    ],
)
def test_contradictory_options_are_usage_errors(cli: Cli, args: list[str], needle: str) -> None:
    result = cli(*args)
    assert result.exit_code == ExitStatus.USAGE, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_timer_count_is_dash_c(cli: Cli) -> None:
    result = ok(cli("timer", "-c", "2", "--interval", "0.1", "--json"))
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["sent"] == 2
