"""What every adapter shares: `with adapter:` closes it, whatever happened inside."""

from __future__ import annotations

from typing import Self


class ClosesOnExit:
    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
