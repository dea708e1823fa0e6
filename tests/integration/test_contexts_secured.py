"""A named context for the secured stack (tests/secure.py: SASL_SSL SCRAM-SHA-512 Kafka,
TLS Redis with ACL users), its secrets kept out of the file as references: the Kafka
password as `file:PATH`, the Redis URL (it holds a password) as `env:NAME`. With no
KAFKAREDIS_ variable and no option, `produce` reaches the secured cluster; read back with
confluent-kafka and redis-py. The same context holding the password itself is refused
once others may read the file."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kafkaredis_cli.cli.app import app
from kafkaredis_cli.errors import ExitStatus
from kafkaredis_cli.secrets import is_secret_property
from tests.conftest import CliResult, ok
from tests.integration.test_secure_clients import _no_secret, _read_back
from tests.secure import SecureStack

pytestmark = pytest.mark.integration

Cli = Callable[..., CliResult]


@pytest.fixture
def bare_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """No KAFKAREDIS_ setting, no .env, a config home of this test's own."""
    for key in list(os.environ):
        if key.startswith("KAFKAREDIS_") and not key.startswith(
            ("KAFKAREDIS_TEST_", "KAFKAREDIS_STACK_")
        ):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    runner = CliRunner()

    def invoke(*args: str) -> CliResult:
        result = runner.invoke(app, list(args))
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke


def test_a_secured_cluster_by_context_with_its_secrets_as_references(
    secure_stack: SecureStack,
    bare_cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    properties = secure_stack.kafka_conf("kr-user")
    bootstrap = properties.pop("bootstrap.servers")
    options: list[str] = []
    for name, value in properties.items():
        if is_secret_property(name):  # the SASL password: kept in a file of its own
            secret_file = tmp_path / f"secret-{name}"
            secret_file.write_text(value + "\n")
            secret_file.chmod(0o600)
            value = f"file:{secret_file}"
        options += ["-X", f"{name}={value}"]
    assert any(o.startswith("sasl.password=file:") for o in options)
    monkeypatch.setenv("KR_TEST_SECURE_REDIS_URL", secure_stack.redis_url("kr-user"))
    own = uuid.uuid4().hex[:10]
    topic, prefix = f"kr-t-{own}", f"kr:{own}"
    added = ok(
        bare_cli(
            "context", "add", "secured", "-b", bootstrap, "-u", "env:KR_TEST_SECURE_REDIS_URL",
            *options, "-t", topic, "--key-prefix", prefix, "-g", f"kr-g-{own}", "--use",
        )
    )  # fmt: skip
    assert "holds a secret" not in added.stderr
    path = tmp_path / "config" / "kafkaredis" / "contexts.json"
    stored = path.read_text()
    assert not [secret for secret in secure_stack.secrets() if secret in stored]
    path.chmod(0o644)  # references only: nothing to refuse

    produced = ok(bare_cli("produce", "secured by context", "--json"))
    shown = ok(bare_cli("context", "show"))
    _no_secret(secure_stack, added, produced, shown)
    result = json.loads(produced.stdout)
    assert result["topic"] == topic and result["verified"] is True
    value = _read_back(secure_stack, topic, result["partition"], result["offset"])
    assert value == b"secured by context"
    record = secure_stack.redis_client("admin").get(f"{prefix}:msg:{result['id']}")
    assert record is not None and b"secured by context" in record

    # The same context with the password itself in the file: refused once others may
    # read it, with one line; mode 0600 again, and it works.
    password = secure_stack.password("kafka", "kr-user")
    literal = [
        f"sasl.password={password}" if o.startswith("sasl.password=") else o for o in options
    ]
    ok(bare_cli("context", "add", "secured", "-b", bootstrap, "-u", "env:KR_TEST_SECURE_REDIS_URL",
                *literal, "-t", topic, "--key-prefix", prefix, "--replace"))  # fmt: skip
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    refused = bare_cli("produce", "not sent")
    assert refused.exit_code == ExitStatus.CONFIG
    assert "holds a secret and other users may read it (mode 0640)" in refused.stderr
    assert refused.stderr.count("\n") == 1
    _no_secret(secure_stack, refused)
    path.chmod(0o600)
    again = json.loads(ok(bare_cli("produce", "literal password", "--json")).stdout)
    assert _read_back(secure_stack, topic, again["partition"], again["offset"]) == (
        b"literal password"
    )
