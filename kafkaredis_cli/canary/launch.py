"""run_timer: build the app for the timer, serve /metrics and /healthz if asked, run the
canary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkaredis_cli.canary.reports import RunReport, TickListener, TimerOptions, TimerView
from kafkaredis_cli.canary.run import Canary
from kafkaredis_cli.canary.signals import Stopper

if TYPE_CHECKING:
    from kafkaredis_cli.settings import Settings

# librdkafka defaults for the timer's clients (-X wins): notice a returning broker soon.
TIMER_KAFKA_PROPERTIES = {"reconnect.backoff.max.ms": "1000"}
REDIS_SHARE = 4  # a Redis command may take at most this share of the tick's timeout


def timer_settings(settings: Settings, timeout_s: float) -> Settings:
    """The run's settings: no single call (metadata, a Redis command) outlasts a tick."""
    kafka = settings.kafka.model_copy(
        update={
            "timeout_s": min(settings.kafka.timeout_s, timeout_s),
            "properties": {**TIMER_KAFKA_PROPERTIES, **settings.kafka.properties},
        }
    )
    redis = settings.redis.model_copy(
        update={
            "timeout_s": min(settings.redis.timeout_s, max(0.05, timeout_s / REDIS_SHARE)),
            "retries": min(settings.redis.retries, 1),
        }
    )
    return settings.model_copy(update={"kafka": kafka, "redis": redis})


def run_timer(
    settings: Settings, options: TimerOptions, view: TimerView, stopper: Stopper
) -> RunReport:
    """Build the app (timer profile), serve /metrics if asked, warm up, tick until --count
    or a signal, read what is still arriving, flush."""
    from kafkaredis_cli.bootstrap import build_app

    sink = None
    watch = None
    listener: TickListener = view
    if options.metrics_port is not None:
        from kafkaredis_cli.canary.certificates import CertificateWatch
        from kafkaredis_cli.canary.health import Health, HealthListener
        from kafkaredis_cli.canary.metrics import PrometheusSink

        health = Health(options.interval_s, options.timeout_s, options.producer_id)
        listener = HealthListener(health, view)
        sink = PrometheusSink(options.producer_id)
        sink.serve(options.metrics_host, options.metrics_port, health.check)
        watch = CertificateWatch(settings, sink)
        watch.start()
    app = build_app(
        timer_settings(settings, options.timeout_s), "timer", delivery_timeout_s=options.timeout_s
    )
    layouts, follower = app.canary_clients()
    try:
        canary = Canary(
            mediator=app.mediator,
            producer=app.producer,
            store=app.store,
            keys=app.keys,
            options=options,
            stats_ttl_s=settings.redis.ttl_s,
            listener=listener,
            layouts=layouts,
            follower=follower,
            sink=sink,
        )
        view.start(options, canary.stats_key)
        try:
            canary.warm_up()
            report = canary.run(stopper)
        finally:
            view.close()  # a live display gives the terminal back, whatever happened
    finally:
        follower.close()
        layouts.close()
        app.close()  # flushes the producer (bounded by the timeout)
        if watch is not None:
            watch.close()
        if sink is not None:
            sink.close()
    view.finish(report)
    return report
