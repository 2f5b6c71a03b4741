"""Serve a Lambda handler over plain HTTP by translating requests into API Gateway (REST, payload v1) events.

This is how the offline stack runs the *real* handler: the same code path as behind API Gateway, including binary
media types (bodies of non-text content types are passed base64-encoded, as API Gateway does when configured so).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass
class LambdaContextStub:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "mjapi-api-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:mjapi-api-local"
    aws_request_id: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def build_event(
    method: str, raw_path: str, headers: dict[str, str], body: bytes | None, stage: str = "v1"
) -> dict[str, Any]:
    parts = urlsplit(raw_path)
    multi = parse_qs(parts.query, keep_blank_values=True)
    single = {k: v[-1] for k, v in multi.items()}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    is_text = not body or content_type.startswith(_TEXT_TYPES)
    encoded: str | None = None
    if body:
        encoded = body.decode("utf-8", errors="replace") if is_text else base64.b64encode(body).decode()
    path = parts.path or "/"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": single or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method.upper(),
            "path": path,  # served at / like a custom domain (no stage prefix): Swagger's server is "/"
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": encoded,
        "isBase64Encoded": bool(body) and not is_text,
    }


def response_parts(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    status = int(result.get("statusCode", 500))
    headers: list[tuple[str, str]] = []
    for key, value in (result.get("headers") or {}).items():
        headers.append((key, str(value)))
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if key in (result.get("headers") or {}):
            continue
        headers.extend((key, str(v)) for v in values)
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return status, headers, body


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the body waits for the client's delayed ACK
    # (~40 ms per keep-alive request).
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(
                413,
                [("Content-Type", "application/json")],
                json.dumps({"code": "payload_too_large", "message": "Request body over 10 MB."}).encode(),
            )
            return
        body = self.rfile.read(length) if length else None
        for route, extra in self.server.extra_routes.items():
            if self.path.startswith(route):
                status, headers, payload = extra(self.command, self.path, body)
                self._reply(status, headers, payload)
                return
        event = build_event(self.command, self.path, dict(self.headers.items()), body)
        context = LambdaContextStub(aws_request_id=event["requestContext"]["requestId"])
        try:
            result = self.server.lambda_handler(event, context)
            status, headers, payload = response_parts(result)
        except Exception:
            logger.exception("handler crashed")
            status, headers = 502, [("Content-Type", "application/json")]
            payload = json.dumps({"code": "bad_gateway", "message": "The Lambda handler failed."}).encode()
        self._reply(status, headers, payload)

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


ExtraRoute = Callable[[str, str, bytes | None], tuple[int, list[tuple[str, str]], bytes]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    lambda_handler: Handler
    extra_routes: dict[str, ExtraRoute]


def load_handler(path: Path, attribute: str = "lambda_handler") -> Handler:
    """A fresh copy of a handler module, as a new Lambda container would import it (module state not shared)."""
    name = f"_lambda_container_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = getattr(module, attribute)
    return handler


class ContainerPool:
    """Lambda runs one request at a time per container and scales out with more containers; so does this pool: each
    request borrows a free container (a fresh copy of the handler module) and waits only when all are busy. Requests
    in different containers run at once in this process, as they would in separate Lambda sandboxes: the resolver
    keeps the request being resolved per thread (``mjapi.api.request_state``), not on Powertools' shared class."""

    def __init__(self, factory: Callable[[], Handler], size: int = 4) -> None:
        self._free: queue.Queue[Handler] = queue.Queue()
        for _ in range(size):
            self._free.put(factory())

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        handler = self._free.get()
        try:
            return handler(event, context)
        finally:
            self._free.put(handler)


class LambdaHttpServer:
    """A threaded HTTP server in front of a Lambda handler (plus optional extra routes, e.g. a CDN stand-in)."""

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 8000,
        extra_routes: dict[str, ExtraRoute] | None = None,
    ) -> None:
        self._server = _Server((host, port), _RequestHandler)
        self._server.lambda_handler = handler
        self._server.extra_routes = extra_routes or {}
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LambdaHttpServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="lambda-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=10)
