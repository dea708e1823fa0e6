"""No unexpected errors: every command, every option and every setting fed a corpus of
hostile values ends with a documented exit status, one named error line at most, no
"unexpected" (the message of a bug: this test fails on it) and no traceback.

The corpus (a table, so a failure names its case): bytes that are not UTF-8 (as the
shell passes them: surrogate-escaped, as Python decodes argv), NULs, control
characters, huge numbers, deep nesting, empty and whitespace-only values, glob
characters, a 300 kB value; on stdin also a 10 MB line. Runs against the shared stack
with short timeouts; a value that is valid does real work (on this test's own topic and
key prefix).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.conftest import CliResult

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]

DOCUMENTED = {int(s) for s in ExitStatus} - {ExitStatus.INTERRUPTED, ExitStatus.TERMINATED}

CORPUS: dict[str, str] = {
    "empty": "",
    "spaces": "   ",
    "whitespace": " \t\n\r ",
    "not UTF-8": os.fsdecode(b"\xff\xfe"),
    "not UTF-8 inside": "ab" + os.fsdecode(b"\xc3\x28") + "cd",
    "NUL": "a\x00b",
    "control characters": "\x1b[2J\x07\x08\x0b\x0c",
    "DEL and C1": "\x7f\x85\x9b",
    "huge number": "9" * 5000,
    "huge negative": "-" + "9" * 40,
    "float overflow": "1e999",
    "nan": "nan",
    "deep nesting": "[" * 5000 + "]" * 5000,
    "glob and backslash": "*?[]\\",
    "300 kB": "z" * 300_000,
    "format strings": "%s%n{0}{}",
    "unicode tricks": "\u202e\ufeff\u00e9\U0001f600",
}
V = "\x00VALUE\x00"  # where a case's value goes in a command line

# Every command with every option and argument that takes a value (V marks it).
SLOTS: list[tuple[str, ...]] = [
    # produce
    ("produce", "--no-verify", V),
    ("produce", "--no-verify", "-k", V, "m"),
    ("produce", "--no-verify", "-H", f"h={V}", "m"),
    ("produce", "--no-verify", "-H", V, "m"),
    ("produce", "--no-verify", "-H", f"{V}=v", "m"),
    ("produce", "--no-verify", "-t", V, "m"),
    ("produce", "--no-verify", "-p", V, "m"),
    ("produce", "--no-verify", "--ttl", V, "m"),
    ("produce", "--no-verify", "--timeout", V, "m"),
    ("produce", "--no-verify", "--file", V),
    ("produce", "--no-verify", "--input-format", V, "m"),
    ("produce", "--no-verify", "--value-encoding", "hex", V),
    ("produce", "--no-verify", "--value-encoding", "base64", V),
    ("produce", "--no-verify", "--key-encoding", "hex", "-k", V, "m"),
    ("produce", "--no-verify", "--value-encoding", V, "m"),
    # consume
    ("consume", "-e", "--no-group", "-t", V),
    ("consume", "-e", "-g", V, "--timeout", "1"),
    ("consume", "-e", "--no-group", "--from", V),
    ("consume", "-e", "--no-group", "--to", V),
    ("consume", "-e", "--no-group", "-c", V),
    ("consume", "-e", "--no-group", "-p", V),
    ("consume", "-e", "--no-group", "-f", V),
    ("consume", "-e", "--no-group", "--timeout", V),
    ("consume", "-e", "--no-group", "--filter-key", V),
    ("consume", "-e", "--no-group", "--filter-value", V),
    ("consume", "-e", "--no-group", "--filter-header", V),
    ("consume", "-e", "--no-group", "--filter-header", f"h={V}"),
    ("consume", "-e", "--no-group", "--key-encoding", V),
    # timer
    ("timer", "-c", V, "-i", "0.1"),
    ("timer", "-c", "1", "-i", V),
    ("timer", "-c", "1", "-i", "0.1", "-t", V),
    ("timer", "-c", "1", "-i", "0.1", "--max-loss", V),
    ("timer", "-c", "1", "-i", "0.1", "--timeout", V),
    ("timer", "-c", "1", "-i", "0.1", "--metrics-port", V),
    ("timer", "-c", "1", "-i", "0.1", "--metrics-port", "0", "--metrics-host", V),
    # cache, inspect-cache
    ("cache", "get", V),
    ("cache", "list", "--pattern", V),
    ("cache", "list", "-t", V),
    ("cache", "list", "-n", V),
    ("cache", "delete", V),
    ("cache", "delete", "--pattern", V, "--yes"),
    ("cache", "replay", V),
    # groups
    ("groups", "lag", V),
    ("groups", "lag", "-t", V),
    ("groups", "lag", "--max-lag", V),
    ("groups", "reset", V, "--to-earliest"),
    ("groups", "reset", "g", "-t", V, "--to-earliest"),
    ("groups", "reset", "g", "--to-offset", V),
    ("groups", "reset", "g", "--to-time", V),
    ("groups", "reset", "g", "--shift-by", V),
    # check
    ("check", "--brokers", V),
    # global options
    ("-b", V, "config"),
    ("-u", V, "config"),
    ("-u", V, "cache", "list"),
    ("-X", V, "config"),
    ("-X", f"client.id={V}", "produce", "--no-verify", "m"),
    ("-X", f"linger.ms={V}", "produce", "--no-verify", "m"),
    ("-X", f"{V}=1", "produce", "--no-verify", "m"),
    ("--env-file", V, "config"),
    ("--log-level", V, "config"),
    ("--context", V, "config"),
    ("produce", "--no-verify", "m", "--context", V),
    # contexts (written under this test's own XDG_CONFIG_HOME)
    ("context", "add", V),
    ("context", "add", "c", "-t", V, "--replace"),
    ("context", "add", "c", "-g", V, "--replace"),
    ("context", "add", "c", "--key-prefix", V, "--replace"),
    ("context", "add", "c", "--redis-mode", V, "--replace"),
    ("context", "add", "c", "--set", V, "--replace"),
    ("context", "add", "c", "--set", f"kafka.sasl_password={V}", "--replace"),
    ("context", "add", "c", "--set", f"redis.ttl_s={V}", "--replace"),
    ("context", "add", "c", "-u", V, "--replace"),
    ("context", "use", V),
    ("context", "show", V),
    ("context", "delete", V),
]

# Every setting, from the environment (which cannot hold a NUL: that case goes by .env).
SETTINGS = [
    "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS",
    "KAFKAREDIS_KAFKA__TOPICS",
    "KAFKAREDIS_KAFKA__GROUP_ID",
    "KAFKAREDIS_KAFKA__CLIENT_ID",
    "KAFKAREDIS_KAFKA__SECURITY_PROTOCOL",
    "KAFKAREDIS_KAFKA__SASL_MECHANISM",
    "KAFKAREDIS_KAFKA__SASL_USERNAME",
    "KAFKAREDIS_KAFKA__SASL_PASSWORD",
    "KAFKAREDIS_KAFKA__TIMEOUT_S",
    "KAFKAREDIS_KAFKA__EXPECTED_BROKERS",
    "KAFKAREDIS_KAFKA__PROPERTIES",
    "KAFKAREDIS_REDIS__URL",
    "KAFKAREDIS_REDIS__MODE",
    "KAFKAREDIS_REDIS__SENTINEL_PASSWORD",
    "KAFKAREDIS_REDIS__KEY_PREFIX",
    "KAFKAREDIS_REDIS__TTL_S",
    "KAFKAREDIS_REDIS__TIMEOUT_S",
    "KAFKAREDIS_REDIS__RETRIES",
    "KAFKAREDIS_LOG_LEVEL",
    "KAFKAREDIS_LOG_FORMAT",
    "KAFKAREDIS_CONTEXT",
]


@pytest.fixture
def quick(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, make_topic: Callable[..., str], topic: str
) -> Iterator[None]:
    """Short timeouts, so that a valid but useless value fails fast."""
    make_topic(topic)
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "2")
    monkeypatch.setenv("KAFKAREDIS_REDIS__TIMEOUT_S", "1")
    monkeypatch.setenv("KAFKAREDIS_REDIS__RETRIES", "0")
    yield


def problem(result: CliResult) -> str | None:
    """What is wrong with how a command ended, or None."""
    output = result.stdout + result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("kafkaredis: error:")]
    if result.exit_code not in DOCUMENTED:
        return f"exit {result.exit_code}"
    if "Traceback" in output:
        return "a traceback"
    if any("unexpected" in line for line in errors):
        return errors[0][:300]
    if len(errors) > 1:
        return f"{len(errors)} error lines"
    return None


def fill(slot: tuple[str, ...], value: str) -> list[str]:
    return [arg.replace(V, value) for arg in slot]


@pytest.mark.parametrize("slot", SLOTS, ids=lambda s: " ".join(s).replace(V, "V"))
def test_every_option_takes_the_corpus(cli: Cli, quick: None, slot: tuple[str, ...]) -> None:
    problems = []
    for name, value in CORPUS.items():
        found = problem(cli(*fill(slot, value), input=b""))
        if found:
            problems.append(f"{name}: {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_takes_the_corpus(
    cli: Cli, quick: None, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    problems = []
    for name, value in CORPUS.items():
        if "\x00" in value:
            continue  # no environment variable holds a NUL (see the .env case)
        with monkeypatch.context() as patch:
            patch.setenv(setting, value)
            for args in (("config", "--json"), ("check",), ("produce", "--no-verify", "m")):
                found = problem(cli(*args))
                if found:
                    problems.append(f"{name} / {args[0]}: {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("setting", ["KAFKAREDIS_KAFKA__CLIENT_ID", "KAFKAREDIS_REDIS__URL"])
def test_a_dotenv_file_takes_the_corpus_raw(
    cli: Cli, quick: None, tmp_path: Path, setting: str
) -> None:
    problems = []
    for name, value in {**CORPUS, "raw bytes": os.fsdecode(b"\xff\x00\x80")}.items():
        path = tmp_path / f"{abs(hash(name))}.env"
        path.write_bytes(setting.encode() + b"=" + os.fsencode(value) + b"\n")
        found = problem(cli("--env-file", str(path), "config"))
        if found:
            problems.append(f"{name}: {found}")
    assert not problems, "\n".join(problems)


def test_a_contexts_file_takes_the_corpus(cli: Cli, quick: None, tmp_path: Path) -> None:
    """A contexts file edited by hand: hostile values in the current context (in settings
    the environment does not set), as references too; and a file that is not JSON."""
    import json

    path = tmp_path / "config-home" / "kafkaredis" / "contexts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, value in CORPUS.items():
        contexts = [
            {"kafka": {"client_id": value, "properties": {value: value}}},
            {"kafka": {"sasl_mechanism": value, "sasl_password": f"file:{value}"}},
            {"kafka": {"sasl_username": f"env:{value}"}, "redis": {"mode": value}},
            {"redis": {"ttl_s": value, "sentinel_password": value}},
            {"kafka": value},
        ]
        for number, context in enumerate(contexts):
            path.write_text(json.dumps({"current": "c", "contexts": {"c": context}}))
            path.chmod(0o600)
            for args in (
                ("config", "--json"),
                ("context", "list"),
                ("produce", "--no-verify", "m"),
            ):
                found = problem(cli(*args))
                if found:
                    problems.append(f"{name} #{number} / {args[0]}: {found}")
        path.write_bytes(os.fsencode(value) or b"\xff")
        found = problem(cli("config"))
        if found:
            problems.append(f"{name} as the file: {found}")
    assert not problems, "\n".join(problems)


STDIN = {
    **{name: os.fsencode(value) for name, value in CORPUS.items()},
    "10 MB line": b"small\n" + b"q" * 10_000_000 + b"\nsmall\n",
    "NULs and CRs": b"a\x00b\r\n\r\n\x00\n",
    "JSON huge number": b'{"value": ' + b"9" * 5000 + b"}\n",
    "JSON deep nesting": b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
    "JSON lone surrogate": b'{"value": "\\ud800"}\n',
    "JSON odd fields": b'{"value": 1, "key": [], "headers": {"h": 5}, "partition_override": -3}\n',
}


@pytest.mark.parametrize(
    "args",
    [
        ("--input-format", "text"),
        ("--input-format", "json"),
        ("--value-encoding", "hex", "-K", ":"),
        ("--value-encoding", "base64"),
    ],
    ids=lambda a: " ".join(a),
)
def test_batch_input_takes_the_corpus(cli: Cli, quick: None, args: tuple[str, ...]) -> None:
    problems = []
    for name, data in STDIN.items():
        result = cli("produce", "--no-verify", *args, "--json", input=data)
        found = problem(result)
        if found:
            problems.append(f"{name}: {found}")
        elif result.stdout.startswith("{"):  # the summary, always, adding up
            import json

            summary = json.loads(result.stdout)
            total = sum(summary[k] for k in ("delivered", "failed", "unknown_outcome", "not_sent"))
            if total != summary["read"]:
                problems.append(f"{name}: summary does not add up {summary}")
        else:
            problems.append(f"{name}: no summary (exit {result.exit_code}) {result.stderr[:200]}")
    assert not problems, "\n".join(problems)
