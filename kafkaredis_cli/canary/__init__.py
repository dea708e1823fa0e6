"""The timer: a canary that proves produce -> broker -> read back and the cache, tick by tick.

schedule    the fixed grid the ticks run on (start + k * interval)
placement   a partition led by each broker; the rotation of ticks over partitions
probe       the test message: producer id, per-topic and per-partition sequence, send time
loss        --max-loss: a count or a fraction
histogram   latency in fixed memory (log buckets), constant time to record
ledger      the independent consumer's duplicates and gaps per (producer, topic, partition)
statistics  sent / verified / lost / late / duplicated, in total, per partition and broker
metrics     --metrics-port: the same counts for Prometheus
ports       the canary's own ports: topic layout, the independent consumer
view        live rich view, plain lines, or JSON lines
signals     Ctrl-C / SIGTERM: stop after the tick in flight
run         the loop itself, on the mediator (the same ProduceMessage path as `produce`)
"""
