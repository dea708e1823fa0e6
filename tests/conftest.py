"""Fixtures: the real Kafka broker and redis-server, a topic and key prefix per test.

The session uses the running stack (`scripts/stack up`), or starts it once and stops
it at the end. KAFKAREDIS_TEST_BOOTSTRAP / KAFKAREDIS_TEST_REDIS_URL point the tests
at other services instead.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "scripts" / "stack"
# The stack's ports (scripts/stack reads the same variables).
KAFKA_PORT = int(os.environ.get("KAFKAREDIS_STACK_KAFKA_PORT", "19092"))
REDIS_PORT = int(os.environ.get("KAFKAREDIS_STACK_REDIS_PORT", "16379"))
DEFAULT_BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
DEFAULT_REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"

# Never the user's own contexts (~/.config/kafkaredis): the session, and every process it
# starts, has an empty config home of its own; no context is chosen from outside.
SESSION_CONFIG_HOME = tempfile.mkdtemp(prefix="kafkaredis-test-config-")
os.environ["XDG_CONFIG_HOME"] = SESSION_CONFIG_HOME
os.environ.pop("KAFKAREDIS_CONTEXT", None)


@pytest.fixture(scope="session", autouse=True)
def _session_config_home() -> Iterator[None]:
    yield
    shutil.rmtree(SESSION_CONFIG_HOME, ignore_errors=True)


def wait_for(
    condition: Callable[[], object],
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> object:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(pair: bool = False) -> int:
    """A loopback port (and the next one, if `pair`) that nothing listens on.

    Chosen below the kernel's ephemeral range (32768 and up), so that no outgoing
    connection takes it between this choice and the server's bind.
    """
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(20000, 32000)
        if _bindable(port) and (not pair or _bindable(port + 1)):
            return port
    raise RuntimeError("no free port")


def run_stack(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STACK), *args], capture_output=True, text=True, timeout=timeout
    )


@dataclass
class Services:
    bootstrap: str
    redis_url: str


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    bootstrap = os.environ.get("KAFKAREDIS_TEST_BOOTSTRAP")
    redis_url = os.environ.get("KAFKAREDIS_TEST_REDIS_URL")
    if bootstrap and redis_url:
        yield Services(bootstrap, redis_url)
        return
    started = False
    if run_stack("status").returncode != 0:
        result = run_stack("up")
        if result.returncode != 0:
            pytest.fail(f"could not start the stack:\n{result.stdout}\n{result.stderr}")
        # Stop it at the end only if this session really started it (not if another
        # session's `up` was still on its way when we looked).
        started = "already running" not in result.stdout + result.stderr
    try:
        yield stack_services()
    finally:
        if started:
            run_stack("down")


def stack_services() -> Services:
    """The running stack's addresses, as `scripts/stack env` prints them: the ports it
    was started on (recorded in its state), not necessarily the defaults."""
    found = dict(
        line.removeprefix("export ").split("=", 1)
        for line in run_stack("env").stdout.splitlines()
        if line.startswith("export ") and "=" in line
    )
    return Services(
        found.get("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP),
        found.get("KAFKAREDIS_REDIS__URL", DEFAULT_REDIS_URL),
    )


@pytest.fixture
def topic(request: pytest.FixtureRequest) -> str:
    """A topic name of this test's own (created by the broker on first use)."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
    return f"t-{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def prefix() -> str:
    """A Redis key prefix of this test's own."""
    return f"krtest-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_topic(services: Services) -> Callable[..., str]:
    """Create a topic with N partitions (and wait until it has leaders)."""
    from tests.topics import create_topic

    def create(name: str, partitions: int = 1) -> str:
        return create_topic(services.bootstrap, name, partitions)

    return create


@pytest.fixture
def env(
    services: Services, topic: str, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Point kafkaredis at the test services, this test's topic and prefix; no stray .env."""
    for key in list(os.environ):
        ours = key.startswith(("KAFKAREDIS_TEST_", "KAFKAREDIS_STACK_"))
        if key.startswith("KAFKAREDIS_") and not ours:
            monkeypatch.delenv(key)
    values = {
        "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": services.bootstrap,
        "KAFKAREDIS_REDIS__URL": services.redis_url,
        "KAFKAREDIS_REDIS__KEY_PREFIX": prefix,
        "KAFKAREDIS_KAFKA__TOPICS": topic,
        "KAFKAREDIS_KAFKA__GROUP_ID": f"g-{prefix}",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    # A config home of this test's own: a context one test adds is not another's.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    return values


@pytest.fixture
def redis_client(services: Services) -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(services.redis_url)
    yield client
    client.close()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""


def ok(result: CliResult) -> CliResult:
    """The command succeeded, with no traceback."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def cli(env: dict[str, str]) -> Callable[..., CliResult]:
    """Run the CLI in-process with Typer's CliRunner (stdout and stderr apart)."""
    from typer.testing import CliRunner

    from kafkaredis_cli.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> CliResult:
        result = runner.invoke(app, list(args), input=input)
        return CliResult(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)

    return invoke


@dataclass
class OwnStack:
    """A broker and redis-server of a test's own, on their own ports, to stop and start."""

    dir: Path
    kafka_port: int
    redis_port: int
    kafka_config: list[str] = field(default_factory=list)
    redis_args: list[str] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def _args(self) -> list[str]:
        return [
            "--dir",
            str(self.dir),
            "--kafka-port",
            str(self.kafka_port),
            "--redis-port",
            str(self.redis_port),
        ]

    def up(self, only: str | None = None) -> None:
        extra: list[str] = []
        for item in self.kafka_config:
            extra += ["--kafka-config", item]
        for item in self.redis_args:
            extra += ["--redis-arg", item]
        if only:
            extra += ["--only", only]
        result = run_stack("up", *self._args(), *extra)
        assert result.returncode == 0, f"stack up failed:\n{result.stdout}\n{result.stderr}"

    def down(self, only: str | None = None, kill: bool = False, wipe: bool = False) -> None:
        extra = (
            (["--only", only] if only else [])
            + (["--kill"] if kill else [])
            + (["--wipe"] if wipe else [])
        )
        result = run_stack("down", *self._args(), *extra)
        assert result.returncode == 0, f"stack down failed:\n{result.stdout}\n{result.stderr}"


@contextmanager
def running_stack(
    directory: Path,
    *,
    only: str | None = None,
    kafka_config: list[str] | None = None,
    redis_args: list[str] | None = None,
) -> Iterator[OwnStack]:
    """A stack of its own on free ports, up for the `with` block, then stopped and wiped."""
    stack = OwnStack(
        dir=directory,
        kafka_port=free_port(pair=True),
        redis_port=free_port(),
        kafka_config=list(kafka_config or []),
        redis_args=list(redis_args or []),
    )
    try:
        stack.up(only)
        yield stack
    finally:
        stack.down(wipe=True)


@pytest.fixture
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., OwnStack]]:
    """Factory: own_stack(kafka=True, redis=True, kafka_config=[...], redis_args=[...])."""
    with ExitStack() as stacks:

        def make(
            kafka: bool = True,
            redis: bool = True,
            kafka_config: list[str] | None = None,
            redis_args: list[str] | None = None,
        ) -> OwnStack:
            only = None if kafka and redis else ("kafka" if kafka else "redis")
            return stacks.enter_context(
                running_stack(
                    tmp_path_factory.mktemp("stack"),
                    only=only,
                    kafka_config=kafka_config,
                    redis_args=redis_args,
                )
            )

        yield make


def kafkaredis_process(
    args: list[str], env: dict[str, str], **kwargs: object
) -> subprocess.Popen[bytes]:
    """Start `python -m kafkaredis_cli ARGS` as a real process (for signal tests)."""
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "kafkaredis_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        **kwargs,
    )


# Session-wide clusters (started only when a test asks for them); at the end because
# tests/clusters.py uses the helpers above.
from tests.clusters import (  # noqa: E402, F401
    clusters_whole_after_test,
    kafka_cluster,
    redis_cluster,
    redis_sentinel,
)
from tests.secure import secure_cli, secure_env, secure_stack  # noqa: E402, F401
