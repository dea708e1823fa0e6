"""The cache on a real Redis Cluster (3 primaries + 3 replicas) and a real Sentinel setup.

Every cache path runs against the session's `redis_cluster` / `redis_sentinel` (tests/
clusters.py) with the stack's Kafka broker; what the tool claims is checked with redis-py
directly, on every primary. A test that kills a node starts it again and waits until the
cluster is whole before it ends.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster

from kafkaredis_cli.domain.messages import ID_HEADER
from kafkaredis_cli.domain.records import MessageRecord
from tests.conftest import CliResult, kafkaredis_process, ok, wait_for
from tests.integration.test_faults import feed, finish
from tests.integration.test_timer import TimerProcess
from tests.topics import create_topic, read_topic, topic_count

pytestmark = [pytest.mark.integration, pytest.mark.cluster]
REDIS_ROWS = ("redis", "redis node", "redis sentinel")  # not "redis security"

Cli = Callable[..., CliResult]


def run_json(cli: Cli, *args: str, input: str | None = None) -> Any:
    return json.loads(ok(cli(*args, "--json", input=input)).stdout)


def batch(n: int, start: int = 0) -> str:
    return "".join(f"v{i}\n" for i in range(start, start + n))


def node_keys(port: int, match: str) -> list[bytes]:
    with redis.Redis(port=port) as client:
        return list(client.scan_iter(match=match, count=1000))


def primary_ports(nodes: Any) -> list[int]:
    """Ports of the primaries that serve slots, as redis-py's cluster client sees them."""
    for url in nodes.urls:
        try:
            client = RedisCluster.from_url(url, socket_timeout=2)
        except (redis.RedisError, redis.cluster.RedisClusterException):
            continue
        try:
            return sorted(int(n.port) for n in client.get_primaries())
        finally:
            client.close()
    raise AssertionError("no node of the cluster answers")


def every_node(nodes: Any) -> str:
    """redis://HOST:PORT,HOST:PORT,.../0 of every node of the cluster."""
    return "redis://" + ",".join(u.removeprefix("redis://").removesuffix("/0") for u in nodes.urls)


def keys_by_primary(nodes: Any, match: str) -> dict[int, int]:
    return {port: len(node_keys(port, match)) for port in primary_ports(nodes)}


def stored(client: Any, key: str) -> MessageRecord:
    raw = client.get(key)
    assert raw is not None, f"no {key}"
    return MessageRecord.from_blob(raw)


@pytest.fixture
def on_cluster(redis_cluster: Any, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI pointed at one node of the cluster (mode auto); the cluster whole."""
    redis_cluster.wait_healthy()
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", redis_cluster.url)
    env["KAFKAREDIS_REDIS__URL"] = redis_cluster.url
    return redis_cluster


@pytest.fixture
def cluster_client(redis_cluster: Any) -> Iterator[RedisCluster]:
    client = RedisCluster.from_url(redis_cluster.url)
    yield client
    client.close()


@pytest.fixture
def on_sentinel(redis_sentinel: Any, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    redis_sentinel.wait_healthy()
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", redis_sentinel.url)
    env["KAFKAREDIS_REDIS__URL"] = redis_sentinel.url
    return redis_sentinel


# -- Redis Cluster: every cache path ------------------------------------------------------------
def test_cluster_single_produce_and_the_latest_pointer(
    cli: Cli, on_cluster: Any, cluster_client: RedisCluster, topic: str, prefix: str
) -> None:
    for _ in range(6):  # ids land on different slots and primaries: every one cached
        sent = run_json(cli, "produce", "hello cluster", "-k", "k")
        assert sent["cached"] is True and sent["cache_error"] is None and sent["verified"]
        record = stored(cluster_client, f"{prefix}:msg:{sent['id']}")
        assert (record.value, record.key, record.status) == (b"hello cluster", b"k", "verified")
        assert cluster_client.get(f"{prefix}:latest:{topic}") == sent["id"].encode()
        latest = run_json(cli, "cache", "get", f"latest:{topic}")
        assert latest["record"]["id"] == sent["id"] and latest["type"] == "string"


def test_cluster_batch_of_10000_readable_by_id_and_spread_over_every_primary(
    cli: Cli, on_cluster: Any, cluster_client: RedisCluster, topic: str, prefix: str, services: Any
) -> None:
    from kafkaredis_cli.adapters.redis import RedisStore
    from kafkaredis_cli.keys import KeySpace
    from kafkaredis_cli.settings import load_settings

    n = 10_000
    summary = run_json(cli, "produce", "--file", "-", "--no-verify", input=batch(n))
    assert (summary["delivered"], summary["cached"], summary["cache_failed"]) == (n, n, 0)

    ids = [dict(m.headers())[ID_HEADER].decode() for m in read_topic(services.bootstrap, topic)]
    assert len(set(ids)) == n
    settings = load_settings()
    with closing(RedisStore(settings.redis, KeySpace(prefix))) as store:  # what `cache get ID` runs
        for message_id in ids:
            entry = store.get(message_id)
            assert entry is not None and entry.record is not None, message_id
            assert entry.record.id == message_id
    for message_id in ids[:: n // 4]:
        assert run_json(cli, "cache", "get", message_id)["record"]["id"] == message_id

    spread = keys_by_primary(on_cluster, f"{prefix}:msg:*")
    assert len(spread) == 3 and sum(spread.values()) == n
    assert all(count > n / 6 for count in spread.values()), spread
    # redis-py sees the same records, each readable with its TTL
    sample = ids[:: n // 50]
    assert all(0 < cluster_client.ttl(f"{prefix}:msg:{i}") <= 3600 for i in sample)


def test_cluster_consume_marks_every_record(
    cli: Cli, on_cluster: Any, cluster_client: RedisCluster, topic: str, prefix: str, services: Any
) -> None:
    n = 3000
    run_json(cli, "produce", "--file", "-", "--no-verify", input=batch(n))
    result = ok(cli("consume", "--from", "beginning", "-e", "--format", "raw"))
    assert f"consumed {n} message(s), {n} Redis record(s) updated" in result.stderr
    ids = [dict(m.headers())[ID_HEADER].decode() for m in read_topic(services.bootstrap, topic)]
    statuses = {stored(cluster_client, f"{prefix}:msg:{i}").status for i in ids}
    assert statuses == {"consumed"}


def test_cluster_list_delete_and_inspect_see_every_node(
    cli: Cli, on_cluster: Any, cluster_client: RedisCluster, topic: str, prefix: str
) -> None:
    n = 600
    run_json(cli, "produce", "--file", "-", "--no-verify", input=batch(n))
    singles = [run_json(cli, "produce", f"one {i}", "--no-verify")["id"] for i in range(2)]
    everything = n + 2

    listed = run_json(cli, "cache", "list", "--pattern", "msg:*", "--limit", "100000")
    assert len(listed) == everything
    assert len({e["key"] for e in listed}) == everything
    assert len(run_json(cli, "cache", "list", "--pattern", "msg:*", "--limit", "7")) == 7
    of_topic = run_json(cli, "cache", "list", "--topic", topic, "-n", "100000")
    assert len(of_topic) == everything + 1  # and the latest pointer

    direct = keys_by_primary(on_cluster, f"{prefix}:*")
    summary = run_json(cli, "inspect-cache")
    assert summary["mode"] == "cluster"
    assert summary["keys"] == sum(direct.values()) == everything + 1  # and the latest pointer
    assert summary["by_kind"] == {"msg": everything, "latest": 1}
    assert {row["node"]: row["keys"] for row in summary["nodes"]} == {
        f"127.0.0.1:{port}": count for port, count in direct.items()
    }
    assert summary["memory_bytes"] == sum(row["memory_bytes"] for row in summary["nodes"]) > 0

    # two ids in different slots (CROSSSLOT for one DEL) and one that does not exist
    gone = run_json(cli, "cache", "delete", *singles, "01900000-0000-7000-8000-000000000000")
    assert gone == {"deleted": 2, "asked": 3}
    assert not any(cluster_client.exists(f"{prefix}:msg:{i}") for i in singles)

    for port in primary_ports(on_cluster):  # the scripts must be loaded again (NOSCRIPT)
        with redis.Redis(port=port) as node:  # and the count stay exact
            node.script_flush()
    text = ok(cli("cache", "delete", "--pattern", "msg:*", "--yes"))
    assert f"deleted {n} of {n} key(s)" in text.stderr
    assert keys_by_primary(on_cluster, f"{prefix}:msg:*") == dict.fromkeys(direct, 0)
    assert cluster_client.exists(f"{prefix}:latest:{topic}")


def test_cluster_timer_statistics(
    cli: Cli, on_cluster: Any, cluster_client: RedisCluster, prefix: str
) -> None:
    result = ok(cli("timer", "--interval", "0.2", "--count", "5", "--json"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    ticks = [line for line in lines if line["type"] == "tick"]
    assert len(ticks) == 5 and all(t["cached"] for t in ticks)
    [key] = [k for port in primary_ports(on_cluster) for k in node_keys(port, f"{prefix}:timer:*")]
    saved = json.loads(cluster_client.get(key))
    assert (saved["status"], saved["sent"], saved["verified"]) == ("finished", 5, 5)
    assert run_json(cli, "inspect-cache")["by_kind"]["timer"] == 1


def test_the_url_of_any_node_works(
    cli: Cli, on_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in on_cluster.urls:  # primaries and replicas alike
        monkeypatch.setenv("KAFKAREDIS_REDIS__URL", url)
        sent = run_json(cli, "produce", "any node", "--no-verify")
        assert sent["cached"] is True, (url, sent)
        assert run_json(cli, "cache", "get", sent["id"])["record"]["value"] == "any node"
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", every_node(on_cluster))
    monkeypatch.setenv("KAFKAREDIS_REDIS__MODE", "cluster")
    assert run_json(cli, "produce", "a list of nodes", "--no-verify")["cached"] is True


def test_check_shows_the_cluster_and_every_node(cli: Cli, on_cluster: Any) -> None:
    data = run_json(cli, "check")
    redis_rows = [r for r in data["checks"] if r["service"] in REDIS_ROWS]
    head = redis_rows[0]
    assert head["service"] == "redis" and head["ok"]
    assert head["detail"].startswith("cluster, cluster_state ok, 3 primaries")
    nodes = {r["target"]: r for r in redis_rows[1:]}
    assert set(nodes) == {f"127.0.0.1:{p}" for p in on_cluster.ports}
    roles = sorted(r["detail"].split(",")[0] for r in nodes.values())
    assert roles == ["primary"] * 3 + ["replica"] * 3
    assert all(r["ok"] and ", up" in r["detail"] for r in nodes.values())


# -- Redis Cluster: a primary killed -----------------------------------------------------------
def test_primary_killed_mid_batch_counts_add_up_and_kafka_keeps_everything(
    on_cluster: Any, env: dict[str, str], topic: str, prefix: str, services: Any
) -> None:
    create_topic(services.bootstrap, topic)
    proc = kafkaredis_process(
        ["produce", "--file", "-", "--json", "--no-verify"],
        {**env, "KAFKAREDIS_REDIS__TIMEOUT_S": "1"},
        stdin=subprocess.PIPE,
    )
    victim = primary_ports(on_cluster)[0]
    killed = threading.Event()
    sent = [0]

    def writer() -> None:  # input until the kill, then 20,000 lines more, then the end
        block, after = 1000, 0
        with suppress(BrokenPipeError):
            while after < 20:
                feed(proc, [f"v{i}" for i in range(sent[0], sent[0] + block)])
                sent[0] += block
                after += killed.is_set()
                if sent[0] >= 500_000:
                    break
            assert proc.stdin is not None
            proc.stdin.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: len(node_keys(victim, f"{prefix}:msg:*")) > 0,
            60,
            what="records on the primary about to be killed",
        )
        on_cluster.kill(victim)
        killed.set()
        code, out, err = finish(proc, 180)
        thread.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        on_cluster.start(victim)
        on_cluster.wait_healthy(90)
    summary = json.loads(out.splitlines()[-1])
    n = sent[0]
    assert n < 500_000  # the kill came mid-batch
    assert summary["delivered"] == n and summary["failed"] == 0, summary
    assert summary["cached"] + summary["cache_failed"] == n, summary
    assert code == (0 if summary["cache_failed"] == 0 else 5), (code, err)
    if summary["cache_failed"]:
        assert any(e.startswith("cache: Redis at") for e in summary["errors"]), summary
    assert topic_count(services.bootstrap, topic) == n  # the Kafka sends stand
    records = sum(keys_by_primary(on_cluster, f"{prefix}:msg:*").values())
    assert records >= summary["cached"]  # every record said cached is there


def test_primary_killed_during_the_timer_failures_counted_then_cached_again(
    cli: Cli,
    on_cluster: Any,
    env: dict[str, str],
    cluster_client: RedisCluster,
    topic: str,
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pointer_slot = cluster_client.keyslot(f"{prefix}:latest:{topic}")
    victim = int(cluster_client.nodes_manager.get_node_from_slot(pointer_slot).port)
    timer = TimerProcess(["--interval", "0.2", "--timeout", "1"], env)
    try:
        timer.wait_ticks(lambda t: sum(x["cached"] for x in t) >= 3, what="3 cached ticks")
        on_cluster.kill(victim)
        killed_at = max(t["tick"] for t in timer.ticks)
        timer.wait_ticks(
            lambda t: any(x["cache_error"] for x in t if x["tick"] > killed_at),
            what="a tick whose record could not be written",
        )
        timer.wait_ticks(
            lambda t: sum(x["cached"] for x in t if x["tick"] > killed_at) >= 3,
            timeout=60,
            what="cached ticks after the replica took over",
        )
        assert timer.stop() == 0, timer.stderr
        # the replica took over: check passes (exit 0), the dead node shown down (asked
        # through every node: the URL's own may be the dead one)
        monkeypatch.setenv("KAFKAREDIS_REDIS__URL", every_node(on_cluster))
        checks = run_json(cli, "check")["checks"]
        head = next(r for r in checks if r["service"] == "redis")
        assert head["ok"] and "cluster_state ok" in head["detail"]
        dead = next(r for r in checks if r["target"] == f"127.0.0.1:{victim}")
        assert ", down" in dead["detail"] and "slots" not in dead["detail"], dead
    finally:
        timer.kill()
        on_cluster.start(victim)
        on_cluster.wait_healthy(90)
    ticks, summary = timer.ticks, timer.summary
    failed = [t for t in ticks if t["cache_error"]]
    assert failed and summary["cache_failed"] == len(failed)
    assert all(t["verified"] for t in ticks)  # the Kafka side never stopped
    last = ticks[-1]
    assert last["cached"]
    assert stored(cluster_client, f"{prefix}:msg:{last['id']}").id == last["id"]


# -- Sentinel --------------------------------------------------------------------------------
def test_sentinel_produce_check_and_cache(cli: Cli, on_sentinel: Any, prefix: str) -> None:
    sent = run_json(cli, "produce", "via sentinel")
    assert sent["cached"] and sent["verified"]
    with redis.Redis(port=on_sentinel.master_port) as master:
        assert stored(master, f"{prefix}:msg:{sent['id']}").value == b"via sentinel"
    assert run_json(cli, "cache", "get", sent["id"])["record"]["status"] == "verified"
    data = run_json(cli, "check")
    rows = [r for r in data["checks"] if r["service"] in REDIS_ROWS]
    assert rows[0]["ok"] and rows[0]["detail"].startswith("sentinel, service 'kafkaredis', master")
    assert {r["service"] for r in rows} == {"redis", "redis sentinel", "redis node"}
    assert f"127.0.0.1:{on_sentinel.master_port}" in {r["target"] for r in rows}


def test_sentinel_failover_mid_timer_the_timer_carries_on_to_the_new_master(
    on_sentinel: Any, env: dict[str, str], prefix: str
) -> None:
    timer = TimerProcess(["--interval", "0.2", "--timeout", "1"], env)
    old = on_sentinel.master_port
    try:
        timer.wait_ticks(lambda t: sum(x["cached"] for x in t) >= 3, what="3 cached ticks")
        on_sentinel.kill_master()
        killed_at = max(t["tick"] for t in timer.ticks)
        new = on_sentinel.wait_master_changed(old, 60)
        timer.wait_ticks(
            lambda t: sum(x["cached"] for x in t if x["tick"] > killed_at) >= 3,
            timeout=60,
            what="cached ticks after the failover",
        )
        assert timer.stop() == 0, timer.stderr
    finally:
        timer.kill()
        on_sentinel.start(old)
        on_sentinel.wait_healthy(90)
    ticks, summary = timer.ticks, timer.summary
    failed = [t for t in ticks if t["cache_error"]]
    assert failed and summary["cache_failed"] == len(failed)  # the outage, counted
    assert summary["sent"] == len(ticks) and all(t["verified"] for t in ticks)
    last = ticks[-1]
    with redis.Redis(port=new) as master:  # written to the new master
        assert stored(master, f"{prefix}:msg:{last['id']}").id == last["id"]


def test_sentinel_with_no_such_service_is_a_named_error(
    cli: Cli, on_sentinel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"redis+sentinel://127.0.0.1:{on_sentinel.sentinel_port}/nosuch/0"
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", url)
    result = cli("cache", "list")
    assert result.exit_code == 5 and "Traceback" not in result.stderr
    assert "nosuch" in result.stderr and result.stderr.count("\n") == 1
    check = cli("check", "--json")
    assert check.exit_code == 1
    head = next(r for r in json.loads(check.stdout)["checks"] if r["service"] == "redis")
    assert not head["ok"] and "no master" in head["detail"] and "nosuch" in head["detail"]


def test_a_replica_used_as_the_master_fails_check(
    cli: Cli, on_sentinel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica = next(p for p in on_sentinel.data_ports if p != on_sentinel.master_port)
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", f"redis://127.0.0.1:{replica}/0")
    check = cli("check", "--json")
    assert check.exit_code == 1, check.stdout
    head = next(r for r in json.loads(check.stdout)["checks"] if r["service"] == "redis")
    assert not head["ok"] and "replica" in head["detail"] and "READONLY" in head["detail"]


# -- bad forms ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("redis://127.0.0.1:1/0?cluster=maybe", "cluster"),
        ("redis://127.0.0.1:1/0?cluster=true", "KAFKAREDIS_REDIS__MODE"),
        ("redix://127.0.0.1:1/0", "redix://"),
        ("redis+sentinel://127.0.0.1:1", "SERVICE"),
        ("redis://127.0.0.1:1,127.0.0.1:x/0", "127.0.0.1:x"),
    ],
)
def test_bad_redis_urls_are_configuration_errors(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, url: str, named: str
) -> None:
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", url)
    for args in (("cache", "list"), ("produce", "x")):
        result = cli(*args)
        assert result.exit_code == 3, (url, result.stderr)
        assert named in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.startswith("kafkaredis: error: bad setting: redis.url")


def test_a_mode_that_does_not_fit_the_url_is_a_configuration_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKAREDIS_REDIS__MODE", "sentinel")
    result = cli("cache", "list")
    assert result.exit_code == 3 and "redis+sentinel://" in result.stderr
    monkeypatch.setenv("KAFKAREDIS_REDIS__MODE", "sometimes")
    result = cli("cache", "list")
    assert result.exit_code == 3 and "KAFKAREDIS_REDIS__MODE" in result.stderr
