"""The secured stack for the session: `secure_stack` (tests marked by using it).

Started once per session by `scripts/stack up --secure` in a directory of its own on free
loopback ports (the first time a test asks for it), stopped and wiped at the end (and by
scripts/test's clean-up under .pytest-tmp if pytest dies). What it is: scripts/stacklib/
secure.py and docs/security.md. The API:

    secure_stack.bootstrap            SASL_SSL (SCRAM-SHA-512) listener, "127.0.0.1:P"
    secure_stack.mtls_bootstrap       SSL listener requiring a client certificate, P + 2
    secure_stack.kafka_conf(user)     librdkafka settings, bootstrap included, for
                                      confluent-kafka: user "kr-user" (rights on topics and
                                      groups prefixed kr- only), "mtls" (certificate CN
                                      kr-mtls, the same rights), "admin" (super user)
    secure_stack.env(user)            the KAFKAREDIS_* variables `scripts/stack env --secure
                                      --user USER` prints (bootstrap, PROPERTIES as JSON,
                                      TOPICS kr-events, GROUP_ID kr-group, REDIS__URL,
                                      REDIS__KEY_PREFIX kr); users kr-user, mtls (Kafka by
                                      certificate, Redis as kr-user), admin, kr-other
                                      (Redis user with keys other:* only)
    secure_stack.redis_url(user)      rediss://USER:PASSWORD@127.0.0.1:R/0?ssl_ca_certs=CA;
                                      users admin (all keys), kr-user (kr:*), kr-other
                                      (other:*); the `default` user is off
    secure_stack.expiring_redis_url(user)  the same on R + 1, whose server certificate
                                      expires in 3 days (secure_stack.expiring_port)
    secure_stack.ca                   the CA that signed every certificate (PEM file)
    secure_stack.untrusted_ca         a CA that signed none of them
    secure_stack.password(kind, user) kind "kafka" or "redis"; secure_stack.secrets():
                                      every secret (to assert none is ever printed)

Fixtures for CLI tests as the limited user: `secure_env` (like conftest's `env`: a topic
kr-…, a key prefix kr:…, a group kr-… of the test's own; returns the variables set) and
`secure_cli` (runs the CLI in-process, as conftest's `cli`).
"""

from __future__ import annotations

import json
import os
import shlex
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.clusters import free_port_block
from tests.conftest import CliResult, run_stack

KEY_PREFIX = "kr"


@dataclass
class SecureStack:
    dir: Path
    kafka_port: int
    redis_port: int
    _env: dict[str, dict[str, str]] = field(default_factory=dict)

    def layout(self) -> list[str]:
        return ["--secure", "--dir", str(self.dir), "--kafka-port", str(self.kafka_port),
                "--redis-port", str(self.redis_port)]  # fmt: skip

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mtls_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port + 2}"

    @property
    def expiring_port(self) -> int:
        return self.redis_port + 1

    @property
    def ca(self) -> Path:
        return self.dir / "secure" / "ca.pem"

    @property
    def untrusted_ca(self) -> Path:
        return self.dir / "secure" / "untrusted-ca.pem"

    def secrets(self) -> list[str]:
        """Every password of the stack (to assert none is printed)."""
        data = json.loads((self.dir / "secure" / "secrets.json").read_text())
        found = [data["client_key_password"]]
        for users in (data["kafka"], data["redis"]):
            found += list(users.values())
        return found

    def password(self, kind: str, user: str) -> str:
        data = json.loads((self.dir / "secure" / "secrets.json").read_text())
        return str(data[kind][user])

    def env(self, user: str = "kr-user") -> dict[str, str]:
        """The KAFKAREDIS_* variables of `user`, as `scripts/stack env --secure` prints them."""
        if user not in self._env:
            result = run_stack("env", "--dir", str(self.dir), "--user", user)
            assert result.returncode == 0, result.stderr
            found = {}
            for line in result.stdout.splitlines():
                name, _, value = line.removeprefix("export ").partition("=")
                found[name] = shlex.split(value)[0]
            self._env[user] = found
        return dict(self._env[user])

    def kafka_conf(self, user: str = "kr-user") -> dict[str, str]:
        env = self.env(user)
        conf: dict[str, str] = json.loads(env["KAFKAREDIS_KAFKA__PROPERTIES"])
        conf["bootstrap.servers"] = env["KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS"]
        return conf

    def redis_url(self, user: str = "kr-user") -> str:
        password = self.password("redis", user)
        return f"rediss://{user}:{password}@127.0.0.1:{self.redis_port}/0?ssl_ca_certs={self.ca}"

    def expiring_redis_url(self, user: str = "kr-user") -> str:
        return self.redis_url(user).replace(f":{self.redis_port}/", f":{self.expiring_port}/")

    def redis_client(self, user: str = "admin") -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url(user))


@pytest.fixture(scope="session")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    """The secured Kafka node and TLS Redis for the whole session (started on first use)."""
    directory = tmp_path_factory.mktemp("secure-stack")
    for attempt in range(3):
        stack = SecureStack(directory, free_port_block(3), free_port_block(2))
        try:
            # A generous deadline: CI shares two cores with the tests around it.
            result = run_stack("up", "--timeout", "180", *stack.layout())
            if result.returncode == 0:
                yield stack
                return
        finally:
            run_stack("down", "--kill", "--wipe", "--dir", str(directory))
        if "already in use" not in result.stderr or attempt == 2:
            pytest.fail(f"could not start the secure stack:\n{result.stdout}\n{result.stderr}")


@pytest.fixture
def secure_env(
    secure_stack: SecureStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., dict[str, str]]:
    """Factory: secure_env(user="kr-user") points kafkaredis at the secure stack as `user`,
    with a topic, key prefix and group of this test's own (all within kr-user's rights);
    returns the variables set. No stray .env (the test runs in tmp_path)."""
    for key in list(os.environ):
        ours = key.startswith(("KAFKAREDIS_TEST_", "KAFKAREDIS_STACK_"))
        if key.startswith("KAFKAREDIS_") and not ours:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    own = uuid.uuid4().hex[:10]

    def use(user: str = "kr-user") -> dict[str, str]:
        values = secure_stack.env(user)
        values["KAFKAREDIS_KAFKA__TOPICS"] = f"kr-t-{own}"
        values["KAFKAREDIS_KAFKA__GROUP_ID"] = f"kr-g-{own}"
        values["KAFKAREDIS_REDIS__KEY_PREFIX"] = f"{KEY_PREFIX}:{own}"
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        return values

    return use


@pytest.fixture
def secure_cli() -> Callable[..., CliResult]:
    """Run the CLI in-process (Typer's CliRunner), in the environment secure_env set."""
    from typer.testing import CliRunner

    from kafkaredis_cli.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> CliResult:
        result = runner.invoke(app, list(args), input=input)
        return CliResult(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)

    return invoke
