"""Group membership (rebalance callbacks, --from only where nothing is committed, commit
on revoke) on a stand-in for confluent-kafka's Consumer; records marked once they appear."""

from __future__ import annotations

from typing import Any

import confluent_kafka as ck
import pytest

from kafkaredis_cli.adapters.kafka_consumer import KafkaConsumerAdapter
from kafkaredis_cli.adapters.kafka_group import (
    GroupMembership,
    is_incremental,
    rejoins_after_revoke,
)
from kafkaredis_cli.domain.messages import OutgoingMessage, stamp
from kafkaredis_cli.domain.ports import ConsumedUpdate
from kafkaredis_cli.domain.positions import Start, StartKind
from kafkaredis_cli.domain.records import MessageRecord, Status
from kafkaredis_cli.errors import KafkaError
from kafkaredis_cli.handlers.late_records import LateRecords
from tests.fakes import FakeStore


class StandInConsumer:
    """What GroupMembership calls on a confluent_kafka.Consumer, recorded."""

    def __init__(self, committed: dict[int, int] | None = None) -> None:
        self.committed_offsets = dict(committed or {})
        self.assigned: list[tuple[int, int]] = []
        self.calls: list[str] = []
        self.refuse_commits_with: int | None = None
        self.commits: list[dict[int, int]] = []

    def committed(self, tps: list[Any], timeout: float) -> list[Any]:
        return [
            ck.TopicPartition(
                tp.topic, tp.partition, self.committed_offsets.get(tp.partition, -1001)
            )
            for tp in tps
        ]

    watermarks: dict[int, tuple[int, int]] = {}  # noqa: RUF012 - set per test

    def get_watermark_offsets(self, tp: Any, timeout: float) -> tuple[int, int]:
        return self.watermarks[tp.partition]

    def assign(self, tps: list[Any]) -> None:
        self.calls.append("assign")
        self.assigned = [(tp.partition, tp.offset) for tp in tps]

    def incremental_assign(self, tps: list[Any]) -> None:
        self.calls.append("incremental_assign")
        self.assigned += [(tp.partition, tp.offset) for tp in tps]

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        if self.refuse_commits_with is not None:
            raise ck.KafkaException(ck.KafkaError(self.refuse_commits_with))
        self.commits.append({tp.partition: tp.offset for tp in offsets})


def tps(*partitions: int) -> list[Any]:
    return [ck.TopicPartition("t", p) for p in partitions]


def membership(
    start: Start | None = None, incremental: bool = False
) -> tuple[GroupMembership, set[tuple[str, int]], set[tuple[str, int]]]:
    assigned: set[tuple[str, int]] = set()
    at_eof: set[tuple[str, int]] = set()

    def positions(partitions: list[Any], start: Start) -> list[Any]:
        assert start.kind is StartKind.BEGINNING
        return [ck.TopicPartition(tp.topic, tp.partition, ck.OFFSET_BEGINNING) for tp in partitions]

    group = GroupMembership("g", start, assigned, at_eof, {}, positions, 1.0, incremental)
    return group, assigned, at_eof


def test_from_applies_only_to_partitions_the_group_has_not_committed() -> None:
    group, assigned, _ = membership(Start(StartKind.BEGINNING))
    consumer = StandInConsumer(committed={0: 40, 2: 7})
    group.on_assign(consumer, tps(0, 1, 2, 3))
    assert consumer.assigned == [
        (0, ck.OFFSET_INVALID),  # committed: resumes at its committed offset
        (1, ck.OFFSET_BEGINNING),
        (2, ck.OFFSET_INVALID),
        (3, ck.OFFSET_BEGINNING),
    ]
    assert assigned == {("t", p) for p in range(4)}


def test_an_eager_rebalance_replaces_the_assignment_and_waits_for_the_next() -> None:
    group, assigned, at_eof = membership()
    consumer = StandInConsumer()
    group.on_assign(consumer, tps(0, 1, 2))
    at_eof.update({("t", 0), ("t", 1)})
    group.on_revoke(consumer, tps(0, 1, 2))
    assert not assigned and not at_eof and group.has_assignment is False
    assert group.rebalances == 2  # assigned, then revoked
    group.on_assign(consumer, tps(1))
    assert assigned == {("t", 1)} and group.has_assignment is True
    assert consumer.calls == ["assign", "assign"]


def test_a_cooperative_rebalance_adds_and_removes_partitions() -> None:
    group, assigned, _ = membership(incremental=True)
    consumer = StandInConsumer()
    group.on_assign(consumer, tps(0, 1))
    group.on_assign(consumer, tps(2))
    group.on_revoke(consumer, tps(0))
    # Partition 0 goes to another member in the rebalance that follows: until it ends
    # (with an assignment callback, maybe empty), this member is not settled.
    assert assigned == {("t", 1), ("t", 2)} and group.has_assignment is False
    group.on_assign(consumer, [])
    assert assigned == {("t", 1), ("t", 2)} and group.has_assignment is True
    assert consumer.calls == ["incremental_assign"] * 3
    assert is_incremental({"partition.assignment.strategy": "cooperative-sticky"})
    assert is_incremental({"group.protocol": "consumer"})
    assert not is_incremental({"partition.assignment.strategy": "range,roundrobin"})


def test_a_commit_refused_by_a_rebalance_is_made_on_revoke() -> None:
    group, _, _ = membership()
    consumer = StandInConsumer()
    group.on_assign(consumer, tps(0, 1))
    consumer.refuse_commits_with = ck.KafkaError.REBALANCE_IN_PROGRESS
    group.commit(consumer, {("t", 0): 10})  # not an error: kept for the revoke
    group.commit(consumer, {("t", 1): 5, ("t", 0): 12})
    assert group.uncommitted == {("t", 0): 12, ("t", 1): 5}
    consumer.refuse_commits_with = None
    group.on_revoke(consumer, tps(0, 1))
    assert consumer.commits == [{0: 12, 1: 5}]
    assert group.uncommitted == {}


def test_a_member_keeping_its_partitions_commits_what_a_rebalance_refused() -> None:
    group, _, _ = membership(incremental=True)
    consumer = StandInConsumer()
    group.on_assign(consumer, tps(0, 1))
    consumer.refuse_commits_with = ck.KafkaError.REBALANCE_IN_PROGRESS
    group.commit(consumer, {("t", 0): 10})
    assert group.commits_settled(consumer) is False  # still refused: not settled
    consumer.refuse_commits_with = None
    assert group.commits_settled(consumer) is True  # no revoke came: committed anyway
    assert consumer.commits == [{0: 10}]
    assert group.commits_settled(consumer) is True and consumer.commits == [{0: 10}]


def test_a_commit_failing_for_another_reason_is_an_error() -> None:
    group, _, _ = membership()
    consumer = StandInConsumer()
    consumer.refuse_commits_with = ck.KafkaError.GROUP_AUTHORIZATION_FAILED
    with pytest.raises(KafkaError, match="commit offsets for group 'g'"):
        group.commit(consumer, {("t", 0): 1})


# -- records that appear after their message was consumed ------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record_of(message_id: str) -> MessageRecord:
    from kafkaredis_cli.domain.messages import DeliveryReport, StampedMessage

    stamped = StampedMessage(message_id, "t", 1, OutgoingMessage(b"v"))
    return MessageRecord.from_delivery(DeliveryReport(stamped, 2, 0, 0))


def updates(n: int) -> list[ConsumedUpdate]:
    return [
        ConsumedUpdate(stamp("t", OutgoingMessage(b"v")).id, 100, 1.0, Status.CONSUMED)
        for _ in range(n)
    ]


def test_a_record_written_after_its_message_was_consumed_is_marked_once_it_appears() -> None:
    store, clock = FakeStore([]), Clock()
    late = LateRecords(store, grace_s=10, retry_every_s=1, clock=clock)
    batch = updates(4)
    store.save([record_of(u.id) for u in batch[:1]], 60)
    assert late.mark(batch) == 1 and late.no_record == 3
    store.save([record_of(u.id) for u in batch[1:3]], 60)  # the producer's write lands
    assert late.retry() == 0  # not yet: at most once a second
    clock.now = 1.0
    assert late.retry() == 2 and late.no_record == 1
    assert {store.records[u.id].status for u in batch[:3]} == {Status.CONSUMED}
    clock.now = 11.0  # the last one never comes: given up after the grace
    assert late.retry() == 0 and late.no_record == 1 and late.given_up == 1
    assert late.retry(now=True) == 0  # nothing left waiting


def test_waiting_updates_are_bounded() -> None:
    store = FakeStore([])
    late = LateRecords(store, max_waiting=5, clock=Clock())
    late.mark(updates(4))
    late.mark(updates(4))  # over the bound: counted at once, not kept
    assert late.no_record == 8 and late.given_up == 4


def test_an_end_of_partition_from_before_a_rebalance_is_not_believed() -> None:
    """Reported at their end: 0 (read to 50), 1 (committed at 50 by another member),
    2 (empty), 3 (nothing read or committed, 50 messages: an outdated end) ."""
    group, _, _ = membership()
    consumer = StandInConsumer(committed={1: 50})
    group._consumed[("t", 0)] = 50  # what the adapter read
    consumer.watermarks = {0: (0, 50), 1: (0, 50), 2: (7, 7), 3: (0, 50)}
    keys = {("t", p) for p in range(4)}
    assert group.really_at_end(consumer, keys) == {("t", 0), ("t", 1), ("t", 2)}


def test_from_end_puts_a_partition_at_its_end_before_anything_is_read() -> None:
    group, _, _ = membership(Start(StartKind.END))
    consumer = StandInConsumer()
    group._positions = lambda tps, start: [  # type: ignore[method-assign]
        ck.TopicPartition(tp.topic, tp.partition, ck.OFFSET_END) for tp in tps
    ]
    group.on_assign(consumer, tps(0))
    consumer.watermarks = {0: (0, 50)}
    assert group.really_at_end(consumer, {("t", 0)}) == {("t", 0)}


def test_what_was_read_before_a_partition_came_back_does_not_count() -> None:
    group, _, _ = membership()
    consumer = StandInConsumer()  # nothing committed: its commits were refused
    group._consumed[("t", 5)] = 50
    consumer.watermarks = {5: (0, 50)}
    group.on_assign(consumer, tps(5))  # back, from the (missing) committed offset
    assert group.really_at_end(consumer, {("t", 5)}) == set()


def cooperative_adapter(
    consumer: StandInConsumer, start: Start | None = None
) -> tuple[KafkaConsumerAdapter, GroupMembership]:
    """A consumer adapter in a cooperative group on the stand-in, as `follow` makes it
    (topic t of 3 partitions, 50 records each), asking the brokers at every at_end."""
    adapter = KafkaConsumerAdapter({"bootstrap.servers": "127.0.0.1:1"}, 1.0)
    adapter._consumer = consumer  # type: ignore[assignment]
    group = adapter._membership = GroupMembership(
        "g",
        start,
        adapter._assigned,
        adapter._at_eof,
        adapter._next_offset,
        lambda tps, start: [ck.TopicPartition(tp.topic, tp.partition, ck.OFFSET_END) for tp in tps],
        1.0,
        incremental=True,
    )
    group.topic_partitions = {("t", 0), ("t", 1), ("t", 2)}
    group.check_interval_s = 0.0
    consumer.watermarks = {0: (0, 50), 1: (0, 50), 2: (0, 50)}
    return adapter, group


def read_to_end(adapter: KafkaConsumerAdapter, consumer: StandInConsumer, *parts: int) -> None:
    """What fetch and the handler do: records up to 50 handled and committed, then the end."""
    for p in parts:
        adapter._next_offset[("t", p)] = 50
        adapter._at_eof.add(("t", p))
        consumer.committed_offsets[p] = 50


def test_members_at_their_end_stay_while_a_partition_is_handed_on() -> None:
    """The interleaving that left a partition unread (cooperative-sticky, three members):
    X holds 0 (read to its end) and 1 (nothing read yet); the group takes 1 from X for Y,
    who gets it only in the rebalance that follows X's revoke; Y and Z (2) are at the end
    of theirs. Had X left then, at the end of 0, and Y and Z too before that rebalance
    ended, partition 1 would have had no member and never been read."""
    consumer = StandInConsumer()  # what the brokers say, shared by X and Y
    x, x_group = cooperative_adapter(consumer)
    x_group.on_assign(consumer, tps(0, 1))
    read_to_end(x, consumer, 0)
    assert x.at_end() is False  # 1 is not read
    x_group.on_revoke(consumer, tps(1))
    assert x._assigned == {("t", 0)} <= x._at_eof
    assert x.at_end() is False  # 1 is on its way to a member: not before the next assignment
    x_group.on_assign(consumer, [])  # the next rebalance gave 1 to Y
    y, y_group = cooperative_adapter(consumer)
    y_group.on_assign(consumer, tps(2))
    read_to_end(y, consumer, 2)
    # Both at the end of their own; Y's callback has not come yet (its poll, or its
    # heartbeat, is behind): neither leaves while partition 1 is unread.
    assert x.at_end() is False and y.at_end() is False
    y_group.on_assign(consumer, tps(1))
    assert y.at_end() is False
    read_to_end(y, consumer, 1)
    assert y.at_end() is True and x.at_end() is True


def test_a_partition_from_end_is_committed_there_so_the_others_do_not_wait_on_it() -> None:
    consumer = StandInConsumer()
    adapter, group = cooperative_adapter(consumer, Start(StartKind.END))
    group.on_assign(consumer, tps(0, 1, 2))
    adapter._at_eof |= {("t", 0), ("t", 1), ("t", 2)}
    assert adapter.at_end() is True
    assert consumer.commits == [{0: 50, 1: 50, 2: 50}]


def test_with_the_consumer_protocol_a_revoke_is_not_followed_by_an_assignment() -> None:
    """KIP-848: the member is told only of changes; waiting would never end."""
    assert rejoins_after_revoke({"partition.assignment.strategy": "cooperative-sticky"})
    assert not rejoins_after_revoke({"group.protocol": "consumer"})
    group, assigned, _ = membership(incremental=True)
    group._rejoins = False
    consumer = StandInConsumer()
    group.on_assign(consumer, tps(0, 1))
    group.on_revoke(consumer, tps(1))
    assert assigned == {("t", 0)} and group.has_assignment is True


class Message:
    def __init__(self, partition: int | None, topic: str | None = "t") -> None:
        self._topic, self._partition = topic, partition

    def topic(self) -> str | None:
        return self._topic

    def partition(self) -> int | None:
        return self._partition


def test_a_first_message_is_dropped_after_a_rebalance_only_if_it_moved_its_partition() -> None:
    """Cooperative: a message of a partition the member kept is not delivered again
    (librdkafka goes on after it): dropping it would skip it for good."""
    group, _, _ = membership(incremental=True)
    consumer = StandInConsumer()
    group.on_assign(consumer, tps(0, 1))
    seen = group.rebalances
    assert group.still_good(Message(0), seen) is True  # no rebalance in between
    group.touched.clear()  # as fetch does after its first poll
    group.on_assign(consumer, tps(2))
    group.on_revoke(consumer, tps(1))
    assert group.still_good(Message(0), seen) is True  # kept: not read again
    assert group.still_good(Message(1), seen) is False  # taken: its next owner reads it
    assert group.still_good(Message(2), seen) is False  # given (again): from committed
    assert group.still_good(Message(None, topic=None), seen) is False
    # Eager: every partition is revoked, so none is kept.
    eager, _, _ = membership()
    eager.on_assign(consumer, tps(0, 1))
    seen = eager.rebalances
    eager.touched.clear()
    eager.on_revoke(consumer, tps(0, 1))
    eager.on_assign(consumer, tps(0, 1))
    assert eager.still_good(Message(0), seen) is False
