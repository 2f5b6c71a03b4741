"""Copy images (and Animate's videos) from Discord's CDN into our bucket. Discord links expire; ours are
content-addressed and permanent, and their type is what the bytes are (PNG, WebP... or MP4), not what Discord says."""

from __future__ import annotations

import http.client
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import BinaryIO
from urllib.parse import quote, urljoin, urlsplit

import httpx

from mjapi.images import ImageFacts, InvalidImage, InvalidVideo, inspect_image, inspect_video, store_image
from mjapi.midjourney.models import Image as DiscordImage
from mjapi.models import Image

logger = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 64 * 1024 * 1024
#: Animate makes clips of a few seconds (a few MB); anything far larger is not what we expect to re-host.
MAX_VIDEO_BYTES = 100 * 1024 * 1024
Refresher = Callable[[Sequence[str]], dict[str, str]]


class ImageCopyFailed(Exception):
    pass


class _TooLarge(Exception):
    pass


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 256 * 1024
_MAX_LINE = 65536
_MAX_HEADERS = 100
_SAFE_IN_TARGET = "!#$%&'()*+,/:;=?@[]~"
#: How a request on a connection the server closed while it was idle fails (RemoteDisconnected is a ConnectionError).
_CLOSED = (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError)
_Origin = tuple[str, str, int]


class _Connection:
    """One HTTP/1.1 connection: its socket and a buffered reader on it."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class CdnClient:
    """HTTP/1.1 GETs from the CDN, written for the relay's attachment copies: keep-alive connections kept per host (at
    most ``max_idle`` idle, for ``keepalive`` seconds) and reused most recent first, redirects followed, a body read
    up to a cap, whether its length is declared, chunked or delimited by the close.

    The relay copies two attachments per job from up to ~64 threads. A shared ``httpx.Client`` cost ~2.3 ms of CPU per
    small download there (its pool polls every pooled connection before each request; a request goes through several
    layers of models); ``http.client`` ~0.25 ms, most of it parsing the headers with the ``email`` package; this ~45
    us: the request is one prebuilt line, the answer's head is split on bytes. A pooled connection is not checked
    before use: if the CDN closed it meanwhile, the request fails at once and is sent again on a new connection (a GET
    is idempotent). No proxy support (the relay keeps httpx when the environment names a proxy); TLS verification is
    httpx's (certifi, ``SSL_CERT_FILE``...)."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_idle: int = 64,
        keepalive: float = 5.0,
        max_redirects: int = 5,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_idle = max_idle
        self._keepalive = keepalive
        self._max_redirects = max_redirects
        self._ssl = ssl_context
        self._idle: dict[_Origin, list[tuple[float, _Connection]]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, limit: int) -> tuple[int, bytes]:
        """Status and body of ``url`` after redirects (a body only for 200), reading no more than ``limit`` bytes.
        Raises ``_TooLarge``, ``OSError`` (connection, timeout) or ``http.client.HTTPException`` (malformed answer,
        truncated body, unsupported URL)."""
        status = 0
        for _hop in range(self._max_redirects + 1):
            status, body, location = self._get_once(url, limit)
            if location is None:
                return status, body
            url = urljoin(url, location)
        return status, b""  # too many redirects: the caller sees the last 3xx

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _at, conn in connections:
                conn.close()

    def _get_once(self, url: str, limit: int) -> tuple[int, bytes, str | None]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in ("http", "https") or not host:
            raise http.client.InvalidURL(f"not an http(s) URL: {parts.scheme}://{parts.hostname}")
        default_port = 443 if scheme == "https" else 80
        origin = (scheme, host, parts.port or default_port)
        request = _request(host, parts.port, default_port, parts.path, parts.query)
        conn = self._checkout(origin)
        reused = conn is not None
        try:
            if conn is None:
                conn = self._connect(origin)
            try:
                conn.sock.sendall(request)
                status, headers, reusable = _read_head(conn.reader)
            except _CLOSED:
                if not reused:
                    raise
                conn.close()  # closed by the CDN while idle: once more on a new connection (not after a timeout)
                conn = self._connect(origin)
                conn.sock.sendall(request)
                status, headers, reusable = _read_head(conn.reader)
            if status != 200:
                location = headers.get(b"location") if status in _REDIRECTS else None
                conn.close()  # rare: not worth reading the body to keep the connection
                return status, b"", location.decode("latin-1") if location else None
            body, delimited = _read_body(conn.reader, headers, limit)
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        if reusable and delimited:
            self._checkin(origin, conn)
        else:
            conn.close()
        return 200, body, None

    def _connect(self, origin: _Origin) -> _Connection:
        scheme, host, port = origin
        sock = socket.create_connection((host, port), timeout=self._timeout)
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()  # one per client: building one loads the CA bundle
            try:
                sock = self._ssl.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        return _Connection(sock)

    def _checkout(self, origin: _Origin) -> _Connection | None:
        fresh_after = time.monotonic() - self._keepalive
        with self._lock:
            idle = self._idle.get(origin)
            if not idle:
                return None
            at, conn = idle.pop()
            if at >= fresh_after:
                return conn
            stale = [conn, *(c for _at, c in idle)]  # the most recent is too old: so are the others
            idle.clear()
        for old in stale:
            old.close()
        return None

    def _checkin(self, origin: _Origin, conn: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append((time.monotonic(), conn))
                return
        conn.close()


def _request(host: str, port: int | None, default_port: int, path: str, query: str) -> bytes:
    target = (path or "/") + (f"?{query}" if query else "")
    if not target.isascii():
        target = quote(target, safe=_SAFE_IN_TARGET)  # keeps the escapes already there
    if any(c <= " " or c == "\x7f" for c in target):
        raise http.client.InvalidURL(f"control characters or spaces in the URL {target!r}")
    authority = f"[{host}]" if ":" in host else host  # an IPv6 literal
    if port is not None and port != default_port:
        authority += f":{port}"
    return (
        f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: mjapi\r\nAccept: */*\r\n"
        "Accept-Encoding: identity\r\n\r\n"
    ).encode("ascii")


def _read_head(reader: BinaryIO) -> tuple[int, dict[bytes, bytes], bool]:
    """Status, headers (lower-case names) and whether the connection may serve another request, skipping interim
    (1xx) answers."""
    while True:
        line = reader.readline(_MAX_LINE + 1)
        if not line:
            raise http.client.RemoteDisconnected("the server closed the connection without an answer")
        version, _, rest = line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise http.client.BadStatusLine(repr(line[:100]))
        headers: dict[bytes, bytes] = {}
        for _ in range(_MAX_HEADERS + 1):
            field = reader.readline(_MAX_LINE + 1)
            if field in (b"\r\n", b"\n"):
                break
            if not field.endswith(b"\n"):
                raise http.client.IncompleteRead(field)  # closed, or a line too long
            name, colon, value = field.partition(b":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        else:
            raise http.client.HTTPException(f"more than {_MAX_HEADERS} header lines")
        status = int(code)
        if 100 <= status < 200:
            continue
        reusable = version == b"HTTP/1.1" and b"close" not in headers.get(b"connection", b"").lower()
        return status, headers, reusable


def _read_body(reader: BinaryIO, headers: dict[bytes, bytes], limit: int) -> tuple[bytes, bool]:
    """The body, and whether its end was delimited (else the server's close ended it: the connection is done)."""
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return _read_chunked(reader, limit), True
    declared = headers.get(b"content-length")
    if declared is not None:
        if not declared.isdigit():
            raise http.client.HTTPException(f"bad Content-Length {declared[:40]!r}")
        length = int(declared)
        if length > limit:
            raise _TooLarge
        body = reader.read(length)
        if len(body) < length:
            raise http.client.IncompleteRead(body, length - len(body))
        return body, True
    chunks: list[bytes] = []
    received = 0
    while chunk := reader.read(_CHUNK):
        received += len(chunk)
        if received > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks), False


def _read_chunked(reader: BinaryIO, limit: int) -> bytes:
    chunks: list[bytes] = []
    received = 0
    while True:
        line = reader.readline(_MAX_LINE + 1)
        if not line.endswith(b"\n"):
            raise http.client.IncompleteRead(b"".join(chunks))
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            raise http.client.HTTPException(f"bad chunk size {size_text[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        received += size
        if received > limit:
            raise _TooLarge
        chunk = reader.read(size + 2)  # the data and its CRLF
        if len(chunk) < size + 2:
            raise http.client.IncompleteRead(b"".join(chunks))
        chunks.append(chunk[:size])
    while (trailer := reader.readline(_MAX_LINE + 1)) not in (b"\r\n", b"\n"):  # trailer fields, then the end
        if not trailer.endswith(b"\n"):
            raise http.client.IncompleteRead(b"".join(chunks))
    return b"".join(chunks)


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def cdn_client(timeout: float = 30.0) -> CdnClient | httpx.Client:
    """The relay's client for attachments: a :class:`CdnClient`, or an ``httpx.Client`` when the environment names a
    proxy (httpx honours those variables; ``CdnClient`` does not speak to proxies)."""
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return httpx.Client(timeout=timeout, follow_redirects=True)
    return CdnClient(timeout=timeout)


class ImageCopier:
    def __init__(
        self,
        http: CdnClient | httpx.Client,
        refresh: Refresher | None = None,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http
        self._refresh = refresh
        self._attempts = attempts
        self._sleep = sleep

    def copy(self, image: DiscordImage, *, prefix: str = "images") -> Image:
        data = self._download(image.url, MAX_IMAGE_BYTES, "image")
        try:
            facts = inspect_image(data)
        except InvalidImage as exc:
            raise ImageCopyFailed(f"the bot's attachment is not an image: {exc}") from exc
        return store_image(data, prefix=prefix, facts=facts)

    def copy_all(self, images: Sequence[DiscordImage], *, prefix: str = "images") -> list[Image]:
        return [self.copy(i, prefix=prefix) for i in images]

    def copy_video(self, video: DiscordImage, *, prefix: str = "videos") -> Image:
        """An Animate result: an MP4 (identified by its ``ftyp`` box) of at most ``MAX_VIDEO_BYTES``, stored as
        ``video/mp4``."""
        data = self._download(video.url, MAX_VIDEO_BYTES, "video")
        try:
            facts: ImageFacts = inspect_video(data)
        except InvalidVideo as exc:
            raise ImageCopyFailed(f"the bot's attachment is not a video we accept: {exc}") from exc
        return store_image(data, prefix=prefix, facts=facts)

    def _download(self, url: str, limit: int, what: str) -> bytes:
        refreshed = False
        last_error = "no attempt"
        for attempt in range(1, self._attempts + 1):
            try:
                status, body = self._get(url, limit)
            except _TooLarge:
                raise ImageCopyFailed(f"the {what} is larger than we accept ({limit // (1024 * 1024)} MiB)") from None
            except (httpx.TransportError, OSError, http.client.HTTPException) as exc:
                last_error = type(exc).__name__
                self._sleep(0.2 * attempt)
                continue
            if status == 200:
                return body
            last_error = f"HTTP {status}"
            if status in (403, 404) and self._refresh and not refreshed:
                # Signed attachment links expire (ex/is/hm); Discord re-signs them on request.
                refreshed = True
                new_url = self._refresh([url]).get(url)
                if new_url:
                    url = new_url
                    continue
            if status < 500 and status != 429:
                break
            self._sleep(0.2 * attempt)
        raise ImageCopyFailed(f"could not download the {what} from Discord ({last_error})")

    def _get(self, url: str, limit: int) -> tuple[int, bytes]:
        """Status and body, reading no more than ``limit`` bytes (the declared length is checked first)."""
        if isinstance(self._http, CdnClient):
            return self._http.get(url, limit)
        with self._http.stream("GET", url) as resp:
            if resp.status_code != 200:
                return resp.status_code, b""
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _TooLarge
            chunks: list[bytes] = []
            received = 0
            for chunk in resp.iter_bytes():
                received += len(chunk)
                if received > limit:
                    raise _TooLarge
                chunks.append(chunk)
            return 200, b"".join(chunks)
