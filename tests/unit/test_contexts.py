"""The contexts store and its place among the settings sources (no service here).

The file lives under XDG_CONFIG_HOME, set to this test's own directory; mode 0600;
refused when others may read a secret it holds; references resolved at load; the
precedence is options > environment > .env > the context > defaults.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kafkaredis_cli.cli.app import app
from kafkaredis_cli.context_source import value_origins
from kafkaredis_cli.contexts import (
    ContextFile,
    contexts_path,
    holds_secret,
    masked,
    read_contexts,
    write_contexts,
)
from kafkaredis_cli.errors import ConfigError, ExitStatus, UsageError
from kafkaredis_cli.settings import load_settings

SECRET = "s3cr3t-Pa55"


@pytest.fixture(autouse=True)
def config_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """This test's own config home and working directory, no KAFKAREDIS_ variable."""
    for key in list(os.environ):
        if key.startswith("KAFKAREDIS_"):
            monkeypatch.delenv(key)
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


def save(contexts: dict[str, dict[str, Any]], current: str | None = None) -> Path:
    file = ContextFile(contexts_path(), current, contexts)
    write_contexts(file)
    return file.path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_the_file_is_under_xdg_config_home_with_mode_0600(config_home: Path) -> None:
    old_umask = os.umask(0)  # even with a umask that lets everyone read
    try:
        path = save({"a": {"kafka": {"bootstrap_servers": "h:1"}}}, "a")
    finally:
        os.umask(old_umask)
    assert path == config_home / "kafkaredis" / "contexts.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["current"] == "a"
    assert [p.name for p in path.parent.iterdir()] == ["contexts.json"]  # no temporary left


def test_a_relative_or_unset_xdg_config_home_means_dot_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    assert contexts_path() == tmp_path / ".config" / "kafkaredis" / "contexts.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert contexts_path() == tmp_path / ".config" / "kafkaredis" / "contexts.json"


@pytest.mark.parametrize(
    "values",
    [
        {"redis": {"url": f"redis://app:{SECRET}@h:6379/0"}},
        {"kafka": {"sasl_password": SECRET}},
        {"kafka": {"properties": {"ssl.key.password": SECRET}}},
    ],
)
def test_a_readable_file_holding_a_secret_is_refused(values: dict[str, Any]) -> None:
    path = save({"p": values}, "p")
    path.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        read_contexts()
    message = caught.value.message
    assert f"chmod 600 {path}" in message and "mode 0644" in message
    assert SECRET not in message and "\n" not in message
    assert caught.value.exit_status == ExitStatus.CONFIG
    result = run("produce", "x")  # every command that loads the settings refuses it
    assert result.exit_code == ExitStatus.CONFIG
    assert result.stderr.startswith("kafkaredis: error: ") and "chmod 600" in result.stderr
    path.chmod(0o600)
    assert read_contexts().current == "p"


def test_a_readable_file_without_a_secret_or_with_references_only_is_read() -> None:
    path = save(
        {
            "plain": {"kafka": {"bootstrap_servers": "h:1"}, "redis": {"url": "redis://h/0"}},
            "refs": {
                "kafka": {"sasl_password": "env:PW", "properties": {"sasl.password": "file:/x"}},
                "redis": {"url": "env:REDIS_URL"},
            },
        }
    )
    path.chmod(0o644)
    assert sorted(read_contexts().contexts) == ["plain", "refs"]


def test_references_are_resolved_at_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text(SECRET + "\n")
    monkeypatch.setenv("MY_REDIS_URL", f"redis://app:{SECRET}@h:6380/2")
    values = {
        "kafka": {
            "sasl_username": "env:MY_USER",
            "sasl_password": f"file:{secret_file}",
            "properties": {"ssl.key.password": f"file:{secret_file}", "linger.ms": "env:NOT"},
        },
        "redis": {"url": "env:MY_REDIS_URL"},
    }
    save({"r": values}, "r")
    assert not holds_secret(values)
    with pytest.raises(ConfigError, match="refers to environment variable MY_USER, not set"):
        load_settings()
    monkeypatch.setenv("MY_USER", "alice")
    settings = load_settings()
    conf = settings.kafka.to_librdkafka()
    assert conf["sasl.username"] == "alice"
    assert conf["sasl.password"] == SECRET == conf["ssl.key.password"]
    assert conf["linger.ms"] == "env:NOT"  # not a secret: taken as written
    assert settings.redis.url.get_secret_value() == f"redis://app:{SECRET}@h:6380/2"
    # The file holds references, not the secrets; `show` prints them as written.
    assert SECRET not in contexts_path().read_text()
    assert masked(values)["redis"]["url"] == "env:MY_REDIS_URL"


def test_a_missing_referenced_file_is_one_config_error(tmp_path: Path) -> None:
    save({"r": {"kafka": {"sasl_password": f"file:{tmp_path}/absent"}}}, "r")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "context 'r': kafka.sasl_password refers to file" in caught.value.message
    assert "No such file" in caught.value.message


def test_masked_hides_secrets_and_keeps_the_rest() -> None:
    values = {
        "kafka": {"sasl_password": SECRET, "properties": {"sasl.password": SECRET, "acks": "1"}},
        "redis": {"url": f"redis://app:{SECRET}@h:6379/0", "key_prefix": "p"},
    }
    shown = masked(values)
    assert SECRET not in json.dumps(shown)
    assert shown["kafka"]["properties"] == {"sasl.password": "****", "acks": "1"}
    assert shown["redis"] == {"url": "redis://app:****@h:6379/0", "key_prefix": "p"}
    assert values["kafka"]["sasl_password"] == SECRET  # the context itself is untouched


def write_dotenv(**values: str) -> None:
    Path(".env").write_text("".join(f"KAFKAREDIS_{k}={v}\n" for k, v in values.items()))


def test_precedence_options_environment_dotenv_context_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    context = {
        "kafka": {
            "bootstrap_servers": "ctx:1",
            "group_id": "ctx-group",
            "client_id": "ctx-client",
            "topics": ["ctx-topic"],
            "properties": {"linger.ms": "9", "acks": "1"},
        },
        "redis": {"key_prefix": "ctx-prefix", "ttl_s": 60},
    }
    save({"c": context}, "c")
    write_dotenv(KAFKA__GROUP_ID="dotenv-group", KAFKA__CLIENT_ID="dotenv-client")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__CLIENT_ID", "env-client")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", "env-topic")
    overrides = {"kafka": {"topics": ["option-topic"], "properties": {"acks": "all"}}}
    settings = load_settings(overrides)
    kafka = settings.kafka
    assert settings.context == "c"
    assert kafka.topics == ["option-topic"]  # option > environment
    assert kafka.client_id == "env-client"  # environment > .env
    assert kafka.group_id == "dotenv-group"  # .env > context
    assert kafka.bootstrap_servers == "ctx:1"  # context > default
    assert settings.redis.key_prefix == "ctx-prefix" and settings.redis.ttl_s == 60
    assert settings.redis.timeout_s == 5.0  # the default: nobody set it
    assert kafka.properties == {"linger.ms": "9", "acks": "all"}  # -X adds to the context's
    origins = value_origins(settings, overrides, None)
    assert origins["context"] == "current context"
    assert origins["kafka.topics"] == "option"
    assert origins["kafka.client_id"] == "environment"
    assert origins["kafka.group_id"] == ".env"
    assert origins["kafka.bootstrap_servers"] == "context c"
    assert origins["redis.timeout_s"] == "default"
    assert origins["kafka.properties"] == "option + context c"


def test_the_context_is_chosen_by_option_then_environment_then_current(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save(
        {name: {"kafka": {"bootstrap_servers": f"{name}:1"}} for name in ("a", "b", "c")},
        "a",
    )
    assert load_settings().kafka.bootstrap_servers == "a:1"
    write_dotenv(CONTEXT="c")
    assert load_settings().kafka.bootstrap_servers == "c:1"
    monkeypatch.setenv("KAFKAREDIS_CONTEXT", "b")
    assert load_settings().kafka.bootstrap_servers == "b:1"
    assert load_settings({"context": "c"}).kafka.bootstrap_servers == "c:1"
    none = load_settings({"context": ""})  # "" is no context at all
    assert none.context is None and none.kafka.bootstrap_servers == "localhost:9092"


def test_an_unknown_context_is_a_one_line_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    save({"a": {}, "b": {}}, "a")
    with pytest.raises(UsageError) as caught:
        load_settings({"context": "nope"})
    assert caught.value.message.startswith("no context named 'nope' in ")
    assert caught.value.message.endswith("(contexts: a, b)")
    monkeypatch.setenv("KAFKAREDIS_CONTEXT", "gone")
    for args in (("config",), ("context", "use", "gone"), ("context", "show", "gone")):
        result = run(*args)
        assert result.exit_code == ExitStatus.USAGE, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "no context named 'gone'" in result.stderr


def test_no_file_means_no_context_and_the_defaults() -> None:
    settings = load_settings()
    assert settings.context is None
    assert settings.kafka.bootstrap_servers == "localhost:9092"
    with pytest.raises(UsageError, match="contexts: none"):
        load_settings({"context": "x"})


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "contexts.json is not valid JSON"),
        ('{"contexts": {"c": 1}}', 'expected {"contexts": {NAME: {...}}}'),
        ('{"contexts": {"c": {"kafka": "x"}}}', "context 'c': kafka must be an object"),
        ('{"current": 5, "contexts": {}}', '"current" must be a context name'),
    ],
)
def test_a_broken_file_is_one_config_error(text: str, needle: str) -> None:
    contexts_path().parent.mkdir(parents=True)
    contexts_path().write_text(text)
    for args in (("config",), ("context", "list")):
        result = run(*args)
        assert result.exit_code == ExitStatus.CONFIG
        assert needle in result.stderr and result.stderr.count("\n") == 1
