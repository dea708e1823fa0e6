"""The timer's statistics: counts per topic, partition and broker; late and duplicates."""

from __future__ import annotations

import pytest

from kafkaredis_cli.canary.figures import Where, percentile, reason_of
from kafkaredis_cli.canary.ledger import Seen
from kafkaredis_cli.canary.statistics import RunStatistics

ME = "me"
P0 = Where("t", 0, 1)  # partition 0, led by broker 1
P1 = Where("t", 1, 2)


class RecordingSink:
    def __init__(self) -> None:
        self.counts: list[tuple[str, Where]] = []
        self.observed: list[tuple[str, float]] = []
        self.successes: list[Where] = []

    def count(self, figure: str, where: Where) -> None:
        self.counts.append((figure, where))

    def observe(self, figure: str, where: Where, ms: float) -> None:
        self.observed.append((figure, ms))

    def succeeded(self, where: Where) -> None:
        self.successes.append(where)


def test_percentiles_of_few_samples_and_none():
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    values = sorted([1.0, 2.0, 3.0, 10.0])
    assert percentile(values, 50) == 2.0
    assert percentile(values, 95) == 10.0


def test_counts_land_in_the_total_the_topic_the_partition_and_the_broker():
    stats = RunStatistics(ME)
    for where, ok in ((P0, True), (P1, True), (P0, False)):
        stats.record_sent(where)
        stats.record_delivered(where, 1.0)
        if ok:
            stats.record_verified(where, 2.0)
        else:
            stats.record_lost(where, 2, "t[0]@7 not read back within 1.0s")
    assert (stats.sent, stats.verified, stats.lost) == (3, 2, 1)
    assert (stats.partitions[("t", 0)].sent, stats.partitions[("t", 0)].lost) == (2, 1)
    assert (stats.brokers[1].verified, stats.brokers[2].verified) == (1, 1)
    assert stats.brokers[1].last_error == "t[0]@7 not read back within 1.0s"
    assert stats.brokers[2].last_error is None
    assert stats.brokers_failing() == [1]
    data = stats.to_json()
    assert data["per_broker"]["1"]["lost"] == 1 and data["per_broker"]["2"]["lost"] == 0
    assert data["per_partition"]["t[0]"]["sent"] == 2
    assert data["brokers_failing"] == [1]
    assert stats.errors == {"t not read back within 1.0s": 1}


def test_a_lost_tick_whose_probe_arrives_later_is_late_not_lost():
    stats = RunStatistics(ME)
    sink = RecordingSink()
    stats.sink = sink
    stats.record_sent(P0)
    stats.record_produce_failed(P0, "no delivery report within 1s")
    stats.record_lost(P0, 0, "no delivery report within 1s")
    assert (stats.lost, stats.late) == (1, 0)
    # the independent consumer reads it later (the leader moved meanwhile: still counted
    # where the tick was lost)
    assert stats.record_arrival(ME, Where("t", 0, 3), seq=0, stream_seq=0) is Seen.FIRST
    assert (stats.lost, stats.late, stats.verified) == (0, 1, 0)
    assert (stats.brokers[1].lost, stats.brokers[1].late) == (0, 1)
    assert 3 not in stats.brokers
    assert ("late", P0) in sink.counts and ("lost", P0) in sink.counts
    # read again: a duplicate, and still late only once
    assert stats.record_arrival(ME, P0, seq=0, stream_seq=0) is Seen.DUPLICATE
    assert (stats.late, stats.duplicated, stats.brokers[1].duplicated) == (1, 1, 1)
    assert stats.sent == stats.verified + stats.late + stats.lost


def test_a_verified_probe_read_by_the_consumer_changes_nothing_until_read_twice():
    stats = RunStatistics(ME)
    stats.record_sent(P0)
    stats.record_verified(P0, 1.0)
    assert stats.record_arrival(ME, P0, 0, 0) is Seen.FIRST
    assert (stats.verified, stats.late, stats.duplicated) == (1, 0, 0)
    assert stats.record_arrival(ME, P0, 0, 0) is Seen.DUPLICATE
    assert stats.duplicated == 1


def test_other_producers_never_count_as_this_runs_loss_or_duplicates():
    stats = RunStatistics(ME)
    stats.record_sent(P0)
    stats.record_lost(P0, 0, "lost")
    for _ in range(2):  # another timer's seq 0 on the same partition, twice
        assert stats.record_arrival("other", P0, seq=0, stream_seq=0) is None
    assert (stats.lost, stats.late, stats.duplicated) == (1, 0, 0)
    assert stats.to_json()["other_producers"] == {"other": {"read": 1, "duplicated": 1, "gaps": 0}}


def test_lost_ticks_waiting_for_a_late_arrival_are_bounded():
    stats = RunStatistics(ME, max_pending=2)
    for seq in range(3):
        stats.record_sent(P0)
        stats.record_lost(P0, seq, "lost")
    assert not stats.is_pending("t", 0) and stats.is_pending("t", 2)
    stats.record_arrival(ME, P0, 0, 0)  # too long ago: stays lost
    assert (stats.lost, stats.late) == (3, 0)


def test_tick_counters_recent_window_and_json():
    stats = RunStatistics(ME, recent=3)
    stats.record_sent(P0)
    stats.record_delivered(P0, 1.5)
    stats.record_verified(P0, 3.0)
    stats.record_cache_failure(P0, "Redis at redis://h:1/0 unreachable")
    stats.record_tick(ok=False, round_trip_ms=3.0, skipped=2, late=True, overran=True)
    for _ in range(3):
        stats.record_tick(ok=True, round_trip_ms=1.0)
    data = stats.to_json()
    assert data["ticks"] == 4
    assert data["failed"] == 1
    assert data["cache_failed"] == 1 == data["per_broker"]["1"]["cache_failed"]
    assert (data["overruns"], data["skipped_slots"], data["late_ticks"]) == (1, 2, 1)
    assert data["latency_ms"]["delivery"]["p50"] == pytest.approx(1.5, rel=0.01)
    assert data["latency_ms"]["round_trip"]["max"] == 3.0
    assert list(stats.recent) == [1.0, 1.0, 1.0]  # only the last `recent` ticks
    assert stats.recent_percentiles() == (1.0, 1.0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("topic-a[3]@12 not read back within 0.5s", "topic-a not read back within 0.5s"),
        ("plain", "plain"),
    ],
)
def test_reason_of(text, reason):
    assert reason_of(text) == reason


def test_distinct_error_reasons_are_bounded(monkeypatch):
    from kafkaredis_cli.canary import statistics

    monkeypatch.setattr(statistics, "MAX_REASONS", 3)
    stats = RunStatistics(ME)
    for n in range(10):
        stats.record_error(f"reason {n}")
    assert len(stats.errors) == 4
    assert stats.errors["other errors"] == 7 and stats.last_error == "reason 9"
