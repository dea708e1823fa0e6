"""One-shot commands load only what they use (issue 16): `produce MSG` and `consume`
print their lines without loading rich, and the lines read as they did with it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('RICH' if 'rich' in sys.modules else 'NO RICH',"
    " file=sys.stderr))\n"
    "sys.argv = ['kafkaredis', *sys.argv[1:]]\n"
    "from kafkaredis_cli.cli.app import main\n"
    "main()\n"
)


def probe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_one_message_is_printed_without_loading_rich(env: dict[str, str], topic: str) -> None:
    result = probe(env, "produce", "--topic", topic, "hello")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("NO RICH"), result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"delivered  {topic} partition 0 offset 0"
    assert [line[:11] for line in lines] == [
        "delivered  ",
        "id         ",
        "sent       ",
        "cached     ",
        "verified   ",
    ]
    assert lines[4].startswith("verified   read back in ")


def test_consume_prints_its_summary_without_loading_rich(env: dict[str, str], topic: str) -> None:
    assert probe(env, "produce", "--topic", topic, "--no-verify", "one").returncode == 0
    result = probe(env, "consume", "--topic", topic, "--from", "beginning", "-e", "-f", "raw")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\n"
    summary, loaded = result.stderr.strip().splitlines()[-2:]
    assert loaded == "NO RICH", result.stderr
    assert summary.startswith("consumed 1 message(s), 1 Redis record(s) updated"), summary
