"""What the independent consumer read, counted: every probe's arrival (first, duplicate,
or late: read after its tick counted it lost); other messages count as not probes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kafkaredis_cli.canary.figures import Where
from kafkaredis_cli.canary.ledger import Seen
from kafkaredis_cli.canary.probe import Probe
from kafkaredis_cli.canary.reports import Arrival
from kafkaredis_cli.canary.statistics import RunStatistics
from kafkaredis_cli.domain.messages import ConsumedRecord


def count_arrivals(
    records: Iterable[ConsumedRecord],
    stats: RunStatistics,
    where_of: Callable[[str, int], Where],
) -> tuple[Arrival, ...]:
    """Record each probe's arrival in `stats`; returns the duplicates and late ones."""
    found: list[Arrival] = []
    for record in records:
        probe = Probe.from_message(record.topic, record.value, record.headers, record.partition)
        if probe is None:
            stats.ledger.not_probes += 1
            continue
        where = where_of(record.topic, record.partition)
        was_lost = stats.is_pending(probe.topic, probe.seq)
        seen = stats.record_arrival(probe.producer_id, where, probe.seq, probe.stream_seq)
        late = seen is Seen.FIRST and was_lost
        if seen is Seen.DUPLICATE or late:
            what = "late" if late else "duplicate"
            found.append(
                Arrival(topic=probe.topic, partition=where.partition, seq=probe.seq, what=what)
            )
    return tuple(found)
