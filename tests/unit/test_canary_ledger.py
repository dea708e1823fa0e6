"""The independent consumer's bookkeeping: duplicates, gaps and other producers' streams."""

from __future__ import annotations

from kafkaredis_cli.canary import ledger as ledger_module
from kafkaredis_cli.canary.ledger import Ledger, Seen, Stream


def observe_all(stream: Stream, seqs: list[int]) -> list[Seen]:
    return [stream.observe(seq) for seq in seqs]


def test_in_order_no_gaps_no_duplicates():
    stream = Stream()
    assert set(observe_all(stream, list(range(10)))) == {Seen.FIRST}
    assert (stream.read, stream.duplicated, stream.gaps) == (10, 0, 0)


def test_a_sequence_read_twice_is_a_duplicate_even_out_of_order():
    stream = Stream()
    # a non-idempotent retry after a leader change: 16,17,18,18,17 (from the issue)
    seen = observe_all(stream, [*range(16), 16, 17, 18, 18, 17])
    assert seen[-2:] == [Seen.DUPLICATE, Seen.DUPLICATE]
    assert (stream.read, stream.duplicated, stream.gaps) == (19, 2, 0)


def test_a_gap_is_counted_and_closes_when_the_sequence_turns_up():
    stream = Stream()
    observe_all(stream, [0, 1, 4, 5])
    assert stream.gaps == 2 and stream.missing == {2, 3}
    stream.observe(3)  # out of order, not lost
    assert stream.gaps == 1 and stream.read == 5


def test_memory_stays_bounded_over_a_long_stream_and_old_gaps_stay_counted(monkeypatch):
    monkeypatch.setattr(ledger_module, "WINDOW", 50)
    stream = Stream()
    for seq in range(10_000):
        if seq not in (7, 5000):
            stream.observe(seq)
    assert stream.gaps == 2
    assert len(stream.seen) <= 2 * 50 + 1
    assert stream.observe(3) is Seen.TOO_OLD
    assert stream.observe(9998) is Seen.DUPLICATE
    # a jump far ahead: what is skipped is a gap, without remembering each number
    stream.observe(10_000_000)
    assert stream.gaps == 2 + (10_000_000 - 10_000)
    assert len(stream.missing) <= 50


def test_streams_are_per_producer_topic_and_partition():
    ledger = Ledger("me")
    assert ledger.observe("me", "t", 0, 0).seen is Seen.FIRST
    assert ledger.observe("me", "t", 1, 0).seen is Seen.FIRST  # another partition
    assert ledger.observe("other", "t", 0, 0).seen is Seen.FIRST  # another producer
    observation = ledger.observe("other", "t", 0, 0)
    assert observation.seen is Seen.DUPLICATE and observation.own is False
    assert ledger.gaps == 0


def test_another_producers_stream_starts_where_it_was_first_read():
    ledger = Ledger("me")
    ledger.observe("other", "t", 0, 500)  # joined mid-run: no gap before 500
    ledger.observe("other", "t", 0, 502)
    assert ledger.others_json() == {"other": {"read": 2, "duplicated": 0, "gaps": 1}}
    ledger.observe("me", "t", 0, 2)  # ours start at 0: 0 and 1 are missing
    assert ledger.gaps == 2


def test_other_producers_streams_are_bounded(monkeypatch):
    monkeypatch.setattr(ledger_module, "MAX_OTHER_STREAMS", 3)
    ledger = Ledger("me")
    for n in range(10):
        ledger.observe(f"p{n}", "t", 0, 0)
    assert list(ledger.others_json()) == ["p7", "p8", "p9"]
