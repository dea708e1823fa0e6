"""Cluster metadata for `check` (and shell completion): brokers, topics, partitions and
their replicas, min.insync.replicas; on confluent-kafka's AdminClient, created lazily."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Mapping, Sequence
from typing import Any

import confluent_kafka as ck

from kafkaredis_cli.adapters.errors import from_kafka_exception
from kafkaredis_cli.adapters.kafka import KafkaClientBase, _with_logger
from kafkaredis_cli.domain.cluster_health import ClusterInfo, PartitionState

log = logging.getLogger("kafkaredis.kafka")


def _endpoints(address: str) -> set[tuple[str, int]]:
    """(ip, port) of host:port as the resolver gives it (the name itself if it does not
    resolve; a scheme such as SSL:// is dropped)."""
    host, _, port = address.rpartition("://")[2].rpartition(":")
    host = host.strip("[]")
    try:
        number = int(port)
        infos = socket.getaddrinfo(host, number, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError):
        return {(host.lower(), int(port) if port.isdigit() else -1)}
    return {(_plain_ip(str(info[4][0])), number) for info in infos}


def _plain_ip(address: str) -> str:
    """An IPv4-mapped IPv6 address (::ffff:127.0.0.1) as the IPv4 one."""
    try:
        mapped = ipaddress.ip_address(address)
    except ValueError:
        return address
    v4 = getattr(mapped, "ipv4_mapped", None)
    return str(v4) if v4 is not None else str(mapped)


def silent_addresses(bootstrap: str, registered: Sequence[str]) -> tuple[str, ...]:
    """The bootstrap addresses that no registered broker has: same port and a host that
    resolves to one of the broker's addresses (localhost:9092 is 127.0.0.1:9092)."""
    configured = [a.strip() for a in bootstrap.split(",") if a.strip()]
    plain = set(registered)
    if all(a in plain for a in configured):
        return ()
    known = set().union(*(_endpoints(a) for a in registered)) if registered else set()
    return tuple(a for a in configured if a not in plain and not _endpoints(a) & known)


class KafkaMetadata(KafkaClientBase):
    """Cluster metadata for `check`: brokers and the topics that matter."""

    def __init__(self, conf: Mapping[str, str], timeout_s: float) -> None:
        super().__init__(conf, timeout_s)
        self._admin: Any = None

    def _metadata_client(self) -> Any:
        if self._admin is None:
            from confluent_kafka.admin import AdminClient

            # Requests time out before the calls that wait for them: a response that
            # arrives after its call gave up can abort the process (librdkafka #4605,
            # with a broker down). A -X socket.timeout.ms wins.
            request_ms = str(max(1000, int(self._timeout_s * 1000) - 1000))
            conf = _with_logger({"socket.timeout.ms": request_ms, **self._conf})
            conf["error_cb"] = self._on_error
            try:
                self._admin = AdminClient(conf)
            except ck.KafkaException as exc:
                raise from_kafka_exception(exc, "Kafka admin client") from None
        return self._admin

    def _serve_errors(self) -> None:
        if self._admin is not None:
            self._admin.poll(0)

    def cluster(self, topics: Sequence[str]) -> ClusterInfo:
        try:
            meta = self._metadata_client().list_topics(timeout=self._timeout_s)
        except ck.KafkaException as exc:
            raise self._unreachable(exc) from None
        present = {
            t: (len(info.partitions) if info.error is None else -1)
            for t, info in meta.topics.items()
        }
        # Every topic's partitions (internal ones too): the configured topics first.
        order = [*dict.fromkeys(topics), *sorted(set(present) - set(topics))]
        partitions = {
            t: tuple(
                PartitionState(p.id, p.leader, tuple(p.replicas), tuple(p.isrs))
                for p in sorted(meta.topics[t].partitions.values(), key=lambda p: p.id)
            )
            for t in order
            if present.get(t, -1) >= 0
        }
        brokers = sorted(meta.brokers.values(), key=lambda b: b.id)
        addresses = [f"{b.host}:{b.port}" for b in brokers]
        return ClusterInfo(
            cluster_id=meta.cluster_id,
            controller_id=meta.controller_id,
            brokers=tuple(f"{b.id}@{b.host}:{b.port}" for b in brokers),
            topics={t: present.get(t, -1) for t in topics},
            broker_ids=tuple(b.id for b in brokers),
            broker_addresses=tuple(addresses),
            partitions=partitions,
            min_insync=self._min_insync([t for t in dict.fromkeys(topics) if t in partitions]),
            silent_bootstrap=silent_addresses(self._conf.get("bootstrap.servers", ""), addresses),
        )

    def _min_insync(self, topics: list[str]) -> dict[str, int | None]:
        """Each topic's effective min.insync.replicas (None where it cannot be read)."""
        if not topics:
            return {}
        from confluent_kafka.admin import ConfigResource  # type: ignore[attr-defined]

        found: dict[str, int | None] = dict.fromkeys(topics)
        resources = [ConfigResource("TOPIC", t) for t in topics]
        futures = self._metadata_client().describe_configs(
            resources, request_timeout=self._timeout_s
        )
        for resource, future in futures.items():
            try:
                entry = future.result(timeout=self._timeout_s).get("min.insync.replicas")
                found[resource.name] = int(entry.value) if entry is not None else None
            except (ck.KafkaException, ValueError, TypeError, TimeoutError) as exc:
                # (a broker down may leave the answer out: the row then says "unknown")
                log.info("min.insync.replicas of %r not read: %r", resource.name, exc)
        return found

    def topic_names(self) -> list[str]:
        """Every topic the cluster lists (internal ones too), sorted."""
        try:
            meta = self._metadata_client().list_topics(timeout=self._timeout_s)
        except ck.KafkaException as exc:
            raise self._unreachable(exc) from None
        return sorted(meta.topics)

    def close(self) -> None:
        self._admin = None
