"""`kafkaredis context add|use|list|show|delete` through CliRunner: the file they leave,
what they print (never a secret), their errors. No service is involved."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kafkaredis_cli.cli.app import app
from kafkaredis_cli.cli.completion import complete_context
from kafkaredis_cli.errors import ExitStatus

SECRET = "s3cr3t-Pa55"


@pytest.fixture(autouse=True)
def config_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in list(os.environ):
        if key.startswith("KAFKAREDIS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "config"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def stored(config_home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((config_home / "kafkaredis" / "contexts.json").read_text())
    return data


def test_add_takes_the_global_options_on_either_side(config_home: Path) -> None:
    url = f"redis://app:{SECRET}@r:6379/1"
    added = ok(
        "-b", "k1:9092", "context", "add", "prod", "-u", url, "-X", "acks=all",
        "-X", "sasl.password=env:KAFKA_PW", "-t", "orders", "-t", "audit", "-g", "grp",
        "--key-prefix", "shop", "--redis-mode", "standalone",
        "--set", "kafka.sasl_username=file:~/user", "--set", "redis.ttl_s=60",
        "--log-level", "info",
    )  # fmt: skip
    assert "added context prod to " in added.stderr and SECRET not in added.stderr
    assert "it holds a secret" in added.stderr  # the Redis URL's password
    path = config_home / "kafkaredis" / "contexts.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored(config_home) == {
        "current": None,
        "contexts": {
            "prod": {
                "kafka": {
                    "bootstrap_servers": "k1:9092",
                    "properties": {"acks": "all", "sasl.password": "env:KAFKA_PW"},
                    "topics": ["orders", "audit"],
                    "group_id": "grp",
                    "sasl_username": "file:~/user",
                },
                "redis": {"url": url, "key_prefix": "shop", "mode": "standalone", "ttl_s": "60"},
                "log_level": "INFO",
            }
        },
    }


def test_use_list_show_delete(config_home: Path) -> None:
    ok("context", "add", "a", "-b", "a:1", "-u", f"redis://:{SECRET}@r/0")
    ok("context", "add", "b", "-b", "b:1", "--use")
    assert stored(config_home)["current"] == "b"
    ok("context", "use", "a")
    assert stored(config_home)["current"] == "a"
    listed = ok("context", "list").stdout.splitlines()
    assert listed[1:] == ["* a     a:1  redis://:****@r/0", "  b     b:1  -"]
    data = json.loads(ok("context", "list", "--json").stdout)
    assert data["current"] == "a"
    assert [(c["name"], c["current"]) for c in data["contexts"]] == [("a", True), ("b", False)]
    shown = ok("context", "show")
    assert shown.stdout.splitlines()[0] == "context  a (current)"
    assert "redis.url  redis://:****@r/0" in shown.stdout
    assert SECRET not in shown.stdout + json.dumps(data)
    other = json.loads(ok("context", "show", "b", "--json").stdout)
    assert other == {
        "name": "b",
        "current": False,
        "settings": {"kafka": {"bootstrap_servers": "b:1"}},
    }
    ok("context", "delete", "a")
    assert stored(config_home) == {
        "current": None,
        "contexts": {"b": {"kafka": {"bootstrap_servers": "b:1"}}},
    }
    assert run("context", "show").exit_code == ExitStatus.USAGE  # none is current now


def test_context_option_before_or_after_the_command_and_config_names_it() -> None:
    ok("context", "add", "a", "-b", "a:1", "--use")
    ok("context", "add", "b", "-b", "b:1")
    for args in (("--context", "b", "config", "--json"), ("config", "--json", "--context", "b")):
        data = json.loads(ok(*args).stdout)
        assert data["context"] == "b" and data["kafka"]["bootstrap_servers"] == "b:1"
        assert data["sources"]["kafka.bootstrap_servers"] == "context b"
        assert data["sources"]["context"] == "option"
    current = json.loads(ok("config", "--json").stdout)
    assert current["context"] == "a" and current["kafka"]["bootstrap_servers"] == "a:1"
    table = ok("config").stdout
    assert "context a" in table and "current context" in table


@pytest.mark.parametrize(
    ("args", "status", "needle"),
    [
        (("context", "add", "no good"), ExitStatus.USAGE, "is not a context name"),
        (("context", "add", "x", "-b", "nohost"), ExitStatus.CONFIG, "kafka.bootstrap_servers"),
        (("context", "add", "x", "--key-prefix", "a*"), ExitStatus.CONFIG, "redis.key_prefix"),
        (("context", "add", "x", "--set", "kafka.nope=1"), ExitStatus.USAGE, "--set"),
        (("context", "add", "x", "--set", "kafka.properties=1"), ExitStatus.USAGE, "-X"),
        (("context", "use", "x"), ExitStatus.USAGE, "no context named 'x'"),
        (("context", "delete", "x"), ExitStatus.USAGE, "no context named 'x'"),
        (("context", "show"), ExitStatus.USAGE, "no current context"),
    ],
)
def test_errors_are_one_line_with_their_status(
    args: tuple[str, ...], status: ExitStatus, needle: str
) -> None:
    result = run(*args)
    assert result.exit_code == status, result.stderr
    assert result.stderr.startswith("kafkaredis: error: ") and result.stderr.count("\n") == 1
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_use_warns_when_kafkaredis_context_chooses_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok("context", "add", "a")
    assert "warning" not in ok("context", "use", "a").stderr
    monkeypatch.setenv("KAFKAREDIS_CONTEXT", "b")
    used = ok("context", "use", "a")
    assert "warning: KAFKAREDIS_CONTEXT is set: commands use context b" in used.stderr


def test_add_refuses_to_replace_unless_asked(config_home: Path) -> None:
    ok("context", "add", "a", "-b", "a:1")
    result = run("context", "add", "a", "-b", "z:1")
    assert result.exit_code == ExitStatus.USAGE and "--replace" in result.stderr
    ok("context", "add", "a", "-b", "z:1", "--replace")
    assert stored(config_home)["contexts"]["a"] == {"kafka": {"bootstrap_servers": "z:1"}}


def test_a_reference_stands_for_a_valid_value_when_added(config_home: Path) -> None:
    ok("context", "add", "s", "-u", "env:SENTINEL_URL", "--redis-mode", "sentinel")
    assert stored(config_home)["contexts"]["s"]["redis"]["url"] == "env:SENTINEL_URL"


def test_completion_offers_the_context_names() -> None:
    ok("context", "add", "prod-eu", "-b", "a:1")
    ok("context", "add", "prod-us", "-b", "a:1")
    ok("context", "add", "dev", "-b", "a:1")
    assert complete_context(None, "prod") == ["prod-eu", "prod-us"]  # type: ignore[arg-type]
    assert complete_context(None, "") == ["dev", "prod-eu", "prod-us"]  # type: ignore[arg-type]
