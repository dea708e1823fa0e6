"""The timer: a canary that proves produce -> broker -> read back and the cache, tick by tick.

schedule    the fixed grid the ticks run on (start + k * interval)
probe       the test message: producer id, per-topic sequence number, send time
loss        --max-loss: a count or a fraction
statistics  sent / delivered / verified / lost / duplicated, latency percentiles
view        live rich view, plain lines, or JSON lines
signals     Ctrl-C / SIGTERM: stop after the tick in flight
run         the loop itself, on the mediator (the same ProduceMessage path as `produce`)
"""
