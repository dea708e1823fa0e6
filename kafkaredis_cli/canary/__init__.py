"""The timer: a canary that proves produce -> broker -> read back and the cache, tick by tick.

schedule    the fixed grid the ticks run on (start + k * interval)
placement   a partition led by each broker; the rotation of ticks over partitions
probe       the test message: producer id, per-topic and per-partition sequence, send time
max_loss_option  --max-loss: a count or a fraction (loss itself is counted in statistics)
histogram   latency in fixed memory (log buckets), constant time to record
ledger      the independent consumer's duplicates and gaps per (producer, topic, partition)
figures     one scope's counts (Where a tick ran, the Sink for metrics), percentile
statistics  sent / verified / lost / late / duplicated, in total, per partition and broker:
            where loss is computed (record_lost, and a late probe moved from lost to late)
metrics     --metrics-port: the same counts for Prometheus
ports       the canary's own ports: topic layout, the independent consumer
view        live rich view, plain lines, or JSON lines
signals     Ctrl-C / SIGTERM: stop after the tick in flight
reports     the run's options, each tick's report, the summary (and their JSON)
run         the loop itself, on the mediator (the same ProduceMessage path as `produce`)
launch      run_timer: the app for the timer, /metrics if asked, the canary run
"""
