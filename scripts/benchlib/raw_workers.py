"""The raw confluent-kafka workers scripts/bench measures kafkaredis against: plain
functions, each run as its own process by `command(...)` (python -c calling main here).

  produce       the tuned raw producer loop over the input file
  produce_same  the same work kafkaredis does, in plain Python (2 id headers, a
                callback, one Redis SET a message, pipelined)
  consume       the raw consume(num_messages=...) loop, printing each value
  consume_same  the same work as kafkaredis consume (print, SET the record, commit)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

# Raw confluent-kafka and kcat: kafkaredis' batch profile (linger, batch sizes,
# idempotence) with librdkafka's local queue left unbounded (1 GB), which is faster still:
# a ceiling. (kafkaredis bounds it to 20,000 messages to keep its memory flat.)
PRODUCER_TUNING = {
    "linger.ms": "20",
    "batch.size": "1000000",
    "batch.num.messages": "10000",
    "queue.buffering.max.messages": "500000",
    "queue.buffering.max.kbytes": "1048576",
    "enable.idempotence": "true",
}


RAW_FETCH = 5000  # consume(num_messages=...) of the raw consumer


def worker_produce(bootstrap: str, topic: str, file: str) -> None:
    from confluent_kafka import Producer

    counts = {"delivered": 0, "failed": 0}

    def delivered(err: Any, _msg: Any) -> None:
        counts["failed" if err is not None else "delivered"] += 1

    producer = Producer(
        {"bootstrap.servers": bootstrap, **PRODUCER_TUNING, "on_delivery": delivered}
    )
    produce, poll = producer.produce, producer.poll
    started = time.perf_counter()
    with open(file, "rb") as lines:
        for i, line in enumerate(lines, 1):
            value = line.rstrip(b"\n")
            while True:
                try:
                    produce(topic, value)
                    break
                except BufferError:
                    poll(0.05)
            if i % 1000 == 0:
                poll(0)
    left = producer.flush(120)
    counts["undelivered"] = left
    print(json.dumps({**counts, "seconds": time.perf_counter() - started}), flush=True)


def _raw_consumer(bootstrap: str, group: str, topic: str, partitions: int) -> Any:
    """A raw consumer assigned every partition of `topic` from the beginning."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"{group}-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": "false",
            "enable.partition.eof": "false",
            "auto.offset.reset": "earliest",
            # librdkafka >= 2.4 waits 1 s before fetching more once its prefetch queue is
            # full; a short backoff doubles a fast reader's throughput (kafkaredis sets it).
            "fetch.queue.backoff.ms": "10",
        }
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    return consumer


def worker_consume(bootstrap: str, topic: str, n: int, partitions: int) -> None:
    consumer = _raw_consumer(bootstrap, "kbench-raw", topic, partitions)
    out = sys.stdout.buffer
    got = 0
    started = time.perf_counter()
    deadline = time.monotonic() + 120
    while got < n and time.monotonic() < deadline:
        for msg in consumer.consume(num_messages=min(RAW_FETCH, n - got), timeout=0.1):
            if msg.error() is None:
                out.write((msg.value() or b"") + b"\n")
                got += 1
    out.flush()
    consumer.close()
    print(json.dumps({"consumed": got, "seconds": time.perf_counter() - started}), file=sys.stderr)
    sys.exit(0 if got >= n else 1)


def worker_produce_same(bootstrap: str, topic: str, file: str, redis_url: str, prefix: str) -> None:
    """What the obvious Python does for kafkaredis' job: two id headers a message, a
    delivery callback, one Redis SET per delivered message (its JSON record), pipelined."""
    import redis
    from confluent_kafka import Producer

    client = redis.Redis.from_url(redis_url)
    pipe = client.pipeline(transaction=False)
    counts = {"delivered": 0, "failed": 0, "cached": 0}

    def delivered(err: Any, msg: Any, message_id: str, sent_at: int) -> None:
        if err is not None:
            counts["failed"] += 1
            return
        counts["delivered"] += 1
        record = {
            "id": message_id,
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "value": msg.value().decode(),
            "sent_at": sent_at,
            "status": "delivered",
        }
        pipe.set(f"{prefix}:same:{message_id}", json.dumps(record), ex=3600)
        if len(pipe) >= 1000:
            counts["cached"] += len(pipe.execute())

    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER_TUNING})
    produce, poll = producer.produce, producer.poll
    started = time.perf_counter()
    with open(file, "rb") as lines:
        for i, line in enumerate(lines, 1):
            value = line.rstrip(b"\n")
            message_id, sent_at = str(uuid.uuid4()), time.time_ns() // 1_000_000
            headers: list[tuple[str, str | bytes | None]] = [
                ("kafkaredis-id", message_id.encode()),
                ("kafkaredis-sent-at", str(sent_at).encode()),
            ]

            def on_delivery(err: Any, msg: Any, mid: str = message_id, at: int = sent_at) -> None:
                delivered(err, msg, mid, at)

            while True:
                try:
                    produce(topic, value, headers=headers, on_delivery=on_delivery)
                    break
                except BufferError:
                    poll(0.05)
            if i % 1000 == 0:
                poll(0)
    counts["undelivered"] = producer.flush(120)
    if len(pipe):
        counts["cached"] += len(pipe.execute())
    client.close()
    print(json.dumps({**counts, "seconds": time.perf_counter() - started}), flush=True)
    sys.exit(0 if counts["failed"] == counts["undelivered"] == 0 else 1)


def worker_consume_same(
    bootstrap: str, topic: str, n: int, partitions: int, redis_url: str, prefix: str
) -> None:
    """The obvious Python for kafkaredis consume: read in batches, print each value, write
    each message's record anew, consumed (one SET per message, pipelined), commit."""
    import redis

    client = redis.Redis.from_url(redis_url)
    consumer = _raw_consumer(bootstrap, "kbench-same", topic, partitions)
    out = sys.stdout.buffer
    got = 0
    deadline = time.monotonic() + 120
    while got < n and time.monotonic() < deadline:
        msgs = consumer.consume(num_messages=min(RAW_FETCH, n - got), timeout=0.1)
        if not msgs:
            continue
        pipe = client.pipeline(transaction=False)
        now = time.time_ns() // 1_000_000
        for msg in msgs:
            if msg.error() is not None:
                continue
            got += 1
            out.write((msg.value() or b"") + b"\n")
            headers = dict(msg.headers() or ())
            if "kafkaredis-id" in headers:
                message_id = headers["kafkaredis-id"].decode()
                record = {
                    "id": message_id,
                    "topic": msg.topic(),
                    "partition": msg.partition(),
                    "offset": msg.offset(),
                    "value": (msg.value() or b"").decode("utf-8", "replace"),
                    "sent_at": int(headers.get("kafkaredis-sent-at", b"0")),
                    "status": "consumed",
                    "consumed_at": now,
                }
                pipe.set(f"{prefix}:same:{message_id}", json.dumps(record), ex=3600)
        pipe.execute()
        consumer.commit(asynchronous=False)
    out.flush()
    consumer.close()
    client.close()
    sys.exit(0 if got >= n else 1)


WORKERS = {
    "produce": lambda a: worker_produce(a.bootstrap, a.topic, a.file),
    "consume": lambda a: worker_consume(a.bootstrap, a.topic, a.n, a.partitions),
    "produce_same": lambda a: worker_produce_same(
        a.bootstrap, a.topic, a.file, a.redis_url, a.prefix
    ),
    "consume_same": lambda a: worker_consume_same(
        a.bootstrap, a.topic, a.n, a.partitions, a.redis_url, a.prefix
    ),
}
# What `python -c` runs: this module's main, found beside scripts/bench.
_LAUNCH = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r}); "
    "from benchlib.raw_workers import main; main(sys.argv[1:])"
)


def command(kind: str, **options: object) -> list[str]:
    """The argv running worker `kind` as its own process; options become flags
    (redis_url= -> --redis-url)."""
    flags = [arg for k, v in options.items() for arg in (f"--{k.replace('_', '-')}", str(v))]
    return [sys.executable, "-c", _LAUNCH, kind, *flags]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchlib.raw_workers")
    parser.add_argument("kind", choices=WORKERS)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--file")
    parser.add_argument("--n", type=int)
    parser.add_argument("--partitions", type=int)
    parser.add_argument("--redis-url")
    parser.add_argument("--prefix")
    args = parser.parse_args(argv)
    WORKERS[args.kind](args)
    sys.exit(0)
