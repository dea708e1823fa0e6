"""One-shot commands load only what they use (issue 16): checked in fresh interpreters
by what is in sys.modules, never by timing."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
sys.argv = ["kafkaredis", *sys.argv[1:]]
try:
    from kafkaredis_cli.cli.app import main
    main()
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    return set(result.stderr.strip().splitlines()[-1].split())


def test_help_loads_no_settings_no_clients() -> None:
    loaded = _modules_after("--help")
    assert "kafkaredis_cli.cli.app" in loaded  # the probe ran the CLI
    for heavy in (
        "pydantic_settings",
        "kafkaredis_cli.settings",
        "confluent_kafka",
        "redis",
        "rich",
    ):
        assert heavy not in loaded, heavy


def test_app_wiring_defers_groups_replay_and_canary_modules() -> None:
    probe = (
        "import sys\n"
        "from kafkaredis_cli.bootstrap import build_app\n"
        "from kafkaredis_cli.settings import Settings\n"
        "app = build_app(Settings())\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "kafkaredis_cli.handlers.produce_message" in loaded
    assert "kafkaredis_cli.handlers.produce_batch" in loaded
    for deferred in (
        "kafkaredis_cli.adapters.kafka_groups",
        "kafkaredis_cli.adapters.kafka_canary",
        "kafkaredis_cli.adapters.kafka_canary_follower",
        "kafkaredis_cli.adapters.kafka_canary_follower",
        "kafkaredis_cli.handlers.groups",
        "kafkaredis_cli.handlers.replay",
    ):
        assert deferred not in loaded, deferred


CLIENTS_PROBE = """
import sys
import confluent_kafka

made = []
for kind in ("Producer", "Consumer"):
    real = getattr(confluent_kafka, kind)

    def make(*args, _real=real, _kind=kind, **kwargs):
        made.append(f"{_kind}:{'redis' in sys.modules}")
        return _real(*args, **kwargs)

    setattr(confluent_kafka, kind, make)
from kafkaredis_cli.bootstrap import build_app
from kafkaredis_cli.settings import Settings

settings = Settings(kafka={"bootstrap_servers": "127.0.0.1:1"})
app = build_app(settings, "single", 5.0, will_read_back=sys.argv[1] == "verify")
made.append(f"redis-loaded:{'redis' in sys.modules}")
app.close()
print(" ".join(made))
"""


def test_a_single_message_starts_its_clients_before_loading_redis() -> None:
    """Their handshakes with the brokers overlap loading redis-py (issue 16)."""

    def made(mode: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", CLIENTS_PROBE, mode], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert made("verify") == ["Producer:False", "Consumer:False", "redis-loaded:True"]
    assert made("no-verify") == ["Producer:False", "redis-loaded:True"]
