"""A loopback HTTP server standing in for a CDN in unit tests: every path serves a distinct, real PNG."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def png_for(path: str, size: tuple[int, int] = (64, 64)) -> bytes:
    digest = hashlib.sha256(path.encode()).digest()
    img = Image.new("RGB", size, (digest[0], digest[1], digest[2]))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.hits.append(self.path)
        if path in self.server.missing:
            self.send_response(404)
            self.end_headers()
            return
        body = png_for(path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hits: list[str]
    missing: set[str]


@contextmanager
def image_server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.hits = []
    server.missing = set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def base_url(server: _Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"
