"""`produce "x"` reaches confluent_kafka.Producer.produce through few Python frames
(issue 15: at most 7 from the mediator's send, the behaviours and handler included).

The real wiring (bootstrap.build_app: mediator, behaviours, handler, adapter) with a
fake in place of confluent_kafka.Producer that records the frames above its produce."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any, ClassVar

import confluent_kafka
import pytest

from kafkaredis_cli.bootstrap import build_app
from kafkaredis_cli.domain.commands import ProduceMessage
from kafkaredis_cli.domain.messages import OutgoingMessage
from kafkaredis_cli.mediator import Mediator
from kafkaredis_cli.settings import Settings

MAX_FRAMES = 7


class _DeliveredMessage:
    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 41


class FrameCountingProducer:
    """Stands for confluent_kafka.Producer: produce() notes the frames between itself and
    the mediator's send; poll() delivers."""

    frames: ClassVar[list[str]] = []

    def __init__(self, conf: dict[str, Any]) -> None:
        self._delivered: list[Any] = []

    def list_topics(self, topic: str, timeout: float) -> Any:
        partition = SimpleNamespace(id=0, leader=1)
        return SimpleNamespace(
            topics={topic: SimpleNamespace(error=None, partitions={0: partition})}
        )

    def produce(self, *args: Any, on_delivery: Any, **kwargs: Any) -> None:
        frames = []
        frame = sys._getframe(1)
        while frame is not None:
            frames.append(f"{frame.f_code.co_filename}:{frame.f_code.co_qualname}")
            if frame.f_code is Mediator.send.__code__:
                break
            frame = frame.f_back
        FrameCountingProducer.frames = frames
        self._delivered.append(on_delivery)

    def poll(self, timeout: float = 0.0) -> int:
        delivered, self._delivered = self._delivered, []
        for callback in delivered:
            callback(None, _DeliveredMessage())
        return len(delivered)

    def flush(self, timeout: float = 0.0) -> int:
        return self.poll()


def test_produce_reaches_producer_produce_in_at_most_seven_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(confluent_kafka, "Producer", FrameCountingProducer)
    settings = Settings(
        kafka={"bootstrap_servers": "127.0.0.1:9"}, redis={"url": "redis://127.0.0.1:9/0"}
    )
    app = build_app(settings, "single")
    try:
        result = app.mediator.send(
            ProduceMessage(
                topic="t", message=OutgoingMessage(b"x"), verify=False, cache=False, timeout_s=5
            )
        )
    finally:
        app.close()
    assert (result.partition, result.offset) == (0, 41)  # the fake's delivery came back
    frames = FrameCountingProducer.frames
    assert frames[-1].endswith(":Mediator.send"), frames  # the walk reached the dispatch
    package = str(sys.modules["kafkaredis_cli"].__path__[0])
    assert all(f.startswith(package) for f in frames), frames  # nothing outside the project
    assert len(frames) <= MAX_FRAMES, "\n".join(reversed(frames))
