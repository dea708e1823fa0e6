"""A one-shot `produce MSG` loads only what it uses (issue 16): no rich to print its
five lines, which read as they did when rich printed them."""

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


def test_one_message_is_printed_without_loading_rich(env: dict[str, str], topic: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "produce", "--topic", topic, "hello"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
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
