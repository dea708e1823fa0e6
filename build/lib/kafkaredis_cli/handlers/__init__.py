"""Handlers: the flow of each command, on ports only (no client library imported)."""
