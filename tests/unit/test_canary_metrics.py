"""The Prometheus sink: names, labels, counters that never drop, fixed buckets."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kafkaredis_cli.canary.figures import UNKNOWN_BROKER, Where
from kafkaredis_cli.canary.metrics import BUCKETS, PrometheusSink
from kafkaredis_cli.canary.statistics import RunStatistics

P0 = Where("t", 0, 1)


def samples(sink: PrometheusSink) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(sink.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def labels(**extra: str) -> frozenset[tuple[str, str]]:
    return frozenset({"topic": "t", "partition": "0", "broker": "1", **extra}.items())


def test_a_run_statistics_feeds_the_counters_and_histograms():
    sink = PrometheusSink("me")
    stats = RunStatistics("me")
    stats.sink = sink
    sink.prepare(P0)
    before = samples(sink)
    assert before[("kafkaredis_canary_lost_total", labels())] == 0  # there from the start
    assert not any(name.endswith("_created") for name, _ in before)
    for _ in range(3):
        stats.record_sent(P0)
        stats.record_delivered(P0, 2.0)
    stats.record_verified(P0, 30.0)
    stats.record_lost(P0, 1, "timed out")
    stats.record_lost(P0, 2, "timed out")
    stats.record_arrival("me", P0, seq=1, stream_seq=1)  # late
    stats.record_arrival("me", P0, seq=1, stream_seq=1)  # and then a duplicate
    stats.record_cache_failure(P0, "Redis down")
    got = samples(sink)
    counts = {
        name: got[(f"kafkaredis_canary_{name}_total", labels())]
        for name in ("produced", "verified", "lost", "late", "duplicated", "cache_failed")
    }
    assert counts == {
        "produced": 3,
        "verified": 1,
        "lost": 2,  # counters never go down: the summary's lost is lost - late
        "late": 1,
        "duplicated": 1,
        "cache_failed": 1,
    }
    assert stats.lost == counts["lost"] - counts["late"]
    assert got[("kafkaredis_canary_delivery_seconds_count", labels())] == 3
    assert got[("kafkaredis_canary_round_trip_seconds_bucket", labels(le="0.025"))] == 0
    assert got[("kafkaredis_canary_round_trip_seconds_bucket", labels(le="0.05"))] == 1
    buckets = {dict(lbl)["le"] for name, lbl in got if name.endswith("round_trip_seconds_bucket")}
    assert buckets == {str(b) for b in BUCKETS} | {"+Inf"}
    last = got[
        ("kafkaredis_canary_broker_last_success_timestamp_seconds", frozenset({("broker", "1")}))
    ]
    assert last > 1.7e9
    info = [lbl for name, lbl in got if name == "kafkaredis_canary_run_info"]
    assert dict(info[0])["producer_id"] == "me"


def test_unknown_partition_and_broker_are_labelled_unknown():
    sink = PrometheusSink("me")
    sink.count("produced", Where("t", -1, UNKNOWN_BROKER))
    got = samples(sink)
    key = frozenset({"topic": "t", "partition": "unknown", "broker": "unknown"}.items())
    assert got[("kafkaredis_canary_produced_total", key)] == 1


def test_certificate_expiry_is_a_gauge_by_endpoint_and_role():
    sink = PrometheusSink("me")
    sink.certificate_expiry("127.0.0.1:9093", "kafka", 1_900_000_000.0)
    sink.certificate_expiry("/etc/kr/client.pem", "client", 1_800_000_000.0)
    sink.certificate_expiry("127.0.0.1:9093", "kafka", 1_950_000_000.0)  # renewed
    got = {
        dict(labels)["endpoint"] + "/" + dict(labels)["role"]: value
        for (name, labels), value in samples(sink).items()
        if name == "kafkaredis_canary_certificate_expiry_timestamp_seconds"
    }
    assert got == {"127.0.0.1:9093/kafka": 1_950_000_000.0, "/etc/kr/client.pem/client": 1.8e9}


def test_the_certificate_watch_finds_the_endpoints_from_the_settings():
    from kafkaredis_cli.canary.certificates import CertificateWatch
    from kafkaredis_cli.settings import Settings

    plain = CertificateWatch(Settings(), PrometheusSink("me"))
    assert not plain.wanted and plain.endpoints() == []
    secured = Settings(
        redis={"url": "rediss://u:pw@127.0.0.1:6380/0?ssl_certfile=/c.pem"},
        kafka={"properties": {"ssl.certificate.location": "/k.pem"}},
    )
    watch = CertificateWatch(secured, PrometheusSink("me"))
    assert watch.wanted
    # Kafka over PLAINTEXT presents no certificate: only Redis's server and client ones.
    assert [(e.role, e.address) for e in watch.endpoints()] == [
        ("redis", "127.0.0.1:6380"),
        ("client", "/c.pem"),
    ]


def test_missing_brokers_and_gaps_are_gauges_that_go_back_down():
    sink = PrometheusSink("me")
    stats = RunStatistics("me")
    stats.sink = sink
    sink.prepare(P0)
    sink.prepare(Where("t", 1, 2))
    got = samples(sink)
    missing = "kafkaredis_canary_broker_missing"
    assert got[(missing, frozenset({("broker", "1")}))] == 0  # there from the start
    assert got[("kafkaredis_canary_gaps", frozenset({("topic", "t"), ("partition", "0")}))] == 0
    stats.record_missing_brokers([2])
    assert samples(sink)[(missing, frozenset({("broker", "2")}))] == 1
    stats.record_missing_brokers([])
    assert samples(sink)[(missing, frozenset({("broker", "2")}))] == 0
    gaps = ("kafkaredis_canary_gaps", frozenset({("topic", "t"), ("partition", "0")}))
    stats.record_arrival("me", P0, seq=0, stream_seq=0)
    stats.record_arrival("me", P0, seq=2, stream_seq=2)  # 1 not read: a gap
    assert samples(sink)[gaps] == 1
    stats.record_arrival("me", P0, seq=1, stream_seq=1)  # out of order, not lost
    assert samples(sink)[gaps] == 0


def test_the_certificate_expiry_gauge_is_declared_without_samples():
    sink = PrometheusSink("me")
    text = generate_latest(sink.registry).decode()
    name = "kafkaredis_canary_certificate_expiry_timestamp_seconds"
    assert f"# TYPE {name} gauge" in text
    assert f"\n{name}{{" not in text
    sink.certificate_expiry("k:9093", "kafka", 2e9)
    got = samples(sink)
    assert got[(name, frozenset({("endpoint", "k:9093"), ("role", "kafka")}))] == 2e9
