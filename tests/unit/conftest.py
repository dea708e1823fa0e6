"""Fixtures shared by the unit tests: `run` (the CLI on closed ports) and `fake`."""

from tests.unit.test_cli_parsing import fake, run

__all__ = ["fake", "run"]
