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
_UNREADABLE = "the file is not a readable PNG, JPEG, WebP or GIF image"


class InvalidImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageFacts:
    content_type: str
    extension: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageFacts:
    """Identify and sanity-check image bytes (PNG, JPEG, WebP, GIF). Raises InvalidImage with a reason.

    Nothing is decoded: Pillow reads the header of a PNG, JPEG or GIF (and checks a PNG's chunk CRCs); a WebP's size
    comes from its RIFF header (:func:`_webp_size`), since Pillow's WebP ``open`` makes libwebp's decoder, which
    allocates the whole canvas (~6 ms and 16 MiB for a 2048x2048 grid). Pillow is imported on first use only (the
    API's cold start does without it)."""
    if not data:
        raise InvalidImage("the image is empty")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        fmt, (width, height) = "WEBP", _webp_size(data)
    else:
        fmt, width, height = _pillow_facts(data)
    if fmt not in _FORMATS:
        raise InvalidImage(f"unsupported image format {fmt or 'unknown'}; use PNG, JPEG, WebP or GIF")
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise InvalidImage(f"image dimensions {width}x{height} are out of range")
    content_type, ext = _FORMATS[fmt]
    return ImageFacts(content_type=content_type, extension=ext, width=width, height=height)


def _pillow_facts(data: bytes) -> tuple[str, int, int]:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            width, height = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, PILImage.DecompressionBombError) as exc:
        raise InvalidImage(_UNREADABLE) from exc
    return fmt, width, height


def _webp_size(data: bytes) -> tuple[int, int]:
    """Width and height of a WebP from its first chunk (VP8X canvas, VP8L or VP8 frame header), after checking, as
    libwebp's demuxer does, that the file holds the whole RIFF and that its chunks tile it (a truncated file is
    refused; bytes after the RIFF are ignored)."""
    end = int.from_bytes(data[4:8], "little") + 8
    if len(data) < 30 or end > len(data):
        raise InvalidImage(_UNREADABLE)
    offset = 12
    while offset + 8 <= end:
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)  # chunks are padded to an even size
    if offset != end:
        raise InvalidImage(_UNREADABLE)
    kind = data[12:16]
    if kind == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if kind == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    raise InvalidImage(_UNREADABLE)


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
