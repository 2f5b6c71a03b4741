"""Images on our side: validation of uploads and content-addressed storage in S3 behind the CDN.

Keys are ``<prefix>/<sha256[:2]>/<sha256>.<ext>``: identical bytes are stored once, and a URL never changes meaning,
so the CDN can cache forever. Discord's expiring links never reach a client.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from mjapi import aws
from mjapi.models import Image
from mjapi.settings import get_settings

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


def content_key(data: bytes, extension: str, prefix: str = "images") -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix}/{digest[:2]}/{digest}.{extension}"


def cdn_url(key: str) -> str:
    return f"{get_settings().cdn_base_url.rstrip('/')}/{key}"


def store_image(data: bytes, *, prefix: str = "images", facts: ImageFacts | None = None) -> Image:
    """Put ``data`` in the bucket under its content address and describe it for a job record."""
    facts = facts or inspect_image(data)
    key = content_key(data, facts.extension, prefix)
    aws.client("s3").put_object(
        Bucket=get_settings().bucket_name,
        Key=key,
        Body=data,
        ContentType=facts.content_type,
        CacheControl="public, max-age=31536000, immutable",
    )
    return Image(
        url=cdn_url(key),
        key=key,
        width=facts.width,
        height=facts.height,
        content_type=facts.content_type,
        size=len(data),
    )


def load_object(key: str) -> bytes:
    resp = aws.client("s3").get_object(Bucket=get_settings().bucket_name, Key=key)
    return bytes(resp["Body"].read())
