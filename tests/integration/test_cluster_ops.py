"""On the real 3-broker cluster (RF 3, min.insync.replicas 2): `check` names a killed
broker and what it left under-replicated or leaderless; a batch produce through a broker
kill tells delivered, failed and unknown outcome apart, and librdkafka's own log lines
never reach stderr raw. Every test restarts what it killed and waits for a whole cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from kafkaredis_cli.errors import ExitStatus
from tests.clusters import KafkaCluster
from tests.conftest import CliResult, kafkaredis_process, wait_for
from tests.integration.test_faults import feed, finish, records, topic_messages
from tests.topics import create_topic

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

Cli = Callable[..., CliResult]
RAW_LIBRDKAFKA_LINE = re.compile(r"^%\d+\|", re.M)  # librdkafka's own stderr format


@pytest.fixture
def cluster(kafka_cluster: KafkaCluster) -> Iterator[KafkaCluster]:
    """The session's cluster, whole again after the test (whatever it killed)."""
    kafka_cluster.wait_healthy(60)
    try:
        yield kafka_cluster
    finally:
        kafka_cluster.start()  # every stopped node
        kafka_cluster.wait_healthy(90)


def leader_of(bootstrap: str, topic: str, partition: int) -> int:
    """The partition's leader (-1 while it has none, or is not known yet)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    info = admin.list_topics(topic, timeout=10).topics.get(topic)
    found = info.partitions.get(partition) if info is not None else None
    return int(found.leader) if found is not None else -1


def check_json(cli: Cli, *args: str) -> tuple[int, dict[str, Any], str]:
    """check's status and JSON rows; no rows (an error line instead) while a cluster is
    changing counts as no answer yet, never as a crash."""
    result = cli("check", "--json", *args)
    assert "Traceback" not in result.stderr
    assert "unexpected" not in result.stderr, result.stderr
    if not result.stdout.strip():
        assert result.stderr.startswith("kafkaredis: error:"), result.stderr
        return result.exit_code, {"checks": []}, result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_check_names_a_killed_broker_and_the_partitions_it_left(
    cluster: KafkaCluster, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = cluster.bootstrap
    replicated = create_topic(bootstrap, f"rf3-{uuid.uuid4().hex[:8]}", 6)
    single = f"rf1-{uuid.uuid4().hex[:8]}"  # its one replica on broker 2
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics(
        [
            NewTopic(
                single,
                num_partitions=1,
                replica_assignment=[[2]],
                config={"min.insync.replicas": "1"},  # the topic's own, over the brokers' 2
            )
        ]
    )[single].result(30)
    wait_for(lambda: leader_of(bootstrap, single, 0) == 2, 90, what="the RF 1 topic's leader")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", f"{replicated},{single}")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__EXPECTED_BROKERS", "3")

    # A topic just created may take a moment to have every replica in sync, and its
    # configuration to be known to every broker.
    last: list[Any] = []

    def passes() -> bool:
        last[:] = check_json(cli)
        topics = [c for c in last[1]["checks"] if c.get("check") == "topic"]
        known = [c for c in topics if "min.insync.replicas" in c["detail"]]
        return last[0] == 0 and len(known) == 2 and not any("unknown" in c["detail"] for c in known)

    try:
        wait_for(passes, 120, interval=0.5, what="check to pass on the whole cluster")
    except AssertionError as exc:
        raise AssertionError([c for c in last[1]["checks"] if not c["ok"]]) from exc
    _, healthy, _ = last
    rows = {(c["check"], c["target"]): c for c in healthy["checks"] if "check" in c}
    assert rows[("brokers", "expected 3")]["detail"] == "3 of 3 registered (1,2,3)"
    topic_row = rows[("topic", replicated)]
    assert topic_row["detail"] == "6 partition(s), replication factor 3, min.insync.replicas 2"
    single_row = rows[("topic", single)]
    assert single_row["detail"] == "1 partition(s), replication factor 1, min.insync.replicas 1"
    # --brokers wins over the setting.
    status, more, _ = check_json(cli, "--brokers", "4")
    assert status == 1
    assert any(c["detail"] == "3 of 4 expected brokers registered" for c in more["checks"])

    cluster.kill(2)
    found: dict[str, Any] = {}

    def broker_named() -> bool:
        status, data, _ = check_json(cli)
        found.update(status=status, data=data)
        return any(c.get("check") == "brokers" and not c["ok"] for c in data["checks"])

    wait_for(broker_named, 90, interval=0.5, what="check to miss broker 2")
    assert found["status"] == ExitStatus.FAILED
    failing = {
        (c["check"], c["target"]): c["detail"] for c in found["data"]["checks"] if not c["ok"]
    }
    brokers = failing[("brokers", "expected 3")]
    assert brokers.startswith("2 of 3 expected brokers registered")
    assert "missing: broker 2 (a replica of 7 partition(s))" in brokers
    assert f"127.0.0.1:{cluster.port(2)}" in brokers

    def partitions_named() -> bool:
        _, data, _ = check_json(cli)
        failing.clear()
        failing.update(
            {(c["check"], c["target"]): c["detail"] for c in data["checks"] if not c["ok"]}
        )
        return ("under-replicated", replicated) in failing and ("leaderless", single) in failing

    wait_for(partitions_named, 90, interval=0.5, what="check to name the partitions")
    under = failing[("under-replicated", replicated)]
    assert under.startswith("under-replicated partitions: 0 (in sync ")
    assert all(f"{p} (in sync" in under for p in range(6))
    assert failing[("leaderless", single)] == "partitions without a leader: 0 (replicas 2)"
    # Two of three in sync is still min.insync.replicas: no row for that.
    assert ("below min.insync.replicas", replicated) not in failing

    text = cli("check")
    assert text.exit_code == 1
    assert "FAIL" in text.stdout and "broker 2" in text.stdout
    assert text.stderr.strip() == "kafkaredis: error: not working: kafka brokers, kafka topic"


@pytest.mark.parametrize("fault", ["kill", "pause"])
def test_batch_through_a_broker_fault_tells_delivered_failed_and_unknown_apart(
    cluster: KafkaCluster, env: dict[str, str], topic: str, prefix: str, fault: str
) -> None:
    """`kill`: SIGKILL the leader of a partition mid-batch (its partitions move to the
    others within seconds, so librdkafka's retries mostly deliver). `pause`: SIGSTOP it,
    so what was in flight to it can stay unanswered past message.timeout.ms: unknown
    outcome, although the broker may have written it. Which messages end how depends on
    timing; the claims about each class do not."""
    bootstrap = cluster.bootstrap
    create_topic(bootstrap, topic, 6)
    # Any broker may answer; one whose metadata lags the creation says "no leader" (-1).
    wait_for(lambda: leader_of(bootstrap, topic, 0) >= 0, 60, what="partition 0's leader")
    victim = leader_of(bootstrap, topic, 0)
    assert victim >= 0
    run_env = {**env, "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS": bootstrap}
    # With pause, librdkafka's log at INFO, as JSON lines: through the tool's logging.
    logging = ["--log-level", "INFO", "--log-format", "json"] if fault == "pause" else []
    proc = kafkaredis_process(
        [
            *(*logging, "-X", "message.timeout.ms=5000"),
            *("produce", "--file", "-", "--json", "--no-verify"),
        ],
        run_env,
        stdin=subprocess.PIPE,
    )
    fed = [0]
    feeding = threading.Event()
    feeding.set()

    def writer() -> None:  # a steady stream, so that messages are in flight at the fault
        try:
            while feeding.is_set() and fed[0] < 100_000:
                feed(proc, [f"m-{fed[0] + i:07d}" for i in range(500)])
                fed[0] += 500
        except OSError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_for(lambda: fed[0] >= 10_000, 60, what="10,000 messages fed")
        (cluster.kill if fault == "kill" else cluster.pause)(victim)
        mark = fed[0]
        wait_for(lambda: fed[0] >= mark + 20_000, 90, what="20,000 more messages fed")
    finally:
        feeding.clear()
        thread.join(timeout=30)
        if fault == "pause":
            cluster.resume(victim)
    assert proc.stdin is not None
    proc.stdin.close()
    status, out, err = finish(proc, timeout=180)

    summary = json.loads(out)
    read, delivered = summary["read"], summary["delivered"]
    failed, unknown = summary["failed"], summary["unknown_outcome"]
    assert read == fed[0]
    assert delivered + failed + unknown == read
    expected = (
        ExitStatus.KAFKA if failed else ExitStatus.UNKNOWN_OUTCOME if unknown else ExitStatus.OK
    )
    assert status == expected, err
    if unknown:  # in flight to the dead or hung leader past message.timeout.ms
        assert any("_MSG_TIMED_OUT" in e for e in summary["errors"]), summary["errors"]
        assert f"{unknown} of {read} messages with an unknown outcome" in err
    # librdkafka's complaints about the broker went through the tool's logging.
    assert not RAW_LIBRDKAFKA_LINE.search(err), err[:2000]
    if fault == "pause":
        # Whatever librdkafka said (whether it said anything depends on how long the
        # pause outlasted its timeouts on this machine) came as the tool's JSON log lines.
        logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert all(line.startswith(("{", "kafkaredis: error:")) for line in err.splitlines())
        assert all(entry["logger"].startswith("kafkaredis") for entry in logged), err[:2000]

    cluster.start(victim)
    cluster.wait_healthy(90)
    held = topic_messages(bootstrap, topic, timeout=60)
    cached = records(env["KAFKAREDIS_REDIS__URL"], prefix)
    # Every message reported delivered is on the cluster, where its record says.
    assert len(cached) == delivered
    for record in cached:
        _value, held_id = held[(record["partition"], record["offset"])]
        assert held_id == record["id"]
    # Every one reported failed is absent: beyond the delivered ones, the topic holds at
    # most the unknown-outcome ones (some of which may well be there). kafkaredis sends
    # each line once; librdkafka's retries around a dead leader can still write a batch
    # twice, so distinct values are counted.
    ours = {v for v, _id in held.values() if v.startswith(b"m-")}
    assert delivered <= len(ours) <= delivered + unknown


def test_check_without_expectations_fails_on_a_killed_bootstrap_broker(
    cluster: KafkaCluster, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --brokers, no kafka.expected_brokers, the default topic not created yet: the
    dead broker is still named (its bootstrap address, the replicas it held)."""
    bootstrap = cluster.bootstrap
    other = create_topic(bootstrap, f"other-{uuid.uuid4().hex[:8]}", 3)  # RF 3
    monkeypatch.setenv("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", f"later-{uuid.uuid4().hex[:8]},{other}")
    monkeypatch.delenv("KAFKAREDIS_KAFKA__EXPECTED_BROKERS", raising=False)
    wait_for(lambda: check_json(cli)[0] == 0, 90, interval=0.5, what="check to pass")

    cluster.kill(3)
    found: dict[str, Any] = {}

    def named() -> bool:
        status, data, _ = check_json(cli)
        found.update(status=status, failing={
            (c["check"], c["target"]): c["detail"] for c in data["checks"] if not c["ok"]
        })  # fmt: skip
        return ("offline replicas", other) in found["failing"]

    wait_for(named, 90, interval=0.5, what="check to name broker 3")
    assert found["status"] == ExitStatus.FAILED
    brokers = found["failing"][("brokers", "brokers")]
    assert f"bootstrap address(es) no registered broker has: 127.0.0.1:{cluster.port(3)}" in brokers
    assert "missing: broker 3 (a replica of " in brokers
    offline = found["failing"][("offline replicas", other)]
    assert all(f"{p} (offline 3)" in offline for p in range(3)), offline
    assert ("under-replicated", other) in found["failing"]
    text = cli("check")
    assert text.exit_code == 1 and "broker 3" in text.stdout
    assert text.stderr.strip().startswith("kafkaredis: error: not working: kafka brokers")
