"""The timer's loop on the real handlers and in-memory fakes, with a clock of the test's own."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from kafkaredis_cli.canary.max_loss_option import LossLimit
from kafkaredis_cli.canary.probe import PRODUCER_HEADER, SEQ_HEADER, Probe
from kafkaredis_cli.canary.reports import RunReport, TickReport, TimerOptions
from kafkaredis_cli.canary.run import Canary
from kafkaredis_cli.canary.signals import Stopper
from kafkaredis_cli.canary.statistics import RunStatistics
from kafkaredis_cli.canary.view import JsonView, PlainView, sparkline, summary_lines, tick_line
from kafkaredis_cli.domain.commands import ProduceMessage
from kafkaredis_cli.errors import ConfigError
from kafkaredis_cli.mediator import Command, Next
from tests.fakes import (
    FakeApp,
    FakeBroker,
    FakeProducer,
    FakeTopicFollower,
    FakeTopicLayouts,
    fake_app,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestStopper(Stopper):
    """Waiting moves the test's clock on instead of sleeping."""

    __test__ = False

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout_s: float) -> bool:
        self.clock.now += max(0.0, timeout_s)
        return self.stopped


class Ticks:
    def __init__(self, action: Callable[[TickReport], None] | None = None) -> None:
        self.reports: list[TickReport] = []
        self.action = action

    def tick(self, report: TickReport, stats: RunStatistics) -> None:
        self.reports.append(report)
        if self.action is not None:
            self.action(report)


def tick_durations(app: FakeApp, clock: Clock, durations: list[float]) -> None:
    """Each ProduceMessage takes the next of `durations` on the test's clock."""
    remaining = iter(durations)

    def behaviour(command: Command[Any], next_: Next) -> Any:
        result = next_()
        if isinstance(command, ProduceMessage):
            clock.now += next(remaining, 0.0)
        return result

    app.mediator.add_behaviour(behaviour)


def options(**kwargs: Any) -> TimerOptions:
    values: dict[str, Any] = {
        "interval_s": 1.0,
        "count": 3,
        "topics": ("t",),
        "timeout_s": 0.05,
        "max_loss": LossLimit(),
        "producer_id": "test-producer",
    }
    values.update(kwargs)
    return TimerOptions(**values)


def canary(
    app: FakeApp,
    clock: Clock,
    ticks: Ticks,
    layouts: FakeTopicLayouts | None = None,
    **kwargs: Any,
) -> Canary:
    layouts = layouts or FakeTopicLayouts(app.broker, brokers=(1,))
    return Canary(
        mediator=app.mediator,
        producer=app.producer,
        store=app.store,
        keys=app.keys,
        options=options(**kwargs),
        stats_ttl_s=3600,
        listener=ticks,
        layouts=layouts,
        follower=FakeTopicFollower(app.broker, layouts),
        clock=clock,
    )


def run(
    app: FakeApp,
    ticks: Ticks | None = None,
    layouts: FakeTopicLayouts | None = None,
    **kwargs: Any,
) -> tuple[RunReport, Ticks]:
    clock = Clock()
    ticks = ticks or Ticks()
    subject = canary(app, clock, ticks, layouts, **kwargs)
    subject.warm_up()
    return subject.run(TestStopper(clock)), ticks


def test_every_tick_is_produced_cached_and_read_back():
    app = fake_app()
    report, ticks = run(app, count=4)
    assert report.completed and report.loss_ok
    stats = report.stats
    assert (stats.sent, stats.delivered, stats.verified, stats.lost) == (4, 4, 4, 0)
    assert [t.seq for t in ticks.reports] == [0, 1, 2, 3]
    assert all(t.verified and t.cached and t.round_trip_ms is not None for t in ticks.reports)
    log = app.broker.log("t")
    assert [Probe.from_message("t", r.value, r.headers).seq for r in log] == [0, 1, 2, 3]
    assert all(r.key == b"test-producer" for r in log)
    assert stats.round_trip.count == 4 and stats.delivery.count == 4


def test_topics_rotate_and_each_has_its_own_sequence():
    app = fake_app()
    report, ticks = run(app, count=5, topics=("a", "b"))
    assert [(t.topic, t.seq) for t in ticks.reports] == [
        ("a", 0),
        ("b", 0),
        ("a", 1),
        ("b", 1),
        ("a", 2),
    ]
    assert report.stats.topics["a"].verified == 3
    assert report.stats.topics["b"].verified == 2


def test_ticks_run_on_the_grid():
    app = fake_app()
    clock = Clock()
    tick_durations(app, clock, [0.1, 0.2, 0.1, 0.3])
    ticks = Ticks()
    canary(app, clock, ticks, count=4).run(TestStopper(clock))
    start = ticks.reports[0].started_at_ms  # wall clock; the slots say where on the grid
    assert [t.slot for t in ticks.reports] == [0, 1, 2, 3]
    assert all(not t.late and t.skipped == 0 and t.overrun_ms == 0 for t in ticks.reports)
    assert all(t.late_ms == 0 for t in ticks.reports)
    assert start > 0


def test_an_overrunning_tick_is_reported_and_passed_slots_skipped():
    app = fake_app()
    clock = Clock()
    tick_durations(app, clock, [0.1, 2.7, 1.3, 0.1, 0.1])
    ticks = Ticks()
    report = canary(app, clock, ticks, count=5).run(TestStopper(clock))
    # slot 1 runs 1.0 -> 3.7: slots 2 and 3 pass (3 by more than half an interval)
    assert [t.slot for t in ticks.reports] == [0, 1, 4, 5, 6]
    second, third, fourth = ticks.reports[1:4]
    assert second.overrun_ms == pytest.approx(1700)
    assert (third.skipped, third.late) == (2, False)
    # slot 4 runs 4.0 -> 5.3: slot 5 is 0.3 s overdue, within the grace: it runs late
    assert (fourth.skipped, fourth.late) == (0, True)
    assert fourth.late_ms == pytest.approx(300)
    assert (report.stats.overruns, report.stats.skipped, report.stats.late_ticks) == (2, 2, 1)


def test_broker_down_every_tick_lost_with_its_reason_and_the_run_ends_on_count():
    broker = FakeBroker()
    app = fake_app(broker=broker, producer=FakeProducer(broker, hold=True))
    report, ticks = run(app, count=3)
    stats = report.stats
    assert report.completed and not report.loss_ok
    assert (stats.sent, stats.delivered, stats.verified, stats.lost, stats.failed) == (
        3,
        0,
        0,
        3,
        3,
    )
    assert all(
        t.status == "lost" and "no delivery report" in (t.error or "") for t in ticks.reports
    )
    assert stats.errors == {
        "no delivery report for <id> within 0.05s (broker unreachable?) "
        "(partition 0 led by broker 1)": 3
    }
    assert stats.sent == stats.verified + stats.lost


def test_failed_delivery_reports_are_lost():
    broker = FakeBroker()
    app = fake_app(
        broker=broker, producer=FakeProducer(broker, fail_with="Local: Message timed out")
    )
    report, ticks = run(app, count=2, max_loss=LossLimit(count=2))
    assert report.stats.lost == 2 and report.loss_ok
    assert "Message timed out" in (ticks.reports[0].error or "")


def test_redis_down_ticks_verify_but_count_as_failed_and_recover():
    app = fake_app()

    def redis_down_on_tick_2(report: TickReport) -> None:
        app.store.fail = "Redis at redis://x:1/0 unreachable" if report.tick == 1 else None

    report, ticks = run(app, Ticks(redis_down_on_tick_2), count=3)
    second = ticks.reports[1]
    assert second.verified and not second.cached
    assert "unreachable" in (second.cache_error or "")
    assert ticks.reports[2].cached and ticks.reports[2].cache_error is None
    stats = report.stats
    assert (stats.verified, stats.lost, stats.cache_failed, stats.failed) == (3, 0, 1, 1)
    assert report.loss_ok  # the messages went through Kafka; the cache failure is shown


def test_statistics_are_kept_in_redis_under_the_timer_key():
    app = fake_app()
    report, _ = run(app, count=2)
    assert report.stats_key == app.keys.timer("test-producer")
    saved = app.store.other[report.stats_key]
    assert saved["status"] == "finished"
    assert (saved["sent"], saved["verified"], saved["producer_id"]) == (2, 2, "test-producer")


def test_a_stop_ends_the_run_after_the_tick_in_flight():
    app = fake_app()
    clock = Clock()
    stopper = TestStopper(clock)
    ticks = Ticks(lambda r: stopper.stop("SIGTERM") if r.tick == 2 else None)
    report = canary(app, clock, ticks, count=None).run(stopper)
    assert len(ticks.reports) == 2
    assert report.stopped_by == "SIGTERM" and report.interrupted
    assert app.store.other[report.stats_key]["status"] == "stopped"


def test_a_second_interrupt_aborts_the_tick_in_flight_which_counts_as_lost():
    app = fake_app()
    clock = Clock()
    sends = 0

    def interrupt_the_second_send(command: Command[Any], next_: Next) -> Any:
        nonlocal sends
        if isinstance(command, ProduceMessage):
            sends += 1
            if sends == 2:
                raise KeyboardInterrupt
        return next_()

    app.mediator.add_behaviour(interrupt_the_second_send)
    report = canary(app, clock, Ticks(), count=None).run(TestStopper(clock))
    stats = report.stats
    assert report.stopped_by == "abort"
    assert (stats.ticks, stats.sent, stats.verified, stats.lost) == (1, 2, 1, 1)
    assert stats.last_error == "interrupted before it was read back"


def test_bad_configuration_ends_the_run():
    app = fake_app()

    def bad(command: Command[Any], next_: Next) -> Any:
        raise ConfigError("Kafka configuration: no such property")

    app.mediator.add_behaviour(bad)
    clock = Clock()
    with pytest.raises(ConfigError):
        canary(app, clock, Ticks()).run(TestStopper(clock))


def test_probe_carries_producer_sequence_and_send_time():
    message = Probe(producer_id="p1", topic="t", seq=7, sent_at_ms=123).to_message()
    headers = dict(message.headers)
    assert headers[PRODUCER_HEADER] == b"p1" and headers[SEQ_HEADER] == b"7"
    value = json.loads(message.value or b"")
    assert (value["producer_id"], value["seq"], value["sent_at"]) == ("p1", 7, 123)
    back = Probe.from_message("t", message.value, message.headers)
    assert back == Probe(producer_id="p1", topic="t", seq=7, sent_at_ms=123)
    assert Probe.from_message("t", b"x", ()) is None


def test_json_view_lines_add_up_to_the_summary():
    app = fake_app()
    stream = io.StringIO()
    view = JsonView(stream)
    report, ticks = run(app, Ticks(), count=3)
    for tick in ticks.reports:
        view.tick(tick, report.stats)
    view.finish(report)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["type"] for line in lines] == ["tick", "tick", "tick", "summary"]
    summary = lines[-1]
    assert summary["verified"] == sum(line["verified"] for line in lines[:-1]) == 3
    assert summary["latency_ms"]["round_trip"]["p99"] is not None


def test_plain_lines_and_summary_format():
    app = fake_app()
    report, ticks = run(app, count=2)
    line = tick_line(ticks.reports[0])
    assert line.startswith("tick 1  slot 0  t[0]@0 broker 1  seq 0  verified  round trip ")
    lines = summary_lines(report)
    assert lines[0] == (
        "timer summary: sent 2  delivered 2  verified 2  lost 0  late 0  duplicated 0  "
        "failed 0  cache failed 0"
    )
    assert lines[1].startswith("loss 0/2 (--max-loss 0: ok)")
    assert lines[2].startswith("round trip  p50 ")
    out = io.StringIO()
    from rich.console import Console

    PlainView(Console(file=out, width=200)).finish(report)
    assert out.getvalue().splitlines()[0] == lines[0]


def test_sparkline():
    assert sparkline([1.0, 2.0, None, 9.0]) == "▁▂×█"
    assert sparkline([None, None]) == "××"
    assert sparkline([3.0, 3.0]) == "▁▁"
    assert sparkline([]) == ""


def test_live_view_draws_counts_latency_and_the_last_error_then_the_summary():
    from rich.console import Console

    from kafkaredis_cli.canary.view import LiveView

    app = fake_app()

    def redis_down_on_tick_2(report: TickReport) -> None:
        app.store.fail = "Redis at redis://x:1/0 unreachable" if report.tick == 1 else None

    report, ticks = run(app, Ticks(redis_down_on_tick_2), count=3, topics=("a", "b"))
    screen = io.StringIO()
    view = LiveView(Console(file=screen, force_terminal=True, width=120, color_system=None))
    view.start(report.options, report.stats_key)
    for tick in ticks.reports:
        view.tick(tick, report.stats)
    drawn = screen.getvalue()
    assert "producer test-producer" in drawn
    assert "last error: Redis at redis://x:1/0 unreachable" in drawn
    assert "round trip  p50 " in drawn and "recent " in drawn
    view.finish(report)
    assert (
        "timer summary: sent 3  delivered 3  verified 3  lost 0  late 0  duplicated 0  "
        "failed 1  cache failed 1" in screen.getvalue()
    )
    view.close()  # closing twice is harmless


def three_brokers(app: FakeApp) -> FakeTopicLayouts:
    return FakeTopicLayouts(app.broker, brokers=(1, 2, 3))


def test_ticks_rotate_over_every_partition_so_every_broker_is_probed():
    app = fake_app()
    layouts = three_brokers(app)
    report, ticks = run(app, layouts=layouts, count=7)
    assert [t.partition for t in ticks.reports] == [0, 1, 2, 0, 1, 2, 0]
    assert [t.broker for t in ticks.reports] == [1, 2, 3, 1, 2, 3, 1]
    assert [t.partition_seq for t in ticks.reports] == [0, 0, 0, 1, 1, 1, 2]
    stats = report.stats
    assert {b: f.verified for b, f in stats.brokers.items()} == {1: 3, 2: 2, 3: 2}
    assert [len(app.broker.log("t", p)) for p in range(3)] == [3, 2, 2]
    assert report.layouts is not None and report.layouts["t"].actions
    data = report.to_json()
    assert set(data["per_broker"]) == {"1", "2", "3"}
    assert data["per_partition"]["t[2]"]["read"] == 2  # the independent consumer's count
    assert ticks.reports[0].figures is not None
    assert ticks.reports[0].figures["broker"]["verified"] == 1


def test_a_probe_written_twice_is_counted_duplicated_where_it_landed():
    app = fake_app()
    layouts = three_brokers(app)

    def copy_tick_1(report: TickReport) -> None:
        if report.tick == 2:  # an earlier tick's exact bytes and headers, from outside
            first = app.broker.log("t", 0)[0]
            app.broker.append("t", first.value, key=first.key, headers=first.headers, partition=0)

    report, ticks = run(app, Ticks(copy_tick_1), layouts=layouts, count=4)
    stats = report.stats
    assert (stats.duplicated, stats.lost, stats.verified) == (1, 0, 4)
    assert stats.brokers[1].duplicated == 1 and stats.partitions[("t", 0)].duplicated == 1
    assert [a.what for t in ticks.reports for a in t.arrivals] == ["duplicate"]
    assert ticks.reports[2].arrivals[0].seq == 0


def test_a_lost_tick_whose_probe_lands_later_is_late_and_the_broker_is_named():
    broker = FakeBroker()
    producer = FakeProducer(broker, hold=True)
    app = fake_app(broker=broker, producer=producer)
    layouts = three_brokers(app)

    def release_after_tick_2(report: TickReport) -> None:
        if report.tick == 2:
            producer.hold = False  # the held probes of ticks 1 and 2 land at the next poll

    report, ticks = run(app, Ticks(release_after_tick_2), layouts=layouts, count=4)
    first, second = ticks.reports[:2]
    assert first.status == second.status == "lost"
    assert "(partition 0 led by broker 1)" in (first.error or "")
    stats = report.stats
    assert (stats.verified, stats.late, stats.lost) == (2, 2, 0)
    assert (stats.brokers[1].late, stats.brokers[2].late) == (1, 1)
    assert stats.sent == stats.verified + stats.late + stats.lost
    assert report.loss_ok  # late is not lost
    late = [(a.partition, a.seq) for t in ticks.reports for a in t.arrivals if a.what == "late"]
    assert sorted(late) == [(0, 0), (1, 1)]


def test_another_timers_probes_on_the_same_topic_are_kept_apart():
    app = fake_app()
    layouts = three_brokers(app)

    def other_timer(report: TickReport) -> None:
        probe = Probe(
            producer_id="other", topic="t", seq=0, sent_at_ms=1, partition=0, partition_seq=0
        )
        message = probe.to_message()
        app.broker.append("t", message.value, headers=message.headers, partition=0)

    report, _ = run(app, Ticks(other_timer), layouts=layouts, count=3)
    stats = report.stats
    assert (stats.lost, stats.duplicated, stats.verified) == (0, 0, 3)
    assert stats.ledger.others_json() == {"other": {"read": 1, "duplicated": 2, "gaps": 0}}
    assert "  other producer other: read 1  duplicated 2  gaps 0" in summary_lines(report)


def test_a_broker_gone_from_the_metadata_is_named_in_lost_ticks_and_the_summary():
    broker = FakeBroker()
    producer = FakeProducer(broker)
    app = fake_app(broker=broker, producer=producer)
    layouts = three_brokers(app)
    clock = Clock()

    def broker_2_dies_after_tick_2(report: TickReport) -> None:
        if report.tick == 2:
            follower.missing = frozenset({2})
            producer.hold = True

    ticks = Ticks(broker_2_dies_after_tick_2)
    subject = canary(app, clock, ticks, layouts, count=4)
    follower = subject._follower  # type: ignore[assignment]
    subject.warm_up()
    report = subject.run(TestStopper(clock))
    third = ticks.reports[2]
    assert third.status == "lost" and third.missing_brokers == (2,)
    assert "(partition 2 led by broker 3; broker(s) 2 missing from the cluster)" in (
        third.error or ""
    )
    assert report.stats.missing_brokers == {2: 2}
    assert report.to_json()["brokers_missing"] == {"2": 2}
    assert "broker 2 missing from the cluster's metadata for 2 tick(s)" in summary_lines(report)


def test_live_view_shows_a_row_per_broker_and_partition_with_the_failing_one():
    from rich.console import Console

    from kafkaredis_cli.canary.view import LiveView

    broker = FakeBroker()
    producer = FakeProducer(broker)
    app = fake_app(broker=broker, producer=producer)
    layouts = three_brokers(app)

    def broker_2_stops_answering(report: TickReport) -> None:
        producer.hold = report.tick == 1  # tick 2 (partition 1, broker 2) gets no report

    report, ticks = run(app, Ticks(broker_2_stops_answering), layouts=layouts, count=3)
    screen = io.StringIO()
    view = LiveView(Console(file=screen, force_terminal=True, width=200, color_system=None))
    view.start(report.options, report.stats_key)
    for tick in ticks.reports:
        view.tick(tick, report.stats)
    view.close()
    drawn = screen.getvalue().split("kafkaredis timer")[-1]  # the last frame
    rows = {
        line.split("  sent")[0].strip(): line for line in drawn.splitlines() if "  sent " in line
    }
    assert list(rows) == ["broker 1", "broker 2", "broker 3", "t[0]", "t[1]", "t[2]"]
    assert "sent 1  verified 1  lost 0  late 0" in rows["t[0]"]
    # tick 2's delivery timed out, then its probe landed: late, not lost
    assert "sent 1  verified 0  lost 0  late 1" in rows["t[1]"]
    assert "no delivery report for" in rows["broker 2"]
    assert "no delivery report" not in rows["broker 1"]
    assert "p50 " in rows["broker 1"] and "p99 " in rows["broker 1"]
    assert "recent " in drawn and "p50 " in drawn.split("recent ")[1]
