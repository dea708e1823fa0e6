"""Fixtures shared by the integration tests' files."""

from tests.members import members

__all__ = ["members"]
