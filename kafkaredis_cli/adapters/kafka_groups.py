"""GroupAdmin on confluent-kafka's AdminClient: groups, committed offsets, watermarks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

import confluent_kafka as ck
from confluent_kafka.admin import OffsetSpec as _OffsetSpec  # type: ignore[attr-defined]

from kafkaredis_cli.adapters.errors import (
    describe_kafka_error,
    from_kafka_exception,
    kafka_error_name,
)
from kafkaredis_cli.adapters.kafka_group_admin import all_group_ids, group_configs
from kafkaredis_cli.adapters.kafka_metadata import KafkaMetadata
from kafkaredis_cli.domain.groups import (
    SHARE_UNKNOWN,
    GroupBusyError,
    GroupDetail,
    GroupInfo,
    MemberInfo,
    Watermarks,
)
from kafkaredis_cli.errors import KafkaError

T = TypeVar("T")
OffsetSpec: Any = _OffsetSpec  # untyped in confluent-kafka

# What the broker says when offsets are set on a group that has members.
_GROUP_BUSY = ("UNKNOWN_MEMBER_ID", "GROUP_SUBSCRIBED_TO_TOPIC", "REBALANCE_IN_PROGRESS")


def _enum_name(value: Any) -> str:
    """ConsumerGroupState.PREPARING_REBALANCING -> PreparingRebalancing."""
    name = getattr(value, "name", None) or str(value)
    return "".join(part.capitalize() for part in str(name).split("_"))


def _share_group(group: str) -> GroupInfo:
    return GroupInfo(group, "unknown", "share", 0, (), "share", SHARE_UNKNOWN)


class KafkaGroupAdmin(KafkaMetadata):
    """One AdminClient (made on first use); every call bounded by the Kafka timeout."""

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        # An admin client's metadata request for a named topic would create it. (Its
        # requests time out before its calls do: see KafkaMetadata.)
        super().__init__({"allow.auto.create.topics": "false", **conf}, timeout_s)

    def _wait(self, future: Future[T], what: str) -> T:
        try:
            return future.result(timeout=self._timeout_s + 1)
        except ck.KafkaException as exc:
            raise from_kafka_exception(exc, what) from None
        except TimeoutError:
            raise KafkaError(
                f"{what}: no answer from Kafka at {self.where} within {self._timeout_s:g}s",
                code="_TIMED_OUT",
            ) from None

    def list_groups(self) -> list[GroupInfo]:
        future = self._metadata_client().list_consumer_groups(request_timeout=self._timeout_s)
        listed = self._wait(future, f"list consumer groups on {self.where}")
        if listed.errors and not listed.valid:
            error = listed.errors[0]  # a KafkaError, or an exception holding one
            if not isinstance(error, BaseException):
                error = ck.KafkaException(error)
            raise from_kafka_exception(error, f"list consumer groups on {self.where}")
        names = sorted(g.group_id for g in listed.valid)
        # Share groups (KIP-932) are not consumer groups to confluent-kafka 2.16: what
        # ListGroups knows beyond those is one (Kafka 4.4 has no other kind in use here).
        others = all_group_ids(self._metadata_client(), self._timeout_s, self.where)
        shares = [_share_group(g) for g in sorted(others - set(names))]
        return sorted([*(self.describe(names) if names else []), *shares])

    def describe(self, groups: Sequence[str]) -> list[GroupInfo]:
        if not groups:
            return []
        futures = self._metadata_client().describe_consumer_groups(
            list(groups), request_timeout=self._timeout_s
        )
        offsets = {g: self._ask_committed(g) for g in groups}  # all asked at once
        out: list[GroupInfo] = []
        known: set[str] | None = None  # every group of any kind, asked once if needed
        for group in groups:
            try:
                found = self._wait(futures[group], f"describe group {group!r}")
            except KafkaError as exc:
                if exc.code != "GROUP_ID_NOT_FOUND":
                    raise
                found = None
            if found is None or _enum_name(found.state) == "Dead":
                # A share group is "Dead" to the consumer-group Admin API: is it one?
                if known is None:
                    known = all_group_ids(self._metadata_client(), self._timeout_s, self.where)
                if group in known:
                    out.append(_share_group(group))
                    continue
            if found is None:
                out.append(GroupInfo(group, "Dead", "unknown", 0, ()))
                continue
            topics = {
                tp.topic
                for member in found.members
                for tp in (member.assignment.topic_partitions if member.assignment else [])
            }
            topics.update(t for t, _p in self._committed(group, offsets[group]))
            out.append(
                GroupInfo(
                    group,
                    _enum_name(found.state),
                    _enum_name(found.type).lower(),
                    len(found.members),
                    tuple(sorted(topics)),
                    str(getattr(found, "partition_assignor", "") or ""),
                )
            )
        return out

    def details(self, groups: Sequence[str]) -> list[GroupDetail]:
        infos = self.describe(groups)
        futures = (
            self._metadata_client().describe_consumer_groups(
                [i.group for i in infos if i.type != "share"], request_timeout=self._timeout_s
            )
            if any(i.type != "share" for i in infos)
            else {}
        )
        out = []
        for info in infos:
            members: tuple[MemberInfo, ...] = ()
            if info.group in futures and info.state != "Dead":
                found = self._wait(futures[info.group], f"describe group {info.group!r}")
                members = tuple(
                    MemberInfo(
                        m.member_id,
                        m.client_id,
                        m.host,
                        tuple(
                            sorted(
                                (tp.topic, tp.partition)
                                for tp in (m.assignment.topic_partitions if m.assignment else [])
                            )
                        ),
                    )
                    for m in found.members
                )
            kind = {"share": "share.", "consumer": "consumer."}.get(info.type)
            configs = {}
            if kind is not None:
                every = group_configs(self._metadata_client(), info.group, self._timeout_s)
                configs = {k: v for k, v in sorted(every.items()) if k.startswith(kind)}
            out.append(GroupDetail(info=info, members=members, configs=configs))
        return out

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        return self._committed(group, self._ask_committed(group))

    def _ask_committed(self, group: str) -> Future[Any]:
        """One group a request (librdkafka's limit): the answer comes as a future."""
        request = [ck.ConsumerGroupTopicPartitions(group)]
        futures = self._metadata_client().list_consumer_group_offsets(
            request, request_timeout=self._timeout_s
        )
        future: Future[Any] = futures[group]
        return future

    def _committed(self, group: str, future: Future[Any]) -> dict[tuple[str, int], int]:
        result = self._wait(future, f"committed offsets of group {group!r}")
        return {
            (tp.topic, tp.partition): tp.offset
            for tp in result.topic_partitions or []
            if tp.offset >= 0 and tp.error is None
        }

    def partitions(self, topic: str) -> int:
        return self.check_topic(topic)

    def _list_offsets(self, topic: str, partitions: Sequence[int], spec: Any) -> dict[int, int]:
        request = {ck.TopicPartition(topic, p): spec for p in partitions}
        futures = self._metadata_client().list_offsets(request, request_timeout=self._timeout_s)
        return {
            tp.partition: self._wait(future, f"offsets of {topic!r}[{tp.partition}]").offset
            for tp, future in futures.items()
        }

    def watermarks(self, topic: str, partitions: Sequence[int]) -> dict[int, Watermarks]:
        if not partitions:
            return {}
        starts = self._list_offsets(topic, partitions, OffsetSpec.earliest())
        ends = self._list_offsets(topic, partitions, OffsetSpec.latest())
        return {p: Watermarks(starts[p], ends[p]) for p in partitions}

    def offsets_for_time(
        self, topic: str, partitions: Sequence[int], timestamp_ms: int
    ) -> dict[int, int | None]:
        found = self._list_offsets(topic, partitions, OffsetSpec.for_timestamp(timestamp_ms))
        return {p: (offset if offset >= 0 else None) for p, offset in found.items()}

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        request = [
            ck.ConsumerGroupTopicPartitions(
                group, [ck.TopicPartition(topic, p, o) for p, o in sorted(offsets.items())]
            )
        ]
        futures = self._metadata_client().alter_consumer_group_offsets(
            request, request_timeout=self._timeout_s
        )
        result = self._wait(futures[group], f"set offsets of group {group!r}")
        for tp in result.topic_partitions or []:
            if tp.error is None:
                continue
            name = kafka_error_name(tp.error)
            if name in _GROUP_BUSY:
                raise GroupBusyError(
                    f"group {group!r} has active members: stop its consumers before a reset",
                    code=name,
                )
            raise KafkaError(
                f"set offset of group {group!r} on {topic}[{tp.partition}]: "
                f"{describe_kafka_error(tp.error)}",
                code=name,
            )
