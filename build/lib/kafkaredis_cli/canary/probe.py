"""The test message a tick sends: producer id, per-topic sequence number and send time.

They travel twice: in the value (a JSON object, readable by any consumer) and in
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

    def to_message(self) -> OutgoingMessage:
        value = {
            "canary": "kafkaredis-timer",
            "producer_id": self.producer_id,
            "topic": self.topic,
            "seq": self.seq,
            "sent_at": self.sent_at_ms,
        }
        return OutgoingMessage(
            key=self.producer_id.encode(),  # one partition per topic: sequences stay in order
            value=json.dumps(value, separators=(",", ":")).encode(),
            headers=((PRODUCER_HEADER, self.producer_id.encode()), (SEQ_HEADER, b"%d" % self.seq)),
        )

    @classmethod
    def from_message(cls, topic: str, value: bytes | None, headers: Headers) -> Probe | None:
        """The probe a consumed message carries, or None when it is not a canary message."""
        found = dict(headers)
        producer, seq = found.get(PRODUCER_HEADER), found.get(SEQ_HEADER)
        if producer is None or seq is None:
            return None
        try:
            data = json.loads(value or b"{}")
            return cls(
                producer_id=producer.decode(),
                topic=topic,
                seq=int(seq),
                sent_at_ms=int(data.get("sent_at", 0)) if isinstance(data, dict) else 0,
            )
        except (ValueError, UnicodeDecodeError):
            return None
