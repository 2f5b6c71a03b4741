"""The relay's image copier on its own HTTP client (:class:`CdnClient`), against a loopback CDN speaking HTTP/1.1
keep-alive: real PNG, WebP and MP4 bytes stored under their content address with the type the bytes say, redirects,
size caps (declared and streamed), expired links refreshed, retries, and pooled connections the CDN closed; and the
facts of a WebP read from its header, as Pillow reads them."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image as PILImage

from mjapi.images import InvalidImage, inspect_image, load_object
from mjapi.midjourney.models import Image as DiscordImage
from mjapi.store.table import Table
from mjapi.tracking import image_copy
from mjapi.tracking.image_copy import CdnClient, ImageCopier, ImageCopyFailed, cdn_client


def _image(fmt: str, size: tuple[int, int] = (48, 32)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


def _mp4(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_image(PILImage.new("RGB", (width, height), (10, 120, 200)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


PNG, WEBP, MP4 = _image("PNG"), _image("WEBP"), _mp4()


@dataclass
class Cdn:
    url: str
    hits: list[tuple[str, int]] = field(default_factory=list)  # (path, client port): which connection asked
    failures_left: dict[str, int] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a CDN
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        cdn = self.server.cdn
        cdn.hits.append((self.path, self.client_address[1]))
        if cdn.failures_left.get(path, 0) > 0:
            cdn.failures_left[path] -= 1
            return self._answer(503, b"busy")
        if path == "/redirect.png":
            return self._answer(302, b"", location="/attachments/grid.png?ex=2")
        if path == "/loop.png":
            return self._answer(302, b"", location="/loop.png")
        if path == "/expired.png":
            return self._answer(403, b"This content is no longer available.")
        if path == "/declared-huge.png":
            return self._answer(200, PNG, length=str(10**9))  # never sent: the client must not wait for it
        if path == "/truncated.png":
            self._answer(200, PNG[: len(PNG) // 2], length=str(len(PNG)), send_body=True)
            self.close_connection = True  # the CDN drops the connection mid-body
            return None
        if path == "/chunked.png":
            return self._chunked(PNG, pieces=4)
        if path == "/chunked-huge.png":
            return self._chunked(PNG * 40, pieces=40)
        if path == "/closes-after.png":
            self._answer(200, PNG)
            self.close_connection = True  # without saying so: the client pools a connection the CDN closes
            return None
        bodies = {"/attachments/grid.png": PNG, "/grid.webp": WEBP, "/clip.mp4": MP4, "/page.html": b"<html></html>"}
        if path in bodies:
            return self._answer(200, bodies[path])
        return self._answer(404, b"")

    def _answer(
        self, status: int, body: bytes, *, location: str = "", length: str = "", send_body: bool = False
    ) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", length or str(len(body)))
        self.end_headers()
        if not length or send_body:
            self.wfile.write(body)

    def _chunked(self, body: bytes, pieces: int) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        step = -(-len(body) // pieces)
        for start in range(0, len(body), step):
            piece = body[start : start + step]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    cdn: Cdn


@pytest.fixture
def cdn() -> Iterator[Cdn]:
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.cdn = Cdn(f"http://{host!s}:{port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.cdn
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client() -> Iterator[CdnClient]:
    http = CdnClient(timeout=10.0)
    yield http
    http.close()


def _attachment(url: str) -> DiscordImage:
    return DiscordImage(url=url)


def test_images_and_videos_are_stored_by_content_with_the_type_of_their_bytes(
    table: Table, cdn: Cdn, client: CdnClient
) -> None:
    copier = ImageCopier(client, sleep=lambda _: None)
    png = copier.copy(_attachment(f"{cdn.url}/attachments/grid.png?ex=1&is=2&hm=3"))
    webp = copier.copy(_attachment(f"{cdn.url}/grid.webp"), prefix="previews")
    video = copier.copy_video(_attachment(f"{cdn.url}/clip.mp4"))
    for image, data, content_type, extension, size in (
        (png, PNG, "image/png", "png", (48, 32)),
        (webp, WEBP, "image/webp", "webp", (48, 32)),
        (video, MP4, "video/mp4", "mp4", (64, 48)),
    ):
        digest = hashlib.sha256(data).hexdigest()
        assert image.key.endswith(f"/{digest[:2]}/{digest}.{extension}")
        assert (image.content_type, image.width, image.height, image.size) == (content_type, *size, len(data))
        assert load_object(image.key) == data
    assert webp.key.startswith("previews/") and video.key.startswith("videos/")
    assert cdn.hits[0][0] == "/attachments/grid.png?ex=1&is=2&hm=3"  # the signed query reaches the CDN as it was


def test_one_keep_alive_connection_serves_consecutive_downloads(table: Table, cdn: Cdn, client: CdnClient) -> None:
    copier = ImageCopier(client, sleep=lambda _: None)
    for _ in range(3):
        copier.copy(_attachment(f"{cdn.url}/attachments/grid.png"))
    assert len({port for _path, port in cdn.hits}) == 1


def test_a_pooled_connection_the_cdn_closed_is_replaced_without_a_retry(
    table: Table, cdn: Cdn, client: CdnClient
) -> None:
    sleeps: list[float] = []
    copier = ImageCopier(client, sleep=sleeps.append)
    copier.copy(_attachment(f"{cdn.url}/closes-after.png"))
    image = copier.copy(_attachment(f"{cdn.url}/attachments/grid.png"))
    assert load_object(image.key) == PNG
    assert sleeps == []  # sent again on a new connection at once, not counted as a failed attempt
    assert [path for path, _port in cdn.hits] == ["/closes-after.png", "/attachments/grid.png"]
    assert cdn.hits[0][1] != cdn.hits[1][1]


def test_redirects_are_followed_and_a_redirect_loop_fails_cleanly(table: Table, cdn: Cdn, client: CdnClient) -> None:
    copier = ImageCopier(client, sleep=lambda _: None)
    image = copier.copy(_attachment(f"{cdn.url}/redirect.png"))
    assert load_object(image.key) == PNG
    assert [path for path, _port in cdn.hits] == ["/redirect.png", "/attachments/grid.png?ex=2"]
    with pytest.raises(ImageCopyFailed, match="HTTP 302"):
        copier.copy(_attachment(f"{cdn.url}/loop.png"))


def test_chunked_bodies_are_read_and_capped(
    table: Table, cdn: Cdn, client: CdnClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    copier = ImageCopier(client, sleep=lambda _: None)
    image = copier.copy(_attachment(f"{cdn.url}/chunked.png"))
    assert load_object(image.key) == PNG
    monkeypatch.setattr(image_copy, "MAX_IMAGE_BYTES", len(PNG) * 10)
    with pytest.raises(ImageCopyFailed, match="larger than we accept"):
        copier.copy(_attachment(f"{cdn.url}/chunked-huge.png"))
    # the connection of the refused body is not reused: the next download still reads a clean answer
    assert load_object(copier.copy(_attachment(f"{cdn.url}/attachments/grid.png")).key) == PNG


def test_a_declared_length_over_the_cap_is_refused_before_reading(table: Table, cdn: Cdn, client: CdnClient) -> None:
    copier = ImageCopier(client, sleep=lambda _: None)
    with pytest.raises(ImageCopyFailed, match="larger than we accept"):
        copier.copy(_attachment(f"{cdn.url}/declared-huge.png"))
    assert len(cdn.hits) == 1  # not retried


def test_a_truncated_body_is_retried_and_never_stored(table: Table, cdn: Cdn, client: CdnClient) -> None:
    sleeps: list[float] = []
    copier = ImageCopier(client, sleep=sleeps.append)
    with pytest.raises(ImageCopyFailed, match="IncompleteRead"):
        copier.copy(_attachment(f"{cdn.url}/truncated.png"))
    assert len(cdn.hits) == 3 and len(sleeps) == 3


def test_an_expired_link_is_refreshed_once(table: Table, cdn: Cdn, client: CdnClient) -> None:
    asked: list[list[str]] = []

    def refresh(urls: Sequence[str]) -> dict[str, str]:
        asked.append(list(urls))
        return dict.fromkeys(urls, f"{cdn.url}/attachments/grid.png?ex=fresh")

    copier = ImageCopier(client, refresh=refresh, sleep=lambda _: None)
    image = copier.copy(_attachment(f"{cdn.url}/expired.png?ex=old"))
    assert load_object(image.key) == PNG
    assert asked == [[f"{cdn.url}/expired.png?ex=old"]]
    assert [path for path, _port in cdn.hits] == ["/expired.png?ex=old", "/attachments/grid.png?ex=fresh"]


def test_server_errors_are_retried_and_refusals_are_not(table: Table, cdn: Cdn, client: CdnClient) -> None:
    sleeps: list[float] = []
    copier = ImageCopier(client, sleep=sleeps.append)
    cdn.failures_left["/attachments/grid.png"] = 2
    assert load_object(copier.copy(_attachment(f"{cdn.url}/attachments/grid.png")).key) == PNG
    assert sleeps == [0.2, 0.4]
    with pytest.raises(ImageCopyFailed, match="HTTP 404"):
        copier.copy(_attachment(f"{cdn.url}/missing.png"))
    with pytest.raises(ImageCopyFailed, match="not an image"):
        copier.copy(_attachment(f"{cdn.url}/page.html"))
    assert sleeps == [0.2, 0.4]


def test_an_unreachable_cdn_fails_after_the_attempts(table: Table, client: CdnClient) -> None:
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = listener.server_address[1]
    listener.server_close()  # nothing listens there any more
    sleeps: list[float] = []
    copier = ImageCopier(client, sleep=sleeps.append)
    with pytest.raises(ImageCopyFailed, match="ConnectionRefusedError"):
        copier.copy(_attachment(f"http://127.0.0.1:{port}/attachments/grid.png"))
    assert sleeps == pytest.approx([0.2, 0.4, 0.6])
    with pytest.raises(ImageCopyFailed, match="InvalidURL"):
        copier.copy(_attachment("ftp://127.0.0.1/grid.png"))


def test_the_relay_keeps_httpx_when_the_environment_names_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    plain = cdn_client()
    assert isinstance(plain, CdnClient)
    plain.close()
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    proxied = cdn_client()
    assert isinstance(proxied, httpx.Client)
    proxied.close()


# -- image facts without decoding ----------------------------------------------------------------------------------


def _webp(mode: str, size: tuple[int, int], **options: object) -> bytes:
    out = io.BytesIO()
    PILImage.new(mode, size, (30, 60, 90)).save(out, format="WEBP", **options)
    return out.getvalue()


def _animated_webp() -> bytes:
    frames = [PILImage.new("RGB", (64, 40), (40 * i, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _webp("RGB", (333, 1000)),  # lossy: a VP8 frame header
        _webp("RGB", (2048, 2), lossless=True),  # VP8L
        _webp("RGBA", (7, 3)),  # alpha: a VP8X canvas
        _webp("RGB", (48, 32), exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"),  # VP8X with metadata
        _animated_webp(),
    ],
    ids=["vp8", "vp8l", "vp8x-alpha", "vp8x-exif", "animated"],
)
def test_webp_facts_come_from_its_header_as_pillow_reads_them(data: bytes) -> None:
    with PILImage.open(io.BytesIO(data)) as img:
        expected = img.size
    facts = inspect_image(data)
    assert (facts.content_type, facts.extension, (facts.width, facts.height)) == ("image/webp", "webp", expected)
    assert inspect_image(data + b"trailing bytes") == facts  # past the RIFF: ignored, as libwebp does
    for cut in (len(data) - 1, len(data) // 2, 30):
        with pytest.raises(InvalidImage, match="not a readable"):
            inspect_image(data[:cut])


def test_images_module_imports_without_pillow() -> None:
    """The API's cold start: Pillow (~30 ms) only when an image is inspected, and never for a WebP."""
    script = (
        "import sys; import mjapi.images as m; assert 'PIL' not in sys.modules, 'imported'; "
        f"m.inspect_image({_webp('RGB', (8, 8))!r}); assert 'PIL' not in sys.modules, 'webp'; "
        f"m.inspect_image({PNG!r}); assert 'PIL' in sys.modules"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "layers" / "core"), str(root)])}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60)
