"""The timer's statistics on hand-made sequences: percentiles, loss by gap, duplicates."""

from __future__ import annotations

import pytest

from kafkaredis_cli.canary.statistics import Latency, RunStatistics, percentile, reason_of


def test_nearest_rank_percentiles_of_1_to_100():
    latency = Latency()
    for value in range(100, 0, -1):  # order of arrival does not matter
        latency.add(float(value))
    assert latency.percentile(50) == 50.0
    assert latency.percentile(95) == 95.0
    assert latency.percentile(99) == 99.0
    assert latency.max == 100.0
    assert latency.summary() == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0, "count": 100}


def test_percentiles_of_few_samples_and_none():
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    values = sorted([1.0, 2.0, 3.0, 10.0])
    assert percentile(values, 50) == 2.0
    assert percentile(values, 95) == 10.0
    assert Latency().summary()["p50"] is None


def test_reservoir_keeps_count_and_max_exact():
    latency = Latency(cap=10, seed=1)
    for value in range(1000):
        latency.add(float(value))
    assert latency.count == 1000
    assert latency.max == 999.0
    p50 = latency.percentile(50)
    assert p50 is not None and 0 <= p50 <= 999


def read_back(stats: RunStatistics, topic: str, seqs: list[int]) -> list[bool]:
    for seq in range(max(seqs) + 1):
        stats.record_sent(topic, seq)
    return [stats.record_read_back(topic, seq, 1.0) for seq in seqs]


def test_a_gap_in_sequence_numbers_is_loss():
    stats = RunStatistics()
    read_back(stats, "t", [0, 1, 4, 5])
    topic = stats.topics["t"]
    assert topic.lost_seqs == {2, 3}
    assert (stats.sent, stats.verified, stats.lost, stats.duplicated) == (6, 4, 2, 0)


def test_a_sequence_seen_twice_is_a_duplicate_and_not_verified_twice():
    stats = RunStatistics()
    fresh = read_back(stats, "t", [0, 1, 1, 2, 2, 2])
    assert fresh == [True, True, False, True, False, False]
    assert (stats.verified, stats.duplicated, stats.lost) == (3, 3, 0)
    assert stats.round_trip.count == 3  # a duplicate adds no latency sample


def test_a_lost_sequence_found_late_is_no_longer_lost():
    stats = RunStatistics()
    read_back(stats, "t", [0, 2])
    assert stats.lost == 1
    stats.record_read_back("t", 1)
    assert (stats.lost, stats.verified, stats.topics["t"].late) == (0, 3, 1)


def test_sequences_are_counted_per_topic():
    stats = RunStatistics()
    read_back(stats, "a", [0, 1, 2])
    read_back(stats, "b", [0, 2])
    assert stats.topics["a"].lost == 0
    assert stats.topics["b"].lost_seqs == {1}
    assert (stats.sent, stats.verified, stats.lost) == (6, 5, 1)


def test_tick_failures_are_lost_with_their_reason_and_never_counted_twice():
    stats = RunStatistics()
    for seq in range(5):
        stats.record_sent("t", seq)
    stats.record_read_back("t", 0, 2.0)
    stats.record_lost(
        "t", 1, "no delivery report for 01a2b3c4-0000-7000-8000-000000000001 within 1s"
    )
    stats.record_lost(
        "t", 2, "no delivery report for 01a2b3c4-0000-7000-8000-000000000002 within 1s"
    )
    stats.record_read_back("t", 3, 2.0)  # the gap (1, 2) is already lost: no double count
    stats.record_lost("t", 4, "t[0]@17 not read back within 1.0s")
    assert stats.sent == stats.verified + stats.lost == 5
    assert stats.lost == 3
    assert stats.errors == {
        "no delivery report for <id> within 1s": 2,
        "t not read back within 1.0s": 1,
    }
    assert stats.last_error == "t[0]@17 not read back within 1.0s"


def test_record_lost_after_read_back_does_not_make_it_lost():
    stats = RunStatistics()
    stats.record_sent("t", 0)
    stats.record_read_back("t", 0)
    stats.record_lost("t", 0, "late complaint")
    assert (stats.verified, stats.lost) == (1, 0)


def test_a_long_run_keeps_only_a_window_of_sequences():
    stats = RunStatistics(window=10)
    for seq in range(1000):
        stats.record_sent("t", seq)
        if seq in (5, 500):
            stats.record_lost("t", seq, "not read back")
        else:
            stats.record_read_back("t", seq, 1.0)
    topic = stats.topics["t"]
    assert (stats.sent, stats.verified, stats.lost) == (1000, 998, 2)
    assert len(topic.seen) + len(topic.lost_seqs) <= 21
    assert stats.record_read_back("t", 999) is False  # a recent duplicate is still seen
    assert stats.record_read_back("t", 3) is False  # too old to tell: not counted again
    assert (stats.verified, stats.duplicated, stats.lost) == (998, 1, 2)
    assert stats.sent == stats.verified + stats.lost


def test_tick_counters_and_json():
    stats = RunStatistics(recent=3)
    stats.record_sent("t", 0)
    stats.record_delivered("t", 0, 1.5, partition=0, offset=9)
    stats.record_read_back("t", 0, 3.0)
    stats.record_cache_failure("Redis at redis://h:1/0 unreachable")
    stats.record_tick(ok=False, round_trip_ms=3.0, skipped=2, late=True, overran=True)
    for _ in range(3):
        stats.record_tick(ok=True, round_trip_ms=1.0)
    data = stats.to_json()
    assert data["ticks"] == 4
    assert data["failed"] == 1
    assert data["cache_failed"] == 1
    assert (data["overruns"], data["skipped_slots"], data["late_ticks"]) == (1, 2, 1)
    assert data["latency_ms"]["delivery"]["p50"] == 1.5
    assert data["latency_ms"]["round_trip"]["max"] == 3.0
    assert data["per_topic"]["t"]["last_offset"] == 9
    assert list(stats.recent) == [1.0, 1.0, 1.0]  # only the last `recent` ticks


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("topic-a[3]@12 not read back within 0.5s", "topic-a not read back within 0.5s"),
        ("plain", "plain"),
    ],
)
def test_reason_of(text, reason):
    assert reason_of(text) == reason
