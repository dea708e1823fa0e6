"""Cache commands (cache get/list, inspect-cache) never load confluent-kafka."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

from tests.conftest import CliResult, ok

Cli = Callable[..., CliResult]


def test_cache_commands_never_load_confluent_kafka(cli: Cli, env: dict[str, str]) -> None:
    produced = json.loads(ok(cli("produce", "hello", "--json")).stdout)
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('LOADED' if 'confluent_kafka' in sys.modules"
        " else 'NOT LOADED', file=sys.stderr))\n"
        "sys.argv = ['kafkaredis', *sys.argv[1:]]\n"
        "from kafkaredis_cli.cli.app import main\n"
        "main()\n"
    )
    for args in (["cache", "get", produced["id"]], ["cache", "list"], ["inspect-cache"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip().endswith("NOT LOADED"), (args, result.stderr)
    assert (
        produced["id"]
        in subprocess.run(
            [sys.executable, "-c", probe, "cache", "get", produced["id"]],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        ).stdout
    )
