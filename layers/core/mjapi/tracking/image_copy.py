"""Copy images (and Animate's videos) from Discord's CDN into our bucket. Discord links expire; ours are
content-addressed and permanent, and their type is what the bytes are (PNG, WebP... or MP4), not what Discord says."""

from __future__ import annotations

import http.client
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from urllib.parse import urljoin, urlsplit

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
_HEADERS = {"User-Agent": "mjapi", "Accept": "*/*"}  # http.client adds Host and ``Accept-Encoding: identity``
_CHUNK = 256 * 1024
#: How a request on a connection the server closed while it was idle fails (RemoteDisconnected is a ConnectionError).
_CLOSED = (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError)
_Origin = tuple[str, str, int]


class CdnClient:
    """GETs from the CDN on the standard library's ``http.client``: keep-alive connections kept per host (at most
    ``max_idle`` idle, for ``keepalive`` seconds) and reused most recent first, redirects followed, bodies read up to a
    cap. The relay copies two attachments per job from up to ~64 threads; a shared ``httpx.Client`` spent most of the
    relay's CPU on it (its pool polls every pooled connection before each request, and a request goes through several
    layers of models). A pooled connection is not checked before use: if the CDN closed it meanwhile, the request
    fails at once and is sent again on a new connection (a GET is idempotent). No proxy support (the relay keeps httpx
    when a proxy is configured in the environment); TLS verification is httpx's (certifi, ``SSL_CERT_FILE``...)."""

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
        self._idle: dict[_Origin, list[tuple[float, http.client.HTTPConnection]]] = {}
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
        if scheme not in ("http", "https") or not parts.hostname:
            raise http.client.InvalidURL(f"not an http(s) URL: {parts.scheme}://{parts.hostname}")
        origin = (scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = self._checkout(origin)
        reused = conn is not None
        try:
            if conn is None:
                conn = self._connect(origin)
            try:
                resp = self._send(conn, target)
            except _CLOSED:
                if not reused:
                    raise
                conn.close()  # closed by the CDN while idle: once more on a new connection (not after a timeout)
                conn = self._connect(origin)
                resp = self._send(conn, target)
            status = resp.status
            if status != 200:
                location = resp.getheader("location") if status in _REDIRECTS else None
                conn.close()  # rare: not worth reading the body to keep the connection
                return status, b"", location
            declared = resp.length  # None when chunked or delimited by the close
            if declared is not None and declared > limit:
                raise _TooLarge
            body = resp.read() if declared is not None else _read_capped(resp, limit)
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        if resp.will_close:
            conn.close()
        else:
            self._checkin(origin, conn)
        return 200, body, None

    def _send(self, conn: http.client.HTTPConnection, target: str) -> http.client.HTTPResponse:
        conn.request("GET", target, headers=_HEADERS)
        return conn.getresponse()

    def _connect(self, origin: _Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self._timeout)
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()  # one per client: building one loads the CA bundle
        return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self._ssl)

    def _checkout(self, origin: _Origin) -> http.client.HTTPConnection | None:
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

    def _checkin(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append((time.monotonic(), conn))
                return
        conn.close()


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def cdn_client(timeout: float = 30.0) -> CdnClient | httpx.Client:
    """The relay's client for attachments: a :class:`CdnClient`, or an ``httpx.Client`` when the environment names a
    proxy (httpx honours those variables; ``CdnClient`` does not speak to proxies)."""
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return httpx.Client(timeout=timeout, follow_redirects=True)
    return CdnClient(timeout=timeout)


def _read_capped(resp: http.client.HTTPResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    received = 0
    while chunk := resp.read(_CHUNK):
        received += len(chunk)
        if received > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


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
