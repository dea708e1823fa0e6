"""How results look: a few lines or a table for people, one JSON document for machines."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kafkaredis_cli.cli.console import out, print_json
from kafkaredis_cli.domain.encodings import Encoding, show
from kafkaredis_cli.domain.message_json import consumed_to_json, encode_bytes
from kafkaredis_cli.domain.records import iso
from kafkaredis_cli.formatting import ms, ms_json

if TYPE_CHECKING:  # annotations only: not loaded for --help
    from rich.table import Table

    from kafkaredis_cli.domain.commands import BatchResult, ProduceResult
    from kafkaredis_cli.domain.messages import ConsumedRecord
    from kafkaredis_cli.domain.ports import CacheEntry, CacheSummary
    from kafkaredis_cli.keys import KeySpace


def produce_result(
    result: ProduceResult, keys: KeySpace, as_json: bool, replay_of: str | None = None
) -> None:
    cache_key = keys.message(result.id) if result.cached else None
    if as_json:
        print_json(
            {
                **({"replay_of": replay_of} if replay_of else {}),
                "id": result.id,
                "topic": result.topic,
                "partition": result.partition,
                "offset": result.offset,
                "sent_at": result.sent_at_ms,
                "delivered_at": result.delivered_at_ms,
                "delivery_ms": ms_json(result.delivery_ms),
                "cached": result.cached,
                "cache_key": cache_key,
                "cache_error": result.cache_error,
                "verified": result.verified,
                "verify_error": result.verify_error,
                "round_trip_ms": ms_json(result.round_trip_ms),
            }
        )
        return
    lines = [
        f"delivered  {result.topic} partition {result.partition} offset {result.offset}",
        f"id         {result.id}",
        *([f"replay of  {replay_of}"] if replay_of else []),
        f"sent       {iso(result.sent_at_ms)}  (delivery {ms(result.delivery_ms)})",
    ]
    if result.cached:
        lines.append(f"cached     {cache_key}")
    elif result.cache_error:
        lines.append(f"cached     NO: {result.cache_error}")
    else:
        lines.append("cached     no (--no-cache)")
    if result.verified:
        lines.append(f"verified   read back in {ms(result.round_trip_ms)}")
    elif result.verified is False:
        lines.append(f"verified   NO: {result.verify_error}")
    else:
        lines.append("verified   not asked (--no-verify)")
    if result.cache_error or result.verify_error:  # a library's text: rich makes it safe
        out.print("\n".join(lines), markup=False)
    else:  # names checked when parsed, ids, numbers: no need to load rich for them
        sys.stdout.write("\n".join(lines) + "\n")


def batch_result(result: BatchResult, as_json: bool) -> None:
    data: dict[str, Any] = {
        "read": result.read,
        "sent": result.sent,
        "delivered": result.delivered,
        "failed": result.failed,
        "unknown_outcome": result.unknown,
        "not_sent": result.not_sent,
        "cached": result.cached,
        "cache_failed": result.cache_failed,
        "verified": result.verified if result.verify_asked and not result.interrupted else None,
        "elapsed_s": round(result.elapsed_s, 3),
        "msg_per_s": round(result.rate, 1),
        "errors": list(result.errors),
        "interrupted": result.interrupted,
        "input_error": result.input_error,
    }
    if as_json:
        print_json(data)
        return
    if result.interrupted:
        verified = "skipped (interrupted)"
    else:
        verified = f"{result.verified:,}" if result.verify_asked else "not asked"
    not_sent = f"not sent {result.not_sent:,}  " if result.not_sent else ""
    out.print(
        f"sent {result.sent:,}  delivered {result.delivered:,}  failed {result.failed:,}  "
        f"unknown outcome {result.unknown:,}  {not_sent}cached {result.cached:,}  "
        f"cache failed {result.cache_failed:,}  verified {verified}  "
        f"({result.rate:,.0f} msg/s in {result.elapsed_s:.2f}s)",
        markup=False,
    )
    for text in result.errors:
        out.print(f"  error: {text}", markup=False)


def _text(raw: bytes | None) -> str:
    text, b64 = encode_bytes(raw)
    if text is None:
        return "null"
    return f"base64:{text}" if b64 else text


def consumed_json(
    record: ConsumedRecord, key_encoding: Encoding, value_encoding: Encoding
) -> dict[str, Any]:
    """The JSON line's object. Text keeps non-UTF-8 keys and values as base64, marked in
    "encoding" (so the line reads back as it was); hex and base64 are marked likewise."""
    data = consumed_to_json(record)
    for name, raw, encoding in (
        ("key", record.key, key_encoding),
        ("value", record.value, value_encoding),
    ):
        if encoding is not Encoding.text and raw is not None:
            data[name] = show(raw, encoding)
            data["encoding"] = {**data.get("encoding", {}), name: encoding.value}
    return data


def consumed_table_line(
    record: ConsumedRecord, key_encoding: Encoding, value_encoding: Encoding
) -> str:
    """topic[partition]@offset, time, key, headers, value; non-UTF-8 and control bytes
    escaped (\\xff), so nothing a message holds can drive the terminal."""
    headers = ",".join(f"{k}={_shown(v, Encoding.text)}" for k, v in record.user_headers)
    return (
        f"{record.topic}[{record.partition}]@{record.offset}  {iso(record.timestamp_ms)}  "
        f"key={_shown(record.key, key_encoding)}  "
        f"{('headers=' + headers + '  ') if headers else ''}"
        f"{_shown(record.value, value_encoding)}\n"
    )


def consumed_writer(
    fmt: str, key_encoding: Encoding, value_encoding: Encoding
) -> Callable[[Sequence[ConsumedRecord]], None]:
    """What `consume` hands each fetch's records to: plain buffered writes in every format
    (no rich per line), flushed once a fetch. Raw values and table lines are joined into
    one write; JSON lines are written one by one (measured: joining orjson's bytes first
    costs more than it saves)."""
    if fmt == "raw":
        write_bytes = sys.stdout.buffer.write
        if value_encoding is Encoding.text:

            def raw(records: Sequence[ConsumedRecord]) -> None:
                write_bytes(b"\n".join([r.value or b"" for r in records]) + b"\n")
                _flush()

            return raw

        def raw_encoded(records: Sequence[ConsumedRecord]) -> None:
            values = [show(r.value or b"", value_encoding) for r in records]
            write_bytes(("\n".join(values) + "\n").encode("ascii"))
            _flush()

        return raw_encoded
    if fmt == "json":
        import orjson  # ~20x the standard library's encoder on these small objects

        write_bytes = sys.stdout.buffer.write
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE

        def as_json(records: Sequence[ConsumedRecord]) -> None:
            for r in records:
                write_bytes(dumps(consumed_json(r, key_encoding, value_encoding), option=newline))
            _flush()

        return as_json
    write = sys.stdout.write

    def as_table(records: Sequence[ConsumedRecord]) -> None:
        # one write a fetch: measured 0.2-0.4 us a line less than a write each
        write("".join([consumed_table_line(r, key_encoding, value_encoding) for r in records]))
        _flush()

    return as_table


def _shown(raw: bytes | None, encoding: Encoding) -> str:
    return "null" if raw is None else show(raw, encoding)


def _flush() -> None:
    """After each fetch's lines: lines are not flushed one by one."""
    sys.stdout.flush()
    sys.stdout.buffer.flush()


def _ttl(ttl_s: int | None) -> str:
    return "none" if ttl_s is None else f"{ttl_s}s"


def cache_entry(entry: CacheEntry, as_json: bool) -> None:
    if as_json:
        data: dict[str, Any] = {"key": entry.key, "type": entry.type, "ttl_s": entry.ttl_s}
        if entry.via:
            data["via"] = entry.via
        if entry.record is not None:
            data["record"] = entry.record.to_json()
        else:
            data["value"] = entry.value
        print_json(data)
        return
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("key", entry.key)
    if entry.via:
        table.add_row("via", entry.via)
    table.add_row("type", entry.type)
    table.add_row("ttl", _ttl(entry.ttl_s))
    record = entry.record
    if record is not None:
        table.add_row("id", record.id)
        table.add_row("topic", record.topic)
        table.add_row("partition", str(record.partition))
        table.add_row("offset", str(record.offset))
        table.add_row("key", _text(record.key))
        table.add_row("value", _text(record.value))
        for name, value in record.headers:
            table.add_row(f"header {name}", _text(value))
        table.add_row("status", record.status.value)
        table.add_row("sent", iso(record.sent_at_ms))
        table.add_row("delivered", iso(record.delivered_at_ms))
        table.add_row("consumed", iso(record.consumed_at_ms))
        table.add_row("latency", ms(record.latency_ms))
    else:
        table.add_row("value", str(entry.value))
    print_table(table)


def print_table(table: Table) -> None:
    """A table on stdout; piped or captured, at its natural width (nothing folded or cut)."""
    out.print(table, width=None if out.is_terminal else 1_000_000)


def cache_list(entries: list[CacheEntry], as_json: bool) -> None:
    if as_json:
        print_json(
            [{"key": e.key, "type": e.type, "ttl_s": e.ttl_s, **(e.value or {})} for e in entries]
        )
        return
    from rich.table import Table

    table = Table("key", "type", "ttl", "topic", "partition", "offset", "status")
    table.columns[0].no_wrap = True
    for e in entries:
        info = e.value or {}
        status = info.get("status")
        if "id" in info and status is None:
            status = f"latest: {info['id']}"
        table.add_row(
            e.key,
            e.type,
            _ttl(e.ttl_s),
            str(info.get("topic", "")),
            str(info.get("partition", "")),
            str(info.get("offset", "")),
            status or "",
        )
    print_table(table)
    out.print(f"{len(entries)} key(s)", markup=False)


def cache_summary(summary: CacheSummary, as_json: bool) -> None:
    data = {
        "prefix": summary.prefix,
        "keys": summary.keys,
        "by_kind": dict(summary.by_kind),
        "with_ttl": summary.with_ttl,
        "without_ttl": summary.without_ttl,
        "min_ttl_s": summary.min_ttl_s,
        "max_ttl_s": summary.max_ttl_s,
        "memory_bytes": summary.memory_bytes,
        "server_memory_bytes": summary.server_memory_bytes,
        "server_version": summary.server_version,
        "mode": summary.mode,
        "nodes": [dict(n) for n in summary.nodes],
    }
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("prefix", f"{summary.prefix}:")
    table.add_row("keys", f"{summary.keys:,}")
    for kind, count in sorted(summary.by_kind.items()):
        table.add_row(f"  {kind}", f"{count:,}")
    table.add_row(
        "with TTL",
        f"{summary.with_ttl:,} (min {_ttl(summary.min_ttl_s)}, max {_ttl(summary.max_ttl_s)})",
    )
    table.add_row("without TTL", f"{summary.without_ttl:,}")
    table.add_row("memory (keys)", f"{(summary.memory_bytes or 0):,} bytes")
    table.add_row("memory (server)", f"{(summary.server_memory_bytes or 0):,} bytes")
    table.add_row("redis", f"{summary.server_version or '?'} ({summary.mode})")
    if len(summary.nodes) > 1:
        for node in summary.nodes:
            table.add_row(
                f"  {node['node']}",
                f"{node['keys']:,} keys, {node['memory_bytes']:,} bytes",
            )
    print_table(table)
