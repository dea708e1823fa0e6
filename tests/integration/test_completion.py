"""Shell completion: the scripts for bash, zsh and fish, and topic names from the broker,
through the environment protocol a shell uses (a real `kafkaredis` process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, Services, ok
from tests.topics import create_topic

# The console script: a shell completes the program by its name, `kafkaredis`.
KAFKAREDIS = str(Path(sys.executable).parent / "kafkaredis")


def complete(env: dict[str, str], **protocol: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KAFKAREDIS],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env, **protocol},
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_for_each_shell(shell: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [KAFKAREDIS, "--show-completion", shell],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert f"_KAFKAREDIS_COMPLETE=complete_{shell}" in result.stdout


@pytest.fixture
def two_topics(services: Services) -> tuple[str, str]:
    stem = f"comp-{uuid.uuid4().hex[:8]}"
    return create_topic(services.bootstrap, f"{stem}-alpha"), create_topic(
        services.bootstrap, f"{stem}-beta"
    )


@pytest.mark.parametrize("command", ["produce", "consume", "timer"])
def test_topic_names_complete_from_the_broker(
    command: str, two_topics: tuple[str, str], env: dict[str, str]
) -> None:
    stem = two_topics[0].rsplit("-", 1)[0]
    result = complete(
        env,
        _KAFKAREDIS_COMPLETE="complete_bash",
        COMP_WORDS=f"kafkaredis {command} -t {stem}-",
        COMP_CWORD="3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == list(two_topics)
    zsh = complete(
        env,
        _KAFKAREDIS_COMPLETE="complete_zsh",
        _TYPER_COMPLETE_ARGS=f"kafkaredis {command} --topic {stem}-al",
    )
    assert two_topics[0] in zsh.stdout and two_topics[1] not in zsh.stdout


def test_internal_topics_only_when_asked(two_topics: tuple[str, str], env: dict[str, str]) -> None:
    words = {"_KAFKAREDIS_COMPLETE": "complete_bash", "COMP_CWORD": "3"}
    plain = complete(env, COMP_WORDS="kafkaredis consume -t ", **words)
    assert set(two_topics) <= set(plain.stdout.split())
    assert not [name for name in plain.stdout.split() if name.startswith("_")]
    internal = complete(env, COMP_WORDS="kafkaredis consume -t __", **words)
    assert "__consumer_offsets" in internal.stdout.split()


def test_unreachable_broker_completes_nothing_quietly(env: dict[str, str]) -> None:
    result = complete(
        env,
        _KAFKAREDIS_COMPLETE="complete_bash",
        COMP_WORDS="kafkaredis produce -b 127.0.0.1:1 -t ",
        COMP_CWORD="5",
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_cache_ids_complete_from_redis(cli: Callable[..., CliResult], env: dict[str, str]) -> None:
    produced = json.loads(ok(cli("produce", "hello", "--json")).stdout)
    words = {"_KAFKAREDIS_COMPLETE": "complete_bash"}
    for command in ("cache get", "cache delete", "cache replay"):
        every = complete(env, COMP_WORDS=f"kafkaredis {command} ", COMP_CWORD="3", **words)
        assert every.returncode == 0, every.stderr
        topic = env["KAFKAREDIS_KAFKA__TOPICS"]
        assert set(every.stdout.split()) == {produced["id"], f"latest:{topic}"}
        by_start = complete(
            env, COMP_WORDS=f"kafkaredis {command} {produced['id'][:8]}", COMP_CWORD="3", **words
        )
        assert by_start.stdout.split() == [produced["id"]]
