"""A consumer's membership in a group: its assignment, where `--from` applies, and the
commits a rebalance must not lose."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.adapters.errors import from_kafka_exception, kafka_error_name
from kafkaredis_cli.adapters.kafka_group_end import GROUP_CHECK_S, names, unread
from kafkaredis_cli.domain.positions import Start

log = logging.getLogger("kafkaredis.kafka")

TopicPart = tuple[str, int]

# A commit refused because the group is rebalancing (or this member's generation is
# over): not a failure of the consumer. The offsets are kept and committed when the
# partitions are revoked (the member's generation still counts then); if that is too
# late as well, the partitions' next owner reads those records again (at-least-once).
REBALANCE_ERRORS = frozenset(
    {"REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "_ASSIGNMENT_LOST"}
)


def is_incremental(conf: Mapping[str, Any]) -> bool:
    """Does this consumer get its partitions incrementally (cooperative rebalancing, or
    the KIP-848 `consumer` group protocol) rather than all at once (eager)?"""
    strategy = str(conf.get("partition.assignment.strategy", ""))
    return "cooperative" in strategy or str(conf.get("group.protocol", "")) == "consumer"


def rejoins_after_revoke(conf: Mapping[str, Any]) -> bool:
    """Does a revoke always lead to another assignment callback (maybe empty)? With the
    classic protocol it does: the member rejoins at once and the rebalance that follows
    ends with one. (The KIP-848 `consumer` protocol calls back only for a change.)"""
    return str(conf.get("group.protocol", "classic")) != "consumer"


def _commit_now(consumer: Any, offsets: Mapping[TopicPart, int]) -> None:
    """Commit these next offsets synchronously (raises KafkaException)."""
    tps = [ck.TopicPartition(t, p, o) for (t, p), o in offsets.items()]
    consumer.commit(offsets=tps, asynchronous=False)


def _names(partitions: list[Any]) -> str:
    by_topic: dict[str, list[int]] = {}
    for tp in partitions:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return "; ".join(f"{t} [{', '.join(map(str, sorted(p)))}]" for t, p in by_topic.items())


class GroupMembership:
    """Rebalance callbacks of one subscribed consumer.

    `--from` (`start`) positions only the partitions the group has no committed offset
    for: a partition another member already read (and committed) is resumed where it
    left off, never rewound, whichever member receives it in a rebalance.
    """

    def __init__(
        self,
        group: str,
        start: Start | None,
        assigned: set[TopicPart],
        at_eof: set[TopicPart],
        consumed: dict[TopicPart, int],
        positions: Callable[[list[Any], Start], list[Any]],
        timeout_s: float,
        incremental: bool,
        rejoins: bool = True,
    ) -> None:
        self.group = group
        self._start = start
        self.assigned = assigned  # the adapter's own set, kept up to date here
        self._at_eof = at_eof
        self._consumed = consumed  # the adapter's next offset of each partition it read
        self._positions = positions
        self._timeout_s = timeout_s
        self._incremental = incremental
        # A revoke is followed by an assignment callback (classic protocol): until it
        # comes, partitions taken from this member may be on their way to one of the others
        # (cooperative: in the next rebalance), or to this one.
        self._rejoins = rejoins
        self.has_assignment = False  # an assignment (maybe empty) came since the last revoke
        self.touched: set[TopicPart] = set()  # partitions of the callbacks (a fetch clears)
        self.leaving = False  # set when the consumer closes: its last revoke
        self.uncommitted: dict[TopicPart, int] = {}  # next offsets a commit was refused for
        self.rebalances = 0  # assignments, revokes and losses so far (a fetch compares)
        self._started: dict[TopicPart, int] = {}  # where --from put a partition
        self._ended_with: set[TopicPart] = set()  # the partitions last said to be at the end
        self.topic_partitions: set[TopicPart] = set()  # all of the followed topic (follow sets)
        self.check_interval_s = GROUP_CHECK_S
        self._next_check = 0.0  # (monotonic) when at_end may ask the brokers again
        self._waiting_for: set[TopicPart] = set()  # the others' partitions last said unread

    # -- the callbacks (run inside poll/consume) -----------------------------------------
    def on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        for tp in partitions:  # (again) from its committed offset: read nothing yet
            self._started.pop((tp.topic, tp.partition), None)
            self._consumed.pop((tp.topic, tp.partition), None)
        if self._start is not None and partitions:
            partitions = self._positioned(consumer, partitions)
        try:
            if self._incremental:
                consumer.incremental_assign(partitions)
            else:
                consumer.assign(partitions)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"assignment in group {self.group!r}") from None
        keys = {(tp.topic, tp.partition) for tp in partitions}
        if self._incremental:
            self.assigned |= keys
        else:
            self.assigned.clear()
            self.assigned |= keys
        self._at_eof -= keys
        self.touched |= keys
        self.has_assignment = True
        self.rebalances += 1
        if partitions:
            log.info("group %r assigned this consumer %s", self.group, _names(partitions))
        elif self._incremental and self.assigned:
            log.info(  # (shows the follow-up of a revoke came)
                "group %r: a rebalance left this consumer's partitions as they were", self.group
            )
        if not self.assigned:
            log.warning(
                "group %r gave this consumer no partitions: its other members hold them "
                "all; waiting for an assignment",
                self.group,
            )

    def on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        keys = {(tp.topic, tp.partition) for tp in partitions}
        self.rebalances += 1
        if partitions:
            what = (
                "this consumer leaves, giving back"
                if self.leaving
                else "took back from this consumer"
            )
            log.info("group %r: %s %s", self.group, what, _names(partitions))
        self._commit_refused(consumer, keys)
        self._forget(keys)
        self._await_assignment()

    def on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        keys = {(tp.topic, tp.partition) for tp in partitions}
        self.rebalances += 1
        if any(k in self.uncommitted for k in keys):
            log.warning(
                "group %r: partitions lost before their offsets could be committed; their "
                "next owner reads those records again",
                self.group,
            )
        elif partitions:
            log.info("group %r: this consumer lost %s", self.group, _names(partitions))
        self._forget(keys)
        self._await_assignment()

    def _await_assignment(self) -> None:
        """After a revoke or a loss, not at the end until the next assignment: a
        cooperative member that gave partitions up rejoins at once, and they go to a
        member in the rebalance that follows. Leaving before it ends could take this
        member out of the group just when the others are at their end and leave too:
        those partitions would be left with no member, unread (eager: the same, the
        whole assignment)."""
        if not self._incremental or self._rejoins:
            self.has_assignment = False

    # -- commits -------------------------------------------------------------------------
    def commit(self, consumer: Any, offsets: Mapping[TopicPart, int]) -> None:
        """Commit the next offsets; a commit a rebalance refuses is kept for the revoke."""
        wanted = {**self.uncommitted, **offsets}
        try:
            _commit_now(consumer, wanted)
        except ck.KafkaException as exc:
            name = kafka_error_name(exc.args[0] if exc.args else None)
            if name not in REBALANCE_ERRORS:
                raise from_kafka_exception(
                    exc, f"commit offsets for group {self.group!r}"
                ) from None
            log.info("group %r is rebalancing: commit kept for the revoke [%s]", self.group, name)
            self.uncommitted = wanted
            return
        self.uncommitted = {}

    def commits_settled(self, consumer: Any) -> bool:
        """Retry the commit a rebalance refused; True once nothing is waiting for one.
        A member that keeps its partitions through the rebalance (cooperative) is never
        revoked: without this it could leave at the end with those offsets uncommitted."""
        if self.uncommitted:
            self.commit(consumer, {})
        return not self.uncommitted

    def _commit_refused(self, consumer: Any, keys: set[TopicPart]) -> None:
        due = {k: o for k, o in self.uncommitted.items() if k in keys}
        if not due:
            return
        try:
            _commit_now(consumer, due)
        except ck.KafkaException as exc:
            log.warning(
                "group %r: commit on revoke failed (%s); the next owner reads those records again",
                self.group,
                kafka_error_name(exc.args[0] if exc.args else None),
            )

    def _forget(self, keys: set[TopicPart]) -> None:
        self.touched |= keys
        self.assigned -= keys
        self._at_eof -= keys
        for key in keys:
            self.uncommitted.pop(key, None)

    def still_good(self, first: Any, seen: int) -> bool:
        """Is a first message (or end of partition) still good after the next consume
        call, when `seen` rebalances had happened before it? librdkafka drops what a
        rebalance made outdated within one call, not across two: one of a partition that a
        rebalance in the second call took or gave (again) is dropped (read again from the
        committed offset; an end reached again is reported again). One of a partition the
        member kept (cooperative) is not: librdkafka goes on after it, never to deliver it
        again."""
        if self.rebalances == seen:
            return True
        topic = first.topic()
        return bool(topic) and (topic, first.partition()) not in self.touched

    # -- the end of the assigned partitions ------------------------------------------------
    def check_due(self) -> bool:
        """Time to ask the brokers whether this member (and its group) is at the end? At
        once the first time, then at most every `check_interval_s` while it waits."""
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self.check_interval_s
        return True

    def group_at_end(self, consumer: Any) -> bool:
        """This member is at the end of its own partitions: has the group read (committed)
        the others to their end too? If not, the member stays: a partition a rebalance is
        handing on (cooperative: taken from one member, given to another only in the next
        rebalance) must find a member, and the members at their end would otherwise all
        leave before it does."""
        try:
            left = unread(consumer, self.topic_partitions - self.assigned, self._timeout_s)
        except ck.KafkaException as exc:  # not confirmed: at the end of its own, as before
            log.info("group %r: the other members' progress not known (%s)", self.group, exc)
            return True
        if left and left != self._waiting_for:
            log.info(
                "group %r: at the end of this consumer's partitions; waiting for the group "
                "to read %s to the end",
                self.group,
                names(left),
            )
        self._waiting_for = left
        return not left

    def ended(self) -> bool:
        """True; says once (INFO) which partitions this member leaves at their end."""
        if self.assigned != self._ended_with:
            self._ended_with = set(self.assigned)
            log.info(
                "group %r: every partition of this consumer is at its end: %s",
                self.group,
                ", ".join(f"{t} [{p}]" for t, p in sorted(self.assigned)),
            )
        return True

    def really_at_end(self, consumer: Any, partitions: set[TopicPart]) -> set[TopicPart]:
        """Of these partitions (each reported at its end), those this member did read to
        the end: where it consumed, committed or was put by --from is at the high
        watermark (or the partition is empty, or --from put it at the end). An
        end-of-partition event from before a rebalance that gave the partition back
        from an earlier offset is not believed: the member would stop short."""
        keys = sorted(partitions)
        try:
            tps = [ck.TopicPartition(t, p) for t, p in keys]
            consumed = self._consumed
            committed = {
                (tp.topic, tp.partition): tp.offset
                for tp in consumer.committed(tps, timeout=self._timeout_s)
            }
            marks = {
                key: consumer.get_watermark_offsets(
                    ck.TopicPartition(*key), timeout=self._timeout_s
                )
                for key in keys
            }
        except ck.KafkaException as exc:
            log.info("group %r: end of partitions not confirmed (%s)", self.group, exc)
            return set(partitions)  # as reported
        confirmed = set()
        unrecorded: dict[TopicPart, int] = {}
        for key in keys:
            low, high = marks[key]
            started = self._started.get(key)  # None: from the committed offset
            at_end_by_start = started == ck.OFFSET_END
            reached = max(
                consumed.get(key, -1),
                committed.get(key, -1),
                started if started is not None else -1,
            )
            if at_end_by_start or reached >= high or high <= low:
                confirmed.add(key)
                if high > low and committed.get(key, -1) < high and started is not None:
                    unrecorded[key] = high  # --from put it at the end: nothing read
        if unrecorded:  # the group's offset says so too: the other members wait on it
            self.commit(consumer, unrecorded)
        return confirmed

    # -- where --from applies ----------------------------------------------------------------
    def _positioned(self, consumer: Any, partitions: list[Any]) -> list[Any]:
        assert self._start is not None
        try:
            committed = consumer.committed(
                [ck.TopicPartition(tp.topic, tp.partition) for tp in partitions],
                timeout=self._timeout_s,
            )
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, f"committed offsets of group {self.group!r}") from None
        has_offset = {(tp.topic, tp.partition) for tp in committed if tp.offset >= 0}
        fresh = [tp for tp in partitions if (tp.topic, tp.partition) not in has_offset]
        if not fresh:
            return partitions
        moved = {(tp.topic, tp.partition): tp for tp in self._positions(fresh, self._start)}
        self._started.update((key, tp.offset) for key, tp in moved.items())
        if has_offset:
            log.info(
                "group %r: --from applies to %s only; the rest resume at their committed offsets",
                self.group,
                _names(fresh),
            )
        return [moved.get((tp.topic, tp.partition), tp) for tp in partitions]
