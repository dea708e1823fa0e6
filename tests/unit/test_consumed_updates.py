"""A record's update from its headers: kafkaredis's own headers first or anywhere, a
sent-at shared by many records, a bad or missing sent-at, messages of other producers."""

from __future__ import annotations

from kafkaredis_cli.domain.consumed_updates import consumed_update, updates_for
from kafkaredis_cli.domain.messages import ID_HEADER, SENT_AT_HEADER, ConsumedRecord, Headers
from kafkaredis_cli.domain.ports import ConsumedUpdate
from kafkaredis_cli.domain.records import Status


def record(headers: Headers, consumed_at: int = 5_000) -> ConsumedRecord:
    return ConsumedRecord("t", 0, 0, None, b"v", headers, None, consumed_at)


def test_leading_headers_user_headers_first_and_repeated_headers_give_the_same_update() -> None:
    ours = ((ID_HEADER, b"id-1"), (SENT_AT_HEADER, b"4000"))
    records = [
        record(ours),
        record((("user", b"x"), *ours)),  # found by the search, not the leading fast path
        record((ours[1], ours[0], (ID_HEADER, b"id-2"), (SENT_AT_HEADER, b"1"))),  # first wins
    ]
    expected = ConsumedUpdate("id-1", 5_000, 1000.0, Status.CONSUMED)
    assert updates_for(records, Status.CONSUMED) == [expected] * 3


def test_records_of_a_fetch_sharing_a_sent_at_and_records_consumed_later() -> None:
    headers = [((ID_HEADER, f"id-{i}".encode()), (SENT_AT_HEADER, b"4000")) for i in range(3)]
    records = [record(headers[0]), record(headers[1]), record(headers[2], consumed_at=6_000)]
    latencies = [u.latency_ms for u in updates_for(records, Status.VERIFIED)]
    assert latencies == [1000.0, 1000.0, 2000.0]  # the cache is per consumed time


def test_bad_or_missing_sent_at_has_no_latency_and_other_messages_change_nothing() -> None:
    records = [
        record(((ID_HEADER, b"a"), (SENT_AT_HEADER, b"soon"))),
        record(((ID_HEADER, b"b"),)),
        record((("user", b"x"),)),
        record(()),
        record(((ID_HEADER, b""), (SENT_AT_HEADER, b"1"))),
    ]
    updates = updates_for(records, Status.CONSUMED)
    assert [(u.id, u.latency_ms) for u in updates] == [("a", None), ("b", None)]
    assert all(type(u) is ConsumedUpdate for u in updates)


def test_consumed_update_decodes_the_id_and_works_out_the_latency() -> None:
    update = consumed_update(b"\xffid", b"1000", 1500, Status.VERIFIED)
    assert update == ConsumedUpdate("\ufffdid", 1500, 500.0, Status.VERIFIED)
