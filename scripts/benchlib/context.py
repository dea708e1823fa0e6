"""What every section of a run shares: its services, the input file, and the samples,
notes and extra figures it collects."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import raw_workers
from benchlib.processes import Run
from benchlib.services import Broker


@dataclass
class Context:
    args: argparse.Namespace
    bootstrap: str
    redis_url: str
    redis_cluster_url: str | None
    broker: Broker
    prefix: str
    kcat: str | None
    kafkaredis: str
    workdir: Path
    data: Path
    n: int
    env: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    startup_cpu_s: dict[str, float] = field(default_factory=dict)  # path -> idle run's CPU

    def add(self, name: str, value: float) -> None:
        self.samples.setdefault(name, []).append(value)

    def kr(self, *argv: str) -> list[str]:
        return [self.kafkaredis, *argv]

    def worker(self, kind: str, topic: str) -> list[str]:
        """A raw worker (benchlib.raw_workers, its own process), on this run's services."""
        return raw_workers.command(
            kind, bootstrap=self.bootstrap, redis_url=self.redis_url, prefix=self.prefix,
            topic=topic,
        )  # fmt: skip

    def add_cpu(self, name: str, run: Run) -> None:
        """Client CPU a message: user + system seconds of the process / N, in us."""
        self.add(f"cpu.{name}", run.cpu_s / self.n * 1e6)
        idle = self.startup_cpu_s.get(name)
        if idle is not None:  # start-up and shut-down excluded (an idle run's CPU)
            self.extra.setdefault("cpu_us_excl_startup", {}).setdefault(name, []).append(
                round(max(0.0, run.cpu_s - idle) / self.n * 1e6, 3)
            )
            self.extra.setdefault("startup_cpu_s", {})[name] = round(idle, 3)

    def kcat_conf(self) -> list[str]:
        return ["-b", self.bootstrap, "-q"]
