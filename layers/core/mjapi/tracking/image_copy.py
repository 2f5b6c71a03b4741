"""Copy images (and Animate's videos) from Discord's CDN into our bucket. Discord links expire; ours are
content-addressed and permanent, and their type is what the bytes are (PNG, WebP... or MP4), not what Discord says."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

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


class ImageCopier:
    def __init__(
        self,
        http: httpx.Client,
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
            except httpx.TransportError as exc:
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
