"""Images (and the bot's videos) on our side: validation and content-addressed storage in S3 behind the CDN.

Keys are ``<prefix>/<sha256[:2]>/<sha256>.<ext>``: identical bytes are stored once, and a URL never changes meaning,
so the CDN can cache forever; the extension and the stored content type come from the bytes (a WebP grid is
``.webp``/``image/webp``, an Animate result ``.mp4``/``video/mp4``), never from Discord's word. Discord's expiring
links never reach a client.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from mjapi.models import Image
from mjapi.settings import get_settings
from mjapi.store.backends.objects import ObjectNotFound, object_store

_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
MAX_PIXELS = 64_000_000


class InvalidImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageFacts:
    content_type: str
    extension: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageFacts:
    """Identify and sanity-check image bytes (PNG, JPEG, WebP, GIF). Raises InvalidImage with a reason."""
    if not data:
        raise InvalidImage("the image is empty")
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            width, height = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, PILImage.DecompressionBombError) as exc:
        raise InvalidImage("the file is not a readable PNG, JPEG, WebP or GIF image") from exc
    if fmt not in _FORMATS:
        raise InvalidImage(f"unsupported image format {fmt or 'unknown'}; use PNG, JPEG, WebP or GIF")
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise InvalidImage(f"image dimensions {width}x{height} are out of range")
    content_type, ext = _FORMATS[fmt]
    return ImageFacts(content_type=content_type, extension=ext, width=width, height=height)


class InvalidVideo(ValueError):
    pass


_BOX_HEADER = 8
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"})
_MAX_BOXES = 10_000


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """ISO BMFF boxes in ``data[start:end]`` as ``(type, payload start, box end)``; stops at the first malformed one."""
    found: list[tuple[bytes, int, int]] = []
    offset = start
    while offset + _BOX_HEADER <= end and len(found) < _MAX_BOXES:
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        header = _BOX_HEADER
        if size == 1:  # 64-bit largesize follows the type
            if offset + 16 > end:
                break
            size, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        elif size == 0:  # the box runs to the end of its container
            size = end - offset
        if size < header or offset + size > end:
            break
        found.append((kind, offset + header, offset + size))
        offset += size
    return found


def _track_size(data: bytes, start: int, end: int, depth: int = 0) -> tuple[int, int] | None:
    """Width and height of the first visual track: the last 8 bytes of a ``tkhd`` (16.16 fixed point)."""
    if depth > 6:
        return None
    for kind, payload, box_end in _boxes(data, start, end):
        if kind == b"tkhd" and box_end - payload >= 84:
            width = int.from_bytes(data[box_end - 8 : box_end - 4], "big") >> 16
            height = int.from_bytes(data[box_end - 4 : box_end], "big") >> 16
            if width and height:
                return width, height
        elif kind in _CONTAINERS:
            inner = _track_size(data, payload, box_end, depth + 1)
            if inner is not None:
                return inner
    return None


def inspect_video(data: bytes) -> ImageFacts:
    """Identify an MP4 (ISO base media file: an ``ftyp`` box first, then a ``moov``) and read its frame size from the
    first visual track. Raises InvalidVideo with a reason."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        raise InvalidVideo("the file is not an MP4 video (no ftyp box)")
    boxes = _boxes(data, 0, len(data))
    kinds = {kind for kind, _payload, _end in boxes}
    if not boxes or boxes[0][0] != b"ftyp" or b"moov" not in kinds:
        raise InvalidVideo("the MP4 video is truncated or malformed (no moov box)")
    size = _track_size(data, 0, len(data)) or (0, 0)
    if size[0] * size[1] > MAX_PIXELS:
        raise InvalidVideo(f"video dimensions {size[0]}x{size[1]} are out of range")
    return ImageFacts(content_type="video/mp4", extension="mp4", width=size[0], height=size[1])


def content_key(data: bytes, extension: str, prefix: str = "images") -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix}/{digest[:2]}/{digest}.{extension}"


def cdn_url(key: str) -> str:
    return f"{get_settings().cdn_base_url.rstrip('/')}/{key}"


def store_image(data: bytes, *, prefix: str = "images", facts: ImageFacts | None = None) -> Image:
    """Put ``data`` in the bucket under its content address and describe it for a job record (a video too, given
    the facts of :func:`inspect_video`)."""
    facts = facts or inspect_image(data)
    key = content_key(data, facts.extension, prefix)
    object_store().put(key, data, content_type=facts.content_type, cache_control="public, max-age=31536000, immutable")
    return Image(
        url=cdn_url(key),
        key=key,
        width=facts.width or None,  # a video without a visual track header has no known size
        height=facts.height or None,
        content_type=facts.content_type,
        size=len(data),
    )


def load_object(key: str) -> bytes:
    """The bytes stored under ``key``; raises ObjectNotFound."""
    stored = object_store().get(key)
    if stored is None:
        raise ObjectNotFound(key)
    return stored.data
