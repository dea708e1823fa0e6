"""`kafkaredis timer` option checks: bad options exit 2 with one line, before any connection."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kafkaredis_cli.cli.app import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "0"], "--interval must be more than 0"),
        (["--interval", "-1"], "--interval must be more than 0"),
        (["--count", "0"], "--count must be at least 1"),
        (["--timeout", "0"], "--timeout must be more than 0"),
        (["--max-loss", "lots"], "--max-loss 'lots' is not a count"),
        (["--max-loss", "2.5"], "a fraction is at most 1"),
        (["--topic", "no spaces"], "--topic 'no spaces' is not a valid Kafka topic name"),
        (["--metrics-host", "0.0.0.0"], "--metrics-host needs --metrics-port"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, message):
    # an unreachable broker: were it contacted, the exit status would not be 2
    result = CliRunner().invoke(app, ["-b", "127.0.0.1:1", "timer", *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kafkaredis: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_help_lists_the_options():
    result = CliRunner().invoke(app, ["timer", "--help"])
    assert result.exit_code == 0
    for option in ("--interval", "--count", "--topic", "--max-loss", "--timeout", "--json"):
        assert option in result.stdout
