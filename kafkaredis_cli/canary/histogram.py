"""A latency histogram in fixed memory: constant time to record, bounded time to summarise.

Values (milliseconds) are kept in microseconds, in log-linear buckets as HdrHistogram
does: exact below 128 µs, then 64 buckets per power of two, so a bucket is at most
1/64 (1.6 %) wide and a percentile read from its middle is within 0.8 % of a sample
it holds. 2,240 buckets cover 0 to 2^40 µs (12 days); larger values land in the last.
Recording is a few integer operations; a percentile walks only the buckets between
the smallest and the largest value seen (a cumulative sum in C, then a bisection).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from itertools import accumulate

from kafkaredis_cli.formatting import ms_json

_EXACT = 128  # values below this many µs have a bucket each
_HALF = _EXACT // 2  # buckets per power of two above that
_MAX_SHIFT = 33  # 2^40 µs
BUCKETS = _EXACT + _MAX_SHIFT * _HALF


def bucket_of(us: int) -> int:
    if us < _EXACT:
        return max(us, 0)
    shift = us.bit_length() - 7
    if shift > _MAX_SHIFT:
        return BUCKETS - 1
    return _EXACT + (shift - 1) * _HALF + ((us >> shift) - _HALF)


def bucket_bounds(index: int) -> tuple[int, int]:
    """The lowest and highest µs value that falls in bucket `index`."""
    if index < _EXACT:
        return index, index
    shift, mantissa = divmod(index - _EXACT, _HALF)
    shift += 1
    low = (mantissa + _HALF) << shift
    return low, low + (1 << shift) - 1


class LogHistogram:
    __slots__ = ("_counts", "_high", "_low", "count", "max", "min", "total")

    def __init__(self) -> None:
        self._counts = [0] * BUCKETS
        self._low = BUCKETS  # the lowest and highest bucket in use
        self._high = -1
        self.count = 0
        self.total = 0.0
        self.min: float | None = None
        self.max: float | None = None

    def add(self, ms: float) -> None:
        index = bucket_of(int(ms * 1000))
        self._counts[index] += 1
        if index < self._low:
            self._low = index
        if index > self._high:
            self._high = index
        self.count += 1
        self.total += ms
        if self.max is None or ms > self.max:
            self.max = ms
        if self.min is None or ms < self.min:
            self.min = ms

    def percentiles(self, *ps: float) -> list[float | None]:
        """Nearest-rank percentiles (ms): the middle of the bucket holding that rank,
        kept within the smallest and largest value recorded."""
        if not self.count:
            return [None] * len(ps)
        low = self._low
        cumulative = list(accumulate(self._counts[low : self._high + 1]))
        out: list[float | None] = []
        for p in ps:
            rank = min(max(math.ceil(p / 100 * self.count), 1), self.count)
            assert self.min is not None and self.max is not None
            if rank == self.count:  # the largest and smallest are kept exactly
                out.append(self.max)
            elif rank == 1:
                out.append(self.min)
            else:
                first, last = bucket_bounds(low + bisect_left(cumulative, rank))
                out.append(min(max((first + last) / 2000, self.min), self.max))
        return out

    def percentile(self, p: float) -> float | None:
        return self.percentiles(p)[0]

    def summary(self) -> dict[str, float | int | None]:
        p50, p95, p99 = self.percentiles(50, 95, 99)
        return {
            "p50": ms_json(p50),
            "p95": ms_json(p95),
            "p99": ms_json(p99),
            "max": ms_json(self.max),
            "count": self.count,
        }
