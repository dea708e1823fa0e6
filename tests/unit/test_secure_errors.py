"""Issue 22 in unit tests: an ACL refusal names NOPERM and the key pattern; an env file
holding a secret that others may read is warned about; the stack's secure profile makes
the settings `env --secure` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis.exceptions as rex

from kafkaredis_cli.adapters.errors import GroupRefusalNote, from_redis_exception
from kafkaredis_cli.errors import RedisError
from kafkaredis_cli.secrets import exposed_env_file


def test_noperm_names_the_acl_and_the_key_pattern() -> None:
    exc = rex.NoPermissionError(
        "this user has no permissions to access one of the keys used as arguments"
    )
    error = from_redis_exception(exc, "rediss://u:****@h:1/0", "kr:*")
    assert isinstance(error, RedisError)
    assert error.code == "NOPERM"
    assert "NOPERM" in error.message and "keys kr:*" in error.message
    assert "\n" not in error.message


def test_noperm_for_a_command_does_not_blame_the_keys() -> None:
    exc = rex.NoPermissionError("this user has no permissions to run the 'info' command")
    error = from_redis_exception(exc, "rediss://u:****@h:1/0", "kr:*")
    assert "kr:*" not in error.message and "'info'" in error.message


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, fmt: str, *args: object) -> None:
        self.lines.append(fmt % args)


def test_group_refusal_is_logged_once() -> None:
    note, log = GroupRefusalNote(), _Log()
    for _ in range(3):
        note.note(log, "reader", "Group authorization failed")
    assert len(log.lines) == 1 and "harmless" in log.lines[0]


@pytest.mark.parametrize(
    "line",
    [
        "KAFKAREDIS_KAFKA__SASL_PASSWORD=s3cret",
        "export KAFKAREDIS_REDIS__URL='rediss://u:pw@h:6379/0'",
        "KAFKAREDIS_REDIS__URL=redis://h:6379/0?password=pw",
        'KAFKAREDIS_KAFKA__PROPERTIES={"sasl.password": "pw"}',
        'KAFKAREDIS_KAFKA__PROPERTIES=\'{"ssl.key.password":"pw"}\'',
    ],
)
def test_readable_env_file_with_a_secret_is_warned(tmp_path: Path, line: str) -> None:
    env = tmp_path / ".env"
    env.write_text(f"KAFKAREDIS_KAFKA__TOPICS=a\n{line}\n")
    env.chmod(0o644)
    warning = exposed_env_file(env)
    assert warning is not None and "0644" in warning and "chmod 600" in warning
    assert "pw" not in warning.replace(str(tmp_path), "") and "s3cret" not in warning
    env.chmod(0o600)
    assert exposed_env_file(env) is None


def test_readable_env_file_without_a_secret_is_not_warned(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    lines = {
        "KAFKAREDIS_REDIS__URL": "redis://h:6379/0",
        "KAFKAREDIS_KAFKA__PROPERTIES": json.dumps({"ssl.ca.location": "/ca.pem"}),
    }
    env.write_text("".join(f"{k}={v}\n" for k, v in lines.items()) + "# password=x\n")
    env.chmod(0o644)
    assert exposed_env_file(env) is None
    assert exposed_env_file(tmp_path / "missing") is None


def test_docs_show_the_refusals_as_the_code_words_them() -> None:
    """docs/security.md quotes the NOPERM error and the client-certificate hint verbatim."""
    from kafkaredis_cli.adapters.kafka import _tls_hint

    docs = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    where = "rediss://kr-other:****@127.0.0.1:16479/0?ssl_ca_certs=/…/ca.pem"
    exc = rex.NoPermissionError(
        "this user has no permissions to access one of the keys used as arguments"
    )
    assert from_redis_exception(exc, where, "kr:*").message in docs
    assert _tls_hint("ssl/tls alert bad certificate").strip() in docs
