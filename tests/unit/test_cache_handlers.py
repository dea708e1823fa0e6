"""The cache commands through the mediator, on the in-memory store."""

from __future__ import annotations

from kafkaredis_cli.domain.cache_queries import DeleteCache, GetCacheEntry, InspectCache, ListCache
from kafkaredis_cli.domain.commands import ProduceBatch
from kafkaredis_cli.domain.messages import OutgoingMessage
from tests.fakes import fake_app


def filled(n: int = 5):  # type: ignore[no-untyped-def]
    app = fake_app()
    app.mediator.send(
        ProduceBatch(
            topic="t", messages=[OutgoingMessage(f"v{i}".encode()) for i in range(n)], verify=False
        )
    )
    return app


def test_get_finds_a_record_by_id_and_none_for_an_unknown_one() -> None:
    app = filled()
    some = next(iter(app.store.records.values()))
    entry = app.mediator.send(GetCacheEntry(key=some.id))
    assert entry is not None and entry.record is not None and entry.record.id == some.id
    assert app.mediator.send(GetCacheEntry(key="0190aaaa-0000-7000-8000-000000000000")) is None


def test_list_is_sorted_and_limited() -> None:
    app = filled()
    listed = app.mediator.send(ListCache(pattern="msg:*", limit=3))
    assert len(listed) == 3
    assert [e.key for e in listed] == sorted(e.key for e in listed)


def test_delete_by_id_and_by_pattern_counts_what_it_asked() -> None:
    app = filled()
    first = next(iter(app.store.records))
    done = app.mediator.send(DeleteCache(keys=(first,)))
    assert (done.deleted, done.asked) == (1, 1)
    assert app.mediator.send(GetCacheEntry(key=first)) is None
    rest = app.mediator.send(DeleteCache(pattern="msg:*"))
    assert rest.deleted == rest.asked == 4
    assert app.mediator.send(ListCache(pattern="msg:*")) == []


def test_inspect_counts_the_records() -> None:
    summary = filled(7).mediator.send(InspectCache())
    assert summary.by_kind.get("msg") == 7
