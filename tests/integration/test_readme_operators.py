"""The examples of groups, cache replay, the encodings, --to and the filters in the README
and docs/usage.md run as printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, CliResult, ok

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]
DOCS = ("README.md", "docs/usage.md")
FEATURES = re.compile(r"kafkaredis (groups|cache replay)|--(key|value)-encoding|--to |--filter-")


def readme_examples() -> list[str]:
    """Every command of the sh blocks of the README and docs/usage.md that uses these
    features (continuation lines joined, as a shell reads them)."""
    text = "".join((ROOT / doc).read_text(encoding="utf-8") for doc in DOCS)
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if FEATURES.search(command):
                commands.append(command.strip())
    return commands


def test_the_examples_are_found() -> None:
    examples = readme_examples()
    needed_all = ("groups lag", "groups reset", "cache replay", "--value-encoding hex", "--to now")
    for needed in (*needed_all, "--filter-key"):
        assert any(needed in e for e in examples), needed


def test_readme_examples_run_as_printed(cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    # What the examples assume: a topic `orders` with a message kafkaredis sent (its
    # record in this test's Redis prefix), read by the group `audit`, now idle.
    ok(cli("produce", "order 42", "-t", "orders", "-k", "order-42", "-H", "source=shop"))
    ok(cli("consume", "-t", "orders", "-g", "audit", "--from", "beginning", "-e"))
    bin_dir = str(Path(sys.executable).parent)
    shell_env = {**os.environ, **env, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    for command in readme_examples():
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            capture_output=True,
            text=True,
            env=shell_env,
            cwd=tmp_path,
            timeout=120,
        )
        # A lag probe may find some group over its limit (status 1, named); all else is 0.
        allowed = (0, 1) if "--max-lag" in command else (0,)
        assert done.returncode in allowed, (command, done.returncode, done.stderr)
        if done.returncode == 1:
            assert "over --max-lag" in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stderr, command
