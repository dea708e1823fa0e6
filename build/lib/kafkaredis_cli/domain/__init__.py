"""Plain, typed data the handlers and ports exchange; no client library here."""
