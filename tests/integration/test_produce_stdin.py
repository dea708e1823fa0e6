"""Lines piped into `produce` (no message argument) are a batch, as with kcat -P."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from tests.conftest import CliResult, Services, kafkaredis_process
from tests.integration.test_faults import feed, finish
from tests.topics import create_topic, read_topic

Cli = Callable[..., CliResult]


def test_lines_piped_into_produce_are_a_batch(
    services: Services, env: dict[str, str], topic: str
) -> None:
    create_topic(services.bootstrap, topic)
    proc = kafkaredis_process(["produce", "--json"], env, stdin=subprocess.PIPE)
    try:
        feed(proc, ["one", "two", "three"])
        assert proc.stdin is not None
        proc.stdin.close()
        status, out, err = finish(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert status == 0, err
    summary = json.loads(out)
    assert summary["read"] == summary["delivered"] == summary["cached"] == 3
    assert [m.value() for m in read_topic(services.bootstrap, topic)] == [
        b"one",
        b"two",
        b"three",
    ]
