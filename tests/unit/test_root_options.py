"""Root options (-b, -u, -X, --env-file, --log-level, --log-format) before or after the
subcommand, with the same meaning (as kcat users type them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_cli_parsing import Run


def settings_of(result: object) -> dict[str, object]:
    assert result.exit_code == 0, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    data: dict[str, object] = json.loads(result.stdout)  # type: ignore[attr-defined]
    return data


@pytest.mark.parametrize(
    "args",
    [
        ["-b", "h1:9092", "-u", "redis://r:1/2", "-X", "acks=1", "--log-level", "info", "config"],
        ["config", "-b", "h1:9092", "-u", "redis://r:1/2", "-X", "acks=1", "--log-level", "INFO"],
        [
            "--bootstrap-servers=h1:9092",
            "config",
            "--redis-url=redis://r:1/2",
            "-Xacks=1",
            "--log-level=Info",
        ],
    ],
)
def test_before_or_after_mean_the_same(run: Run, args: list[str]) -> None:
    data = settings_of(run(*args, "--json"))
    assert data["kafka"]["bootstrap_servers"] == "h1:9092"  # type: ignore[index]
    assert data["kafka"]["properties"] == {"acks": "1"}  # type: ignore[index]
    assert data["redis"]["url"] == "redis://r:1/2"  # type: ignore[index]
    assert data["log_level"] == "INFO"


def test_after_wins_over_before_and_properties_add_up(run: Run) -> None:
    data = settings_of(
        run(
            "-b",
            "before:1",
            "-X",
            "acks=1",
            "config",
            "--json",
            "-b",
            "after:2",
            "-X",
            "linger.ms=3",
        )
    )
    assert data["kafka"]["bootstrap_servers"] == "after:2"  # type: ignore[index]
    assert data["kafka"]["properties"] == {"acks": "1", "linger.ms": "3"}  # type: ignore[index]


def test_env_file_after_the_command(run: Run, tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("KAFKAREDIS_KAFKA__GROUP_ID=from-file\n")
    data = settings_of(run("config", "--json", "--env-file", str(env_file)))
    assert data["kafka"]["group_id"] == "from-file"  # type: ignore[index]


def test_nested_commands_take_them_too(run: Run) -> None:
    # A bad Redis URL given after `cache get` is used (and refused as a setting, exit 3).
    result = run("cache", "get", "some-id", "-u", "ftp://nowhere/0")
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert "redis" in result.stderr.lower()
    help_text = run("cache", "get", "--help").stdout
    for option in ("--bootstrap-servers", "--redis-url", "-X", "--log-format"):
        assert option in help_text


def test_log_choices_are_usage_errors(run: Run) -> None:
    for option in ("--log-level", "--log-format"):
        for args in ([option, "chatty", "config"], ["config", option, "chatty"]):
            result = run(*args)
            assert result.exit_code == 2, (args, result.stderr)
            assert option in result.stderr and "chatty" in result.stderr
    assert "warning" in run("config", "--log-level", "loud").stderr.lower()


def test_help_names_environment_variables(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    top = run("--help").stdout
    for variable in ("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", "KAFKAREDIS_REDIS__URL"):
        assert variable in top.replace("\n", "").replace("│", "").replace(" ", "")
