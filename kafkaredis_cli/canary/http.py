"""The metrics port's HTTP server: /metrics (Prometheus text), /healthz (JSON, 200 or
503, health.py), 404 for any other path. A ThreadingHTTPServer on a daemon thread, so
a slow scraper never holds up the timer's loop."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]


class _Handler(BaseHTTPRequestHandler):
    server: MetricsServer
    timeout = 10.0  # a client that connects and says nothing lets go of its thread

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            status, content_type, body = 200, *self.server.metrics()
        elif path == "/healthz":
            healthy, doc = self.server.health()
            status = 200 if healthy else 503
            content_type = "application/json"
            body = (json.dumps(doc, sort_keys=True) + "\n").encode()
        else:
            status, content_type = 404, "text/plain; charset=utf-8"
            body = b"not found: this port serves /metrics and /healthz\n"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the timer's output is its ticks, not access logs


class MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        metrics: Callable[[], tuple[str, bytes]],
        health: HealthCheck,
    ) -> None:
        self.metrics = metrics
        self.health = health
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self._thread = threading.Thread(target=self.serve_forever, name="metrics-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
