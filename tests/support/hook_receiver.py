"""A webhook receiver on loopback for tests: records every request and answers from a script.

``receiver.script`` is a list of statuses consumed one per request (then ``default``); special paths answer a redirect
(``/redirect?to=<url>``), a large body (``/big``) or trickle a byte at a time (``/slow``).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.requests.append(
                Received(self.command, parts.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = self.server.script.pop(0) if self.server.script else self.server.default
            self.server.arrived.notify_all()
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts.path == "/big":
            payload = b"x" * 200_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if parts.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                if self.server.stopping.is_set():
                    return
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
            return
        reply = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        return


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.requests: list[Received] = []
        self.script: list[int] = []
        self.default = 200
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.stopping = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up early (deadline, size bound) is expected here, not an error worth printing."""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The first ``count`` requests, once they have arrived (AssertionError after ``timeout`` seconds)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(f"{len(self.requests)} of {count} requests arrived in {timeout}s")
            return list(self.requests[:count])


@contextmanager
def hook_receiver(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    server = Receiver(tls)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="hook-receiver", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
