"""scripts/stack in pieces: the state dir and its nodes (layout), processes, Kafka nodes,
Redis modes, prerequisites (java, redis-server, the Kafka jars) and the commands."""
