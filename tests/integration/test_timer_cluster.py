"""`kafkaredis timer` on the real 3-broker cluster: every partition and broker probed,
the independent consumer's duplicates and late arrivals checked against what the
cluster holds, a leader killed and paused, two timers on one topic, /metrics scraped."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
import uuid
from collections import Counter
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from kafkaredis_cli.canary.probe import PARTITION_SEQ_HEADER, PRODUCER_HEADER, SEQ_HEADER
from kafkaredis_cli.errors import ExitStatus
from tests.clusters import KafkaCluster
from tests.conftest import free_port, ok, wait_for
from tests.integration.test_canary_service import health, wait_health
from tests.integration.test_timer import PRODUCER, TimerProcess, json_lines
from tests.topics import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

PARTITIONS = 6


def cluster_env(env: dict[str, str], cluster: KafkaCluster) -> dict[str, str]:
    return {**env, "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": cluster.bootstrap}


def canary_topic(cluster: KafkaCluster) -> str:
    """A 6-partition RF 3 topic, two partitions led by each broker (partition p by
    broker p % 3 + 1, whatever the cluster's own placement would do)."""
    name = f"canary-{uuid.uuid4().hex[:8]}"
    striped = [[(p + r) % 3 + 1 for r in range(3)] for p in range(PARTITIONS)]
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    new = NewTopic(name, num_partitions=PARTITIONS, replica_assignment=striped)
    admin.create_topics([new])[name].result(30)
    wanted = {p: replicas[0] for p, replicas in enumerate(striped)}
    wait_for(lambda: leaders(cluster, name)[0] == wanted, 30, what=f"{name}'s leaders")
    return name


def leaders(cluster: KafkaCluster, topic: str) -> tuple[dict[int, int], int]:
    """Leader of each partition, and the cluster's active controller."""
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    meta = admin.list_topics(topic, timeout=10)
    info = meta.topics.get(topic)
    if info is None or info.error is not None:  # not in this broker's metadata yet
        return {}, meta.controller_id
    return {p: m.leader for p, m in info.partitions.items()}, meta.controller_id


def a_leader_not_controller(cluster: KafkaCluster, topic: str) -> tuple[int, list[int]]:
    """A broker that leads canary partitions and is not the active controller (so the
    test breaks one broker, not the quorum's leader too), and the partitions it leads."""
    by_partition, controller = leaders(cluster, topic)
    broker = next(b for b in sorted(set(by_partition.values())) if b != controller)
    return broker, sorted(p for p, b in by_partition.items() if b == broker)


def probes_on_cluster(cluster: KafkaCluster, topic: str, producer_id: str) -> list[dict[str, Any]]:
    """This run's probes as the cluster holds them: partition, offset, seq, partition seq."""
    found = []
    for msg in read_topic(cluster.bootstrap, topic, timeout=60):
        headers = dict(msg.headers() or [])
        if headers.get(PRODUCER_HEADER) != producer_id.encode():
            continue
        found.append(
            {
                "partition": msg.partition(),
                "offset": msg.offset(),
                "seq": int(headers[SEQ_HEADER]),
                "partition_seq": int(headers[PARTITION_SEQ_HEADER]),
            }
        )
    return found


def duplicates_on_cluster(held: list[dict[str, Any]]) -> int:
    copies = Counter((h["partition"], h["seq"]) for h in held)
    return sum(n - 1 for n in copies.values())


def assert_summary_matches_the_cluster(summary: dict[str, Any], ticks: list[dict[str, Any]],
                                       held: list[dict[str, Any]]) -> None:  # fmt: skip
    """Verified ticks are on the cluster at the offset they reported; ticks lost in their
    time are on the cluster exactly when counted late; every extra copy is a duplicate."""
    held_at = {(h["partition"], h["offset"]): h["seq"] for h in held}
    held_seqs = {h["seq"] for h in held}
    verified = [t for t in ticks if t["verified"]]
    assert all(held_at.get((t["partition"], t["offset"])) == t["seq"] for t in verified)
    lost_in_time = {t["seq"] for t in ticks if t["status"] == "lost"}
    late = {p["seq"] for p in summary["late_probes"]}
    assert late <= lost_in_time
    assert lost_in_time & held_seqs == late  # nothing counted lost is on the cluster
    assert summary["late"] == len(late)
    assert summary["lost"] == len(lost_in_time - late)
    assert summary["duplicated"] == duplicates_on_cluster(held)
    assert summary["sent"] == summary["verified"] + summary["late"] + summary["lost"]


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: dict[Any, float], name: str, **match: str) -> float:
    return sum(
        value
        for (sample, labels), value in samples.items()
        if sample == name and all(dict(labels).get(k) == v for k, v in match.items())
    )


def test_every_partition_and_broker_is_probed_and_metrics_agree(
    env, prefix, kafka_cluster, redis_client
):
    kafka_cluster.wait_healthy()
    topic = canary_topic(kafka_cluster)
    port = free_port()
    timer = TimerProcess(
        ["-t", topic, "--interval", "0.2", "--count", "30", "--metrics-port", str(port)],
        cluster_env(env, kafka_cluster),
    )
    try:
        # scrape between two ticks: after tick k's line, before tick k+1 is due
        # with the summary the run saves in Redis after each tick
        scraped: dict[Any, float] = {}
        seen: list[dict[str, Any]] = []
        saved: dict[str, Any] = {}

        def scraped_between_ticks() -> bool:
            if len(timer.ticks) < 12:
                return False
            before = timer.ticks
            samples = scrape(port)
            producer_id = PRODUCER.search(timer.stderr).group(1)  # type: ignore[union-attr]
            snapshot = json.loads(redis_client.get(f"{prefix}:timer:{producer_id}"))
            next_due_ms = before[-1]["scheduled_at"] + 200
            if len(timer.ticks) != len(before) or time.time() * 1000 > next_due_ms - 20:
                return False  # a tick may have started meanwhile: try again
            scraped.update(samples)
            seen[:] = before
            saved.update(snapshot)
            return True

        timer.wait_ticks(lambda _ticks: scraped_between_ticks(), what="a scrape between ticks")
        code = timer.wait(60)
    finally:
        timer.kill()
    assert code == ExitStatus.OK, timer.stderr
    ticks, summary = timer.ticks, timer.summary
    assert {t["partition"] for t in ticks} == set(range(PARTITIONS))
    assert [t["partition"] for t in ticks[:PARTITIONS]] == list(range(PARTITIONS))
    by_partition, _controller = leaders(kafka_cluster, topic)
    assert {t["broker"] for t in ticks} == {1, 2, 3}
    assert all(t["broker"] == by_partition[t["partition"]] for t in ticks)
    assert set(summary["per_broker"]) == {"1", "2", "3"}
    assert all(summary["per_broker"][b]["verified"] == 10 for b in ("1", "2", "3"))
    assert all(summary["per_partition"][f"{topic}[{p}]"]["sent"] == 5 for p in range(PARTITIONS))
    assert (summary["sent"], summary["verified"], summary["lost"]) == (30, 30, 0)
    assert (summary["late"], summary["duplicated"], summary["gaps"]) == (0, 0, 0)
    held = probes_on_cluster(kafka_cluster, topic, summary["producer_id"])
    assert sorted(h["seq"] for h in held) == list(range(30))
    assert_summary_matches_the_cluster(summary, ticks, held)

    # /metrics, parsed with prometheus_client's own parser, agrees with the ticks so far
    k = len(seen)
    assert total(scraped, "kafkaredis_canary_produced_total") == k
    assert total(scraped, "kafkaredis_canary_verified_total") == sum(t["verified"] for t in seen)
    for broker in ("1", "2", "3"):
        mine = [t for t in seen if str(t["broker"]) == broker]
        assert total(scraped, "kafkaredis_canary_produced_total", broker=broker) == len(mine)
        last = mine[-1]["figures"]["broker"]  # the broker's running counts at its last tick
        assert total(scraped, "kafkaredis_canary_verified_total", broker=broker) == last["verified"]
        stamp = total(scraped, "kafkaredis_canary_broker_last_success_timestamp_seconds",
                      broker=broker)  # fmt: skip
        assert time.time() - 60 < stamp <= time.time()
    for p in range(PARTITIONS):
        sent = sum(t["partition"] == p for t in seen)
        assert total(scraped, "kafkaredis_canary_produced_total", partition=str(p)) == sent
    for name in ("lost", "late", "duplicated", "produce_failed", "cache_failed"):
        assert total(scraped, f"kafkaredis_canary_{name}_total") == 0
    # the summary as saved at that moment: the same counts, in total and per broker
    assert saved["sent"] == k and saved["status"] == "running"
    assert saved["verified"] == total(scraped, "kafkaredis_canary_verified_total")
    for broker, figures in saved["per_broker"].items():
        for name, counter in (("sent", "produced"), ("verified", "verified"), ("lost", "lost")):
            assert figures[name] == total(scraped, f"kafkaredis_canary_{counter}_total",
                                          broker=broker), (broker, name)  # fmt: skip
    assert total(scraped, "kafkaredis_canary_round_trip_seconds_count") == k
    assert total(scraped, "kafkaredis_canary_delivery_seconds_count") == k
    assert total(scraped, "kafkaredis_canary_round_trip_seconds_bucket", le="+Inf") == k
    assert total(scraped, "kafkaredis_canary_round_trip_seconds_bucket", le="10.0") == k


def test_a_killed_leader_its_partitions_named_nothing_miscounted_then_it_returns(
    env, cli, kafka_cluster
):
    kafka_cluster.wait_healthy()
    topic = canary_topic(kafka_cluster)
    victim, victim_partitions = a_leader_not_controller(kafka_cluster, topic)
    port = free_port()
    timer = TimerProcess(
        ["-t", topic, "--interval", "0.2", "--timeout", "1.5", "--metrics-port", str(port)],
        cluster_env(env, kafka_cluster),
    )
    missing = "kafkaredis_canary_broker_missing"
    try:
        timer.wait_ticks(lambda ticks: sum(t["verified"] for t in ticks) >= 8, what="8 verified")
        wait_health(port, 200, 30, "/healthz 200 with every broker up")
        assert total(scrape(port), missing, broker=str(victim)) == 0
        kafka_cluster.kill(victim)
        killed_at = len(timer.ticks)
        # /healthz: 503 within seconds (a partition it only followed may stall first,
        # acks=all), and then it names the dead broker: as a leader or as missing
        wait_health(port, 503, 15, "/healthz 503 after the leader was killed")

        def names_the_victim() -> bool:
            status, body = health(port)
            return status == 503 and any(
                f"leader broker {victim})" in r or f"broker(s) {victim} missing" in r
                for r in body["reasons"]
            )

        wait_for(names_the_victim, 30, what=f"/healthz naming broker {victim}")
        wait_for(
            lambda: total(scrape(port), missing, broker=str(victim)) == 1,
            60,
            what=f"{missing}{{broker={victim}}} 1 once the controller fenced it",
        )
        # its partitions fail until the controller moves their leadership (3 s session)
        timer.wait_ticks(
            lambda ticks: any(t["status"] == "lost" for t in ticks[killed_at:]),
            what="a lost tick while the leader is down",
        )
        timer.wait_ticks(
            lambda ticks: (
                sum(
                    t["verified"] and t["partition"] in victim_partitions for t in ticks[killed_at:]
                )
                >= 2
            ),
            timeout=60,
            what="the dead leader's partitions verified on their new leaders",
        )
        kafka_cluster.start(victim)
        kafka_cluster.wait_healthy(90)
        back_at = len(timer.ticks)
        timer.wait_ticks(
            lambda ticks: sum(t["verified"] for t in ticks[back_at:]) >= 6,
            timeout=60,
            what="6 verified ticks after the restart",
        )
        wait_health(port, 200, 60, "/healthz 200 again with the broker back")
        assert total(scrape(port), missing, broker=str(victim)) == 0
        timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
        kafka_cluster.start()  # whatever happened, leave the cluster whole
        kafka_cluster.wait_healthy(90)
    ticks, summary = timer.ticks, timer.summary
    lost = [t for t in ticks if t["status"] == "lost"]
    why = [(t["tick"], t["partition"], t["broker"], t["error"]) for t in lost]
    # a tick to a partition the dead broker led names it as the leader; with acks=all a
    # partition it only followed stalls too until the controller fences it (3 s), so
    # ticks there may be lost as well, and once it is fenced they name it as missing
    # Its own partitions' ticks are lost while it is down, unless the controller moved
    # their leadership between two of their probes (under load a probe there may then
    # only be late): either way the summary names it as missing, below.
    assert lost, why
    on_victim = [t for t in lost if t["broker"] == victim]
    assert all(f"led by broker {victim}" in t["error"] for t in on_victim), why
    assert all(t["partition"] in victim_partitions for t in on_victim), why
    if on_victim:
        assert victim in summary["brokers_failing"]
        assert summary["per_broker"][str(victim)]["last_error"]
    assert summary["brokers_missing"].get(str(victim), 0) >= 1, summary["brokers_missing"]
    assert set(summary["brokers_missing"]) == {str(victim)}
    after = [t for t in ticks[killed_at:] if t["partition"] in victim_partitions]
    assert any(t["verified"] and t["broker"] != victim for t in after)  # failed over
    assert all(t["verified"] for t in ticks[-3:])
    held = probes_on_cluster(kafka_cluster, topic, summary["producer_id"])
    assert_summary_matches_the_cluster(summary, ticks, held)
    assert "Traceback" not in timer.stderr

    # back, the broker leads nothing (no automatic rebalance within 5 minutes):
    # --rebalance-leaders elects the preferred leaders, so it is probed again
    by_partition, _controller = leaders(kafka_cluster, topic)
    assert victim not in by_partition.values()
    result = ok(cli("-b", kafka_cluster.bootstrap, "timer", "-t", topic, "--rebalance-leaders",
                    "--interval", "0.1", "--count", "6", "--json"))  # fmt: skip
    ticks, summary = json_lines(result.stdout)
    actions = summary["layout"][topic]["actions"]
    assert actions == [f"elected preferred leaders of partition(s) {victim_partitions}"]
    assert {t["broker"] for t in ticks} == {1, 2, 3}
    assert summary["layout"][topic]["uncovered_brokers"] == []
    assert set(leaders(kafka_cluster, topic)[0].values()) == {1, 2, 3}


def test_rebalance_leaders_gives_a_broker_that_leads_nothing_a_partition(cli, kafka_cluster):
    kafka_cluster.wait_healthy()
    topic = f"canary-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_cluster.bootstrap})
    every_one_led_by_1 = [[1, 2, 3], [1, 3, 2], [1, 2, 3]]
    admin.create_topics([NewTopic(topic, num_partitions=3, replica_assignment=every_one_led_by_1)])[
        topic
    ].result(30)
    wait_for(lambda: set(leaders(kafka_cluster, topic)[0].values()) == {1}, 30, what="leaders")
    args = ["-b", kafka_cluster.bootstrap, "timer", "-t", topic, "--interval", "0.1", "--json"]
    ticks, summary = json_lines(ok(cli(*args, "--count", "3")).stdout)
    assert {t["broker"] for t in ticks} == {1}
    assert summary["layout"][topic]["uncovered_brokers"] == [2, 3]
    ticks, summary = json_lines(ok(cli(*args, "--count", "5", "--rebalance-leaders")).stdout)
    assert summary["layout"][topic]["actions"] == ["added 2 partition(s) led by broker(s) [2, 3]"]
    assert [t["partition"] for t in ticks] == [0, 1, 2, 3, 4]
    assert {t["broker"] for t in ticks} == {1, 2, 3}
    assert summary["layout"][topic]["uncovered_brokers"] == []


def test_an_outside_duplicate_and_a_paused_leaders_late_probes_are_counted(env, kafka_cluster):
    kafka_cluster.wait_healthy()
    topic = canary_topic(kafka_cluster)
    victim, victim_partitions = a_leader_not_controller(kafka_cluster, topic)
    timer = TimerProcess(
        ["-t", topic, "--interval", "0.2", "--timeout", "0.5"], cluster_env(env, kafka_cluster)
    )
    try:
        timer.wait_ticks(lambda ticks: sum(t["verified"] for t in ticks) >= 6, what="6 verified")
        # a copy of tick 1's probe (exact bytes and headers) from another producer client
        held = wait_for(
            lambda: [
                m for m in read_topic(kafka_cluster.bootstrap, topic) if m.headers() is not None
            ],
            30,
            what="tick 1 on the cluster",
        )
        first = next(m for m in held if dict(m.headers())[SEQ_HEADER] == b"0")
        outsider = Producer({"bootstrap.servers": kafka_cluster.bootstrap, "acks": "all"})
        outsider.produce(topic, first.value(), first.key(), first.partition(),
                         headers=first.headers())  # fmt: skip
        assert outsider.flush(30) == 0
        timer.wait_ticks(
            lambda ticks: any(t["duplicates"] for t in ticks), what="the duplicate counted"
        )
        # the leader hangs longer than --timeout (not long enough to be fenced: 3 s)
        kafka_cluster.pause(victim)
        paused_at = len(timer.ticks)
        try:
            timer.wait_ticks(
                lambda ticks: (
                    sum(
                        t["status"] == "lost" and t["partition"] in victim_partitions
                        for t in ticks[paused_at:]
                    )
                    >= 1
                ),
                what="a tick to the paused leader lost",
            )
        finally:
            kafka_cluster.resume(victim)
        timer.wait_ticks(
            lambda ticks: any(t["arrived_late"] for t in ticks[paused_at:]),
            timeout=30,
            what="the paused leader's probe arriving late",
        )
        timer.stop(signal.SIGTERM)
    finally:
        timer.kill()
        kafka_cluster.resume(victim)
        kafka_cluster.wait_healthy(90)
    ticks, summary = timer.ticks, timer.summary
    # late: ticks lost while the broker hung (as leader, or as an in-sync follower that
    # acks=all waits for: it is not fenced in 2 s), whose probes landed when it resumed
    assert summary["late"] >= 1
    lost_while_paused = {t["seq"] for t in ticks[paused_at:] if t["status"] == "lost"}
    assert {p["seq"] for p in summary["late_probes"]} <= lost_while_paused
    assert {"topic": topic, "partition": first.partition(), "seq": 0} in summary[
        "duplicated_probes"
    ]
    assert summary["per_partition"][f"{topic}[{first.partition()}]"]["duplicated"] >= 1
    held_now = probes_on_cluster(kafka_cluster, topic, summary["producer_id"])
    assert_summary_matches_the_cluster(summary, ticks, held_now)
    assert "Traceback" not in timer.stderr


def test_two_timers_on_one_topic_see_no_false_loss_or_duplicates(env, kafka_cluster):
    kafka_cluster.wait_healthy()
    topic = canary_topic(kafka_cluster)
    args = ["-t", topic, "--interval", "0.1", "--count", "24"]
    timers = [TimerProcess(args, cluster_env(env, kafka_cluster)) for _ in range(2)]
    try:
        codes = [timer.wait(90) for timer in timers]
    finally:
        for timer in timers:
            timer.kill()
    assert codes == [ExitStatus.OK, ExitStatus.OK], [t.stderr for t in timers]
    summaries = [timer.summary for timer in timers]
    ids = [s["producer_id"] for s in summaries]
    assert ids[0] != ids[1]
    for summary, other in zip(summaries, reversed(ids), strict=True):
        assert (summary["sent"], summary["verified"]) == (24, 24)
        assert (summary["lost"], summary["late"], summary["duplicated"], summary["gaps"]) == (
            0,
            0,
            0,
            0,
        )
        others = summary["other_producers"]
        assert set(others) == {other}
        assert (others[other]["duplicated"], others[other]["gaps"]) == (0, 0)
        assert others[other]["read"] >= 1
