"""The test message a tick sends: producer id, sequence numbers and send time.

`seq` counts the run's probes per topic; `partition_seq` counts them per partition
(0, 1, 2, … on each), which is what the independent consumer checks for duplicates and
gaps: the order of one partition is kept, the order across partitions is not. They
travel twice: in the value (a JSON object, readable by any consumer) and in
headers, so a reader can tell a canary message from others without parsing the value.
"""

from __future__ import annotations

import json
import secrets
import socket
from dataclasses import dataclass

from kafkaredis_cli.domain.messages import Headers, OutgoingMessage

PRODUCER_HEADER = "kafkaredis-producer-id"
SEQ_HEADER = "kafkaredis-seq"
PARTITION_SEQ_HEADER = "kafkaredis-partition-seq"


def new_producer_id() -> str:
    """Unique per run; readable (the host name) and safe inside a Redis key."""
    host = "".join(c if c.isalnum() or c in "-." else "-" for c in socket.gethostname())
    return f"{host[:24] or 'host'}-{secrets.token_hex(4)}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Probe:
    producer_id: str
    topic: str
    seq: int  # per topic, from 0
    sent_at_ms: int
    partition: int | None = None  # None: the producer's partitioner chooses
    partition_seq: int | None = None  # per partition, from 0

    @property
    def stream_seq(self) -> int:
        """The sequence number the independent consumer checks (per partition if set)."""
        return self.seq if self.partition_seq is None else self.partition_seq

    def to_message(self) -> OutgoingMessage:
        value: dict[str, object] = {
            "canary": "kafkaredis-timer",
            "producer_id": self.producer_id,
            "topic": self.topic,
            "seq": self.seq,
            "sent_at": self.sent_at_ms,
        }
        headers: list[tuple[str, bytes | None]] = [
            (PRODUCER_HEADER, self.producer_id.encode()),
            (SEQ_HEADER, b"%d" % self.seq),
        ]
        if self.partition_seq is not None:
            value["partition"] = self.partition
            value["partition_seq"] = self.partition_seq
            headers.append((PARTITION_SEQ_HEADER, b"%d" % self.partition_seq))
        return OutgoingMessage(
            key=self.producer_id.encode(),
            value=json.dumps(value, separators=(",", ":")).encode(),
            headers=tuple(headers),
            partition=self.partition,
        )

    @classmethod
    def from_message(
        cls, topic: str, value: bytes | None, headers: Headers, partition: int | None = None
    ) -> Probe | None:
        """The probe a consumed message carries, or None when it is not a canary message."""
        found = dict(headers)
        producer, seq = found.get(PRODUCER_HEADER), found.get(SEQ_HEADER)
        if producer is None or seq is None:
            return None
        partition_seq = found.get(PARTITION_SEQ_HEADER)
        try:
            data = json.loads(value or b"{}")
            return cls(
                producer_id=producer.decode(),
                topic=topic,
                seq=int(seq),
                sent_at_ms=int(data.get("sent_at", 0)) if isinstance(data, dict) else 0,
                partition=partition,
                partition_seq=None if partition_seq is None else int(partition_seq),
            )
        except (ValueError, UnicodeDecodeError):
            return None
