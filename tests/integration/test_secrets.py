"""Secrets given in settings never appear in any output or log of any command.

The secrets come from the environment, a .env file and the command line; every command
runs with `--log-level DEBUG` (text and JSON logs), some with librdkafka's own debug
log (`-X debug=all`), on the paths that work and on the paths that fail.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from kafkaredis_cli.errors import ExitStatus
from tests.conftest import CliResult, OwnStack, running_stack

pytestmark = pytest.mark.integration

SASL_PASSWORD = f"sasl-{uuid.uuid4().hex}"
REDIS_PASSWORD = f"redis-{uuid.uuid4().hex}"
KEY_PASSWORD = f"sslkey-{uuid.uuid4().hex}"  # given with -X ssl.key.password=
WRONG_PASSWORD = f"wrong-{uuid.uuid4().hex}"
SECRETS = (SASL_PASSWORD, REDIS_PASSWORD, KEY_PASSWORD, WRONG_PASSWORD)

Cli = Callable[..., CliResult]


def assert_no_secret(result: CliResult) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    for secret in SECRETS:
        for form in (secret, quote(secret, safe=""), secret[-12:]):
            assert form not in output, f"a secret leaked:\n{output[:3000]}"


@pytest.fixture(scope="module")
def locked_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStack]:
    """A redis-server of this module's own that wants REDIS_PASSWORD."""
    with running_stack(
        tmp_path_factory.mktemp("locked-redis"),
        only="redis",
        redis_args=[f"--requirepass {REDIS_PASSWORD}"],
    ) as stack:
        yield stack


def redis_url(stack: OwnStack, password: str = REDIS_PASSWORD) -> str:
    return f"redis://:{password}@127.0.0.1:{stack.redis_port}/0"


@pytest.fixture
def secret_env(
    env: dict[str, str], locked_redis: OwnStack, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """SASL credentials (unused by the plaintext broker) and a Redis password, from env."""
    values = {
        "KAFKAREDIS_KAFKA__SASL_USERNAME": "kafkaredis-user",
        "KAFKAREDIS_KAFKA__SASL_PASSWORD": SASL_PASSWORD,
        "KAFKAREDIS_REDIS__URL": redis_url(locked_redis),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return {**env, **values}


# Commands that work with these settings (the broker is plaintext: SASL is not used).
WORKING = [
    ("config",),
    ("config", "--json"),
    ("check",),
    ("check", "--json"),
    ("produce", "hello"),
    ("produce", "--json", "hello"),
    ("consume", "-e", "--format", "json"),
    ("consume", "-e"),
    ("cache", "list"),
    ("cache", "list", "--json"),
    ("inspect-cache",),
    ("inspect-cache", "--json"),
    ("timer", "--count", "2", "--interval", "0.2"),
    ("timer", "--count", "2", "--interval", "0.2", "--json"),
]


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("args", WORKING, ids=lambda a: " ".join(a))
def test_working_commands_never_show_a_secret(
    cli: Cli,
    secret_env: dict[str, str],
    make_topic: Callable[..., str],
    topic: str,
    args: tuple[str, ...],
    log_format: str,
) -> None:
    make_topic(topic)
    result = cli(
        "--log-level", "DEBUG", "--log-format", log_format,
        "-X", f"ssl.key.password={KEY_PASSWORD}",
        *args,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert_no_secret(result)


def test_batch_produce_and_cache_get_never_show_a_secret(
    cli: Cli, secret_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "in.txt"
    path.write_text("one\ntwo\nthree\n")
    debug = ("--log-level", "DEBUG", "-X", f"ssl.key.password={KEY_PASSWORD}")
    result = cli(*debug, "produce", "--file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert_no_secret(result)
    single = cli(*debug, "produce", "--json", "four")
    assert single.exit_code == 0, single.stderr
    message_id = single.stdout.split('"id":"', 1)[1].split('"', 1)[0]
    for args in (("cache", "get", message_id), ("cache", "get", message_id, "--json")):
        got = cli(*debug, *args)
        assert got.exit_code == 0, got.stderr
        assert_no_secret(got)


def test_librdkafka_debug_log_never_shows_a_secret(cli: Cli, secret_env: dict[str, str]) -> None:
    result = cli(
        "--log-level", "DEBUG", "-X", "debug=all",
        "-X", f"ssl.key.password={KEY_PASSWORD}",
        "produce", "hello",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "kafkaredis.librdkafka" in result.stderr  # librdkafka's log really is there
    assert_no_secret(result)


def test_secrets_on_the_command_line_never_show(
    cli: Cli, env: dict[str, str], locked_redis: OwnStack
) -> None:
    base = (
        "--log-level", "DEBUG",
        "--redis-url", redis_url(locked_redis),
        "-X", f"sasl.password={SASL_PASSWORD}",
        "-X", f"ssl.key.password={KEY_PASSWORD}",
    )  # fmt: skip
    for args in (("config",), ("config", "--json"), ("check",), ("produce", "hi")):
        result = cli(*base, *args)
        assert result.exit_code == 0, result.stderr
        assert_no_secret(result)
    shown = cli(*base, "config", "--json")
    assert "****" in shown.stdout  # masked, not dropped: the user sees it is set


def test_secrets_from_dotenv_never_show(
    cli: Cli, env: dict[str, str], locked_redis: OwnStack, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"KAFKAREDIS_KAFKA__SASL_PASSWORD={SASL_PASSWORD}\n"
        f'KAFKAREDIS_KAFKA__PROPERTIES={{"ssl.key.password": "{KEY_PASSWORD}"}}\n'
    )
    url = redis_url(locked_redis)
    for args in (("config",), ("config", "--json"), ("check", "--json"), ("produce", "hi")):
        result = cli("--log-level", "DEBUG", "--redis-url", url, *args)
        assert result.exit_code == 0, result.stderr
        assert_no_secret(result)
    shown = cli("--redis-url", url, "config", "--json")
    assert '"sasl_password":"****"' in shown.stdout
    assert '"ssl.key.password":"****"' in shown.stdout


# -- the paths that fail: error messages and logs ---------------------------------------------
def test_wrong_redis_password_errors_never_show_it(
    cli: Cli, env: dict[str, str], locked_redis: OwnStack
) -> None:
    wrong = redis_url(locked_redis, WRONG_PASSWORD)
    for args, status in (
        (("cache", "list"), ExitStatus.REDIS),
        (("cache", "get", "x"), ExitStatus.REDIS),
        (("inspect-cache",), ExitStatus.REDIS),
        (("check",), ExitStatus.FAILED),
        (("produce", "hi"), ExitStatus.REDIS),
        (("timer", "--count", "1", "--interval", "0.2"), None),
    ):
        result = cli("--log-level", "DEBUG", "--redis-url", wrong, *args)
        if status is None:  # the timer counts a failed cache write per tick and goes on
            assert "AUTH failed" in result.stdout + result.stderr
            assert_no_secret(result)
            continue
        assert result.exit_code == status, result.stderr
        assert "AUTH" in result.stderr or "AUTH" in result.stdout
        assert_no_secret(result)


def test_failed_sasl_login_names_it_and_never_shows_the_password(
    cli: Cli, secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # SASL against the plaintext listener: the login fails, the reason is named.
    monkeypatch.setenv("KAFKAREDIS_KAFKA__SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TIMEOUT_S", "2")
    for args, status in (
        (("produce", "hi"), ExitStatus.KAFKA),
        (("consume", "-e"), ExitStatus.KAFKA),
        (("check",), ExitStatus.FAILED),
    ):
        result = cli("--log-level", "DEBUG", *args)
        assert result.exit_code == status, result.stderr
        assert "authentication failed" in result.stderr + result.stdout
        assert_no_secret(result)


def test_bad_settings_next_to_secrets_never_show_them(
    cli: Cli, secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [
        ("KAFKAREDIS_REDIS__URL", f"http://:{REDIS_PASSWORD}@127.0.0.1:6379/0"),
        ("KAFKAREDIS_REDIS__URL", f"redis://:{REDIS_PASSWORD}@127.0.0.1:port/0"),
        ("KAFKAREDIS_REDIS__URL", f"redis://:{REDIS_PASSWORD}#x@127.0.0.1:6379/0"),
        ("KAFKAREDIS_KAFKA__PROPERTIES", f'{{"sasl.password": {{"x": "{SASL_PASSWORD}"}}}}'),
        ("KAFKAREDIS_LOG_LEVEL", "LOUD"),
    ]
    for name, value in cases:
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            result = cli("config")
            assert result.exit_code == ExitStatus.CONFIG, (name, result.stderr)
            assert name in result.stderr
            assert_no_secret(result)


def test_unknown_property_error_never_shows_a_secret(cli: Cli, secret_env: dict[str, str]) -> None:
    result = cli("-X", "no.such.property=1", "-X", f"sasl.password={SASL_PASSWORD}", "produce", "x")
    assert result.exit_code == ExitStatus.CONFIG
    assert "no.such.property" in result.stderr
    assert_no_secret(result)


# -- the one policy, end to end: every form the policy knows ----------------------------------
def test_a_redis_password_as_a_url_query_parameter_never_shows(
    cli: Cli, env: dict[str, str], locked_redis: OwnStack
) -> None:
    good = f"redis://127.0.0.1:{locked_redis.redis_port}/0?password={REDIS_PASSWORD}"
    wrong = f"redis://127.0.0.1:{locked_redis.redis_port}/0?password={WRONG_PASSWORD}"
    for args in (("config",), ("config", "--json"), ("check",), ("cache", "list")):
        result = cli("--log-level", "DEBUG", "--redis-url", good, *args)
        assert result.exit_code == 0, result.stderr  # redis-py's form works ...
        assert_no_secret(result)  # ... and is masked
    assert "password=****" in cli("--redis-url", good, "config", "--json").stdout
    for args in (("config",), ("check",), ("cache", "list"), ("produce", "hi")):
        result = cli("--log-level", "DEBUG", "--redis-url", wrong, *args)
        assert result.exit_code in (0, ExitStatus.FAILED, ExitStatus.REDIS), result.stderr
        assert_no_secret(result)


def test_every_sensitive_librdkafka_property_is_masked_by_config(
    cli: Cli, env: dict[str, str]
) -> None:
    from kafkaredis_cli.secrets import LIBRDKAFKA_SENSITIVE

    options = [a for name in sorted(LIBRDKAFKA_SENSITIVE) for a in ("-X", f"{name}={KEY_PASSWORD}")]
    for args in (("config",), ("config", "--json")):
        result = cli("--log-level", "DEBUG", *options, *args)
        assert result.exit_code == 0, result.stderr
        assert_no_secret(result)
    shown = json.loads(cli(*options, "config", "--json").stdout)["kafka"]["properties"]
    assert shown == dict.fromkeys(LIBRDKAFKA_SENSITIVE, "****")
