"""Arguments as bytes, a key prefix that cannot break out, contradictory options refused.

- A MESSAGE, `--key` or `--header` value that is not UTF-8 is sent byte for byte (as kcat:
  the bytes the shell passed, `os.fsencode`), checked with confluent-kafka; a header
  *name* that is not UTF-8 is bad input (Kafka keeps header names as strings).
- The key prefix enters SCAN patterns: glob characters, a backslash, whitespace and
  control characters are refused (status 3), so `cache` commands never see or delete
  another application's keys (checked with redis-py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.cli_errors import error_line
from tests.conftest import CliResult
from tests.topics import read_topic

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]


def run_with_bytes(*args: bytes) -> subprocess.CompletedProcess[bytes]:
    """The CLI in a process of its own, with argv bytes exactly as a shell passes them."""
    return subprocess.run(
        [sys.executable.encode(), b"-m", b"kafkaredis_cli", *args],
        capture_output=True,
        timeout=60,
        env=os.environ.copy(),
        check=False,
    )


def test_non_utf8_message_key_and_header_are_sent_byte_for_byte(
    env: dict[str, str], services: Any, make_topic: Callable[..., str], topic: str
) -> None:
    make_topic(topic)
    value, key, header = b"\xff\xfe value \x80", b"k\xc3\x28", b"\xfe\xff"
    done = run_with_bytes(b"produce", b"-k", key, b"-H", b"h=" + header, value)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    (message,) = read_topic(services.bootstrap, topic)
    assert (message.value(), message.key()) == (value, key)
    assert dict(message.headers())["h"] == header


def test_a_non_utf8_header_name_is_bad_input(env: dict[str, str]) -> None:
    done = run_with_bytes(b"produce", b"-H", b"\xff=v", b"m")
    assert done.returncode == ExitStatus.USAGE, done.stderr
    assert b"--header name" in done.stderr and b"not UTF-8" in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_non_utf8_key_delimiter_splits_lines_byte_for_byte(
    cli: Cli, services: Any, make_topic: Callable[..., str], topic: str
) -> None:
    make_topic(topic)
    delimiter = os.fsdecode(b"\xff")
    result = cli("produce", "-K", delimiter, "--no-verify", input=b"key\xffvalue\n")
    assert result.exit_code == 0, result.stderr
    (message,) = read_topic(services.bootstrap, topic)
    assert (message.key(), message.value()) == (b"key", b"value")


@pytest.mark.parametrize(
    "bad_prefix",
    ["app\\", "app*", "a?p", "a[pp]", "a pp", "a\tpp", "a\npp", "a\x00pp", "a\x1bpp", ":::", ""],
    ids=ascii,
)
def test_a_prefix_that_would_break_scan_patterns_is_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, bad_prefix: str
) -> None:
    options: tuple[str, ...] = ()
    if "\x00" in bad_prefix:  # no environment variable holds a NUL; a .env file can
        monkeypatch.delenv("KAFKAREDIS_REDIS__KEY_PREFIX")
        with open("nul.env", "wb") as file:
            file.write(b"KAFKAREDIS_REDIS__KEY_PREFIX=" + bad_prefix.encode() + b"\n")
        options = ("--env-file", "nul.env")
    else:
        monkeypatch.setenv("KAFKAREDIS_REDIS__KEY_PREFIX", bad_prefix)
    for args in (
        ("cache", "list"),
        ("inspect-cache",),
        ("cache", "delete", "--pattern", "*", "-y"),
    ):
        result = cli(*options, *args)
        error_line(result, ExitStatus.CONFIG, "redis.key_prefix")


def test_cache_commands_never_see_or_touch_keys_outside_the_prefix(
    cli: Cli, redis_client: Any, prefix: str
) -> None:
    """Neighbours whose names a careless pattern would match: another prefix that starts
    with ours, one with a glob-like name, and our prefix with a different separator."""
    ours = [f"{prefix}:msg:1", f"{prefix}:latest:t"]
    others = [f"{prefix}x:msg:1", f"{prefix}\\:msg:1", f"{prefix}-msg:1", f"x{prefix}:msg:1"]
    for key in ours + others:
        redis_client.set(key, "v")
    try:
        for pattern in ("*", "msg:*", "*:*", "\\*", "[a-z]*", f"{prefix}*", "*msg*"):
            listed = cli("cache", "list", "--pattern", pattern, "--json")
            assert listed.exit_code == 0, listed.stderr
            assert not any(o in listed.stdout for o in others if o not in ours), pattern
        deleted = cli("cache", "delete", "--pattern", "*", "--yes")
        assert deleted.exit_code == 0, deleted.stderr
        assert all(redis_client.exists(o) for o in others)
        assert not any(redis_client.exists(k) for k in ours)
    finally:
        redis_client.delete(*others)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("consume", "--group", "g", "--no-group", "-e"), ("--group", "--no-group")),
        (("consume", "--json", "--format", "raw", "-e"), ("--json", "--format")),
        (("produce", "-K", ":", "k:v"), ("--key-delimiter", "MESSAGE")),
        (("produce", "-K", ":", "--input-format", "json"), ("--key-delimiter", "json")),
        (("produce", "--file", "x", "m"), ("MESSAGE", "--file")),
        (("groups", "lag", "--per-partition"), ("--per-partition", "--max-lag")),
        (("groups", "reset", "g", "-t", "t", "--to-earliest", "--to-latest"), ("exactly one",)),
        (("consume", "-g", "   ", "-e"), ("--group", "blank")),
        (("groups", "lag", ""), ("GROUP", "empty")),
    ],
)
def test_contradictory_or_impossible_options_are_usage_errors(
    cli: Cli, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    error_line(cli(*args, input=b"k:v\n"), ExitStatus.USAGE, *needles)
