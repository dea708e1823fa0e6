"""The fixed-memory latency histogram: bucket bounds, percentile accuracy, cost."""

from __future__ import annotations

import random
import time

import pytest

from kafkaredis_cli.canary.figures import percentile
from kafkaredis_cli.canary.histogram import BUCKETS, LogHistogram, bucket_bounds, bucket_of


def test_every_value_falls_within_its_buckets_bounds_and_buckets_are_narrow():
    values = [*range(0, 5000), *range(5000, 10**7, 997), 2**40 - 1]
    for us in values:
        low, high = bucket_bounds(bucket_of(us))
        assert low <= us <= high
        assert high - low <= max(1, low / 64)
    assert bucket_of(2**45) == BUCKETS - 1  # beyond the range: the last bucket


def test_nearest_rank_percentiles_of_1_to_100_ms():
    latency = LogHistogram()
    for value in range(100, 0, -1):  # order of arrival does not matter
        latency.add(float(value))
    summary = latency.summary()
    assert summary["count"] == 100 and summary["max"] == 100.0
    for p in (50, 95, 99):
        assert summary[f"p{p}"] == pytest.approx(float(p), rel=0.008)
    assert LogHistogram().summary()["p50"] is None


def test_percentiles_agree_with_exact_ones_on_a_skewed_distribution():
    rng = random.Random(7)
    samples = [rng.lognormvariate(0.5, 1.2) for _ in range(50_000)]
    latency = LogHistogram()
    for value in samples:
        latency.add(value)
    exact = sorted(samples)
    for p in (1, 50, 90, 99, 99.9):
        expected = percentile(exact, p)
        assert latency.percentile(p) == pytest.approx(expected, rel=0.01, abs=0.001)
    assert latency.min == exact[0] and latency.max == exact[-1]
    assert latency.percentile(100) == exact[-1]


def test_memory_is_fixed_and_summarising_does_not_grow_with_the_samples():
    latency = LogHistogram()
    for value in range(1000):
        latency.add(value / 10)
    started = time.perf_counter()
    for _ in range(100):
        latency.summary()
    small = time.perf_counter() - started
    for value in range(200_000):
        latency.add((value % 1000) / 10)
    started = time.perf_counter()
    for _ in range(100):
        latency.summary()
    large = time.perf_counter() - started
    assert len(latency._counts) == BUCKETS
    assert large < small * 5 + 0.05  # same buckets in use: no cost per sample
