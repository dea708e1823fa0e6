"""Which message of a batch landed where, 16 bytes a message: what the read-back checks."""

from __future__ import annotations

from binascii import Error as BinasciiError
from binascii import unhexlify


def id_bytes(message_id: bytes | None) -> bytes:
    """A UUID's 16 bytes from its text (a header's value); 16 zero bytes (which no id
    has) for anything else."""
    try:
        raw = unhexlify(message_id.replace(b"-", b"")) if message_id else b""
    except (BinasciiError, ValueError):
        raw = b""
    return raw if len(raw) == 16 else _NO_ID


_NO_ID = bytes(16)


class Positions:
    """Which message landed where: per partition, the first offset and the ids from there
    on, 16 bytes a message (a dict of id strings takes ten times that: 1M messages would
    need ~170 MB). Offsets another producer took in between hold zeros."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[list[int], bytearray]] = {}

    def __bool__(self) -> bool:
        return bool(self._parts)

    def add(self, partition: int, offset: int, message_id: str) -> None:
        raw = bytes.fromhex(message_id.replace("-", ""))  # one of our own ids: well formed
        part = self._parts.get(partition)
        if part is None:
            self._parts[partition] = ([offset], bytearray(raw))
            return
        first, ids = part
        if offset < first[0]:  # reports out of offset order (rare): make room in front
            ids[0:0] = bytes((first[0] - offset) * 16)
            first[0] = offset
        at = (offset - first[0]) * 16
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
        raw = id_bytes(message_id)
        return raw != _NO_ID and ids[at : at + 16] == raw
