"""--to / relative --from parsing and the --filter-* matcher."""

from __future__ import annotations

import pytest

from kafkaredis_cli.domain.filters import MessageFilter
from kafkaredis_cli.domain.messages import ConsumedRecord
from kafkaredis_cli.domain.positions import End, EndKind, Start, StartKind, parse_time
from kafkaredis_cli.errors import UsageError

NOW = 1_700_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("NOW", NOW),
        ("-30s", NOW - 30_000),
        ("-15m", NOW - 900_000),
        ("-2h", NOW - 7_200_000),
        ("-1d", NOW - 86_400_000),
        ("-1w", NOW - 604_800_000),
        ("@123", 123),
        ("2023-11-14T22:13:20Z", NOW),
        ("2023-11-14T22:13:20", NOW),  # naive: UTC
        ("2023-11-14T23:13:20+01:00", NOW),
        ("-15", None),
        ("-15x", None),
        ("15m", None),
        ("soon", None),
    ],
)
def test_parse_time(text: str, expected: int | None) -> None:
    assert parse_time(text, now_ms=NOW) == expected


def test_to_and_from_take_offsets_and_times() -> None:
    assert End.parse("42") == End(EndKind.OFFSET, 42)
    assert End.parse("@5") == End(EndKind.TIMESTAMP, 5)
    assert End.parse("now").kind is EndKind.TIMESTAMP
    assert Start.parse("-10") == Start(StartKind.LAST, 10)  # still the last N
    assert Start.parse("-10m").kind is StartKind.TIMESTAMP
    for bad in ("-5", "end", "beginning", "1.5", ""):
        with pytest.raises(UsageError, match="--to"):
            End.parse(bad)


def record(
    key: bytes | None, value: bytes | None, *headers: tuple[str, bytes | None]
) -> ConsumedRecord:
    return ConsumedRecord("t", 0, 0, key, value, headers, None, 0)


def test_every_filter_must_match_and_null_matches_nothing() -> None:
    assert MessageFilter.parse(None, None, None) is None
    only = MessageFilter.parse("order-*", "*paid*", ["region=e?", "tier=[ab]"])
    assert only is not None
    good = record(b"order-1", b"is paid", ("region", b"eu"), ("tier", b"b"))
    assert only(good)
    assert not only(good._replace(key=b"user-1"))
    assert not only(good._replace(key=None))
    assert not only(good._replace(value=b"refund"))
    assert not only(good._replace(headers=(("region", b"eu"),)))
    assert not only(good._replace(headers=(("region", None), ("tier", b"a"))))
    # Any header of the name may match; a glob matches the whole value, byte by byte.
    two = good._replace(headers=(("region", b"us"), ("region", b"eu"), ("tier", b"a")))
    assert only(two)
    binary = MessageFilter.parse(None, "a?c", None)
    assert binary is not None and binary(record(None, b"a\xffc"))
    assert not binary(record(None, b"abcd"))
    with pytest.raises(UsageError, match="NAME=GLOB"):
        MessageFilter.parse(None, None, ["nothing"])


def test_the_handler_shows_matches_counts_them_and_commits_up_to_the_last_one() -> None:
    from kafkaredis_cli.domain.commands import ConsumeMessage
    from tests.fakes import fake_app

    app = fake_app()
    for i in range(10):
        app.broker.append("t", f"v{i}".encode(), key=b"hit" if i in (2, 5, 7) else b"miss")
    match = MessageFilter.parse("hit", None, None)
    shown: list[int] = []
    result = app.mediator.send(
        ConsumeMessage(
            topic="t",
            group="g",
            count=2,
            match=match,
            show=lambda rs: shown.extend(r.offset for r in rs),
        )
    )
    assert shown == [2, 5] and result.consumed == 2 and result.filtered_out == 4
    assert app.broker.committed[("g", "t", 0)] == 6  # right after the second match
    rest = app.mediator.send(ConsumeMessage(topic="t", group="g", exit_at_end=True, match=match))
    assert (rest.consumed, rest.filtered_out) == (1, 3)
    assert app.broker.committed[("g", "t", 0)] == 10  # filtered-out ones committed too
