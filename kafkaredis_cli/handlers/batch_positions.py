"""Which message of a batch landed where, 16 bytes a message: what the read-back checks."""

from __future__ import annotations

from binascii import Error as BinasciiError
from binascii import unhexlify

_NO_ID = bytes(16)  # what an offset another producer took holds: no id is all zeros


class Positions:
    """Which message landed where: per partition, the first offset and the ids from there
    on, 16 bytes a message (a dict of id strings takes ten times that: 1M messages would
    need ~170 MB). Offsets another producer took in between hold zeros."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[list[int], bytearray]] = {}

    def __bool__(self) -> bool:
        return bool(self._parts)

    def add(self, partition: int, offset: int, message_id: str) -> None:
        raw = unhexlify(message_id.encode().replace(b"-", b""))  # our own id: well formed
        part = self._parts.get(partition)
        if part is None:
            self._parts[partition] = ([offset], bytearray(raw))
            return
        first, ids = part
        if offset < first[0]:  # reports out of offset order (rare): make room in front
            ids[0:0] = bytes((first[0] - offset) * 16)
            first[0] = offset
        at = (offset - first[0]) * 16
        if at == len(ids):  # the next offset of the partition: the usual case
            ids += raw
            return
        if at > len(ids):
            ids.extend(bytes(at - len(ids)))
        ids[at : at + 16] = raw

    def ranges(self) -> dict[int, tuple[int, int]]:
        """partition -> (first, last) offset of this batch's messages."""
        return {
            p: (first[0], first[0] + len(ids) // 16 - 1) for p, (first, ids) in self._parts.items()
        }

    def holds(self, partition: int, offset: int, message_id: bytes | None) -> bool:
        """Did this batch's message `message_id` (a header's value) land at
        partition/offset?"""
        part = self._parts.get(partition)
        if part is None:
            return False
        first, ids = part
        at = (offset - first[0]) * 16
        if at < 0 or at + 16 > len(ids):
            return False
        try:  # a UUID's 16 bytes from its text; anything else is not one of ours
            raw = unhexlify(message_id.replace(b"-", b"")) if message_id else b""
        except (BinasciiError, ValueError):
            return False
        return len(raw) == 16 and raw != _NO_ID and ids[at : at + 16] == raw
