"""kafkaredis: send to Kafka, keep a copy in Redis, read back, and run a canary."""

__version__ = "0.1.0"
