"""Adapters: the ports on confluent-kafka and redis-py. Only bootstrap imports these."""
