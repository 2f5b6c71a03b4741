"""Copy images from Discord's CDN into our bucket. Discord links expire; ours are content-addressed and permanent."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import httpx

from mjapi.images import InvalidImage, inspect_image, store_image
from mjapi.midjourney.models import Image as DiscordImage
from mjapi.models import Image

logger = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 64 * 1024 * 1024
Refresher = Callable[[Sequence[str]], dict[str, str]]


class ImageCopyFailed(Exception):
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
        data = self._download(image.url)
        try:
            facts = inspect_image(data)
        except InvalidImage as exc:
            raise ImageCopyFailed(f"the bot's attachment is not an image: {exc}") from exc
        return store_image(data, prefix=prefix, facts=facts)

    def copy_all(self, images: Sequence[DiscordImage], *, prefix: str = "images") -> list[Image]:
        return [self.copy(i, prefix=prefix) for i in images]

    def _download(self, url: str) -> bytes:
        refreshed = False
        last_error = "no attempt"
        for attempt in range(1, self._attempts + 1):
            try:
                resp = self._http.get(url)
            except httpx.TransportError as exc:
                last_error = type(exc).__name__
                self._sleep(0.2 * attempt)
                continue
            if resp.status_code == 200:
                if len(resp.content) > MAX_IMAGE_BYTES:
                    raise ImageCopyFailed("the image is larger than we accept")
                return resp.content
            last_error = f"HTTP {resp.status_code}"
            if resp.status_code in (403, 404) and self._refresh and not refreshed:
                # Signed attachment links expire (ex/is/hm); Discord re-signs them on request.
                refreshed = True
                new_url = self._refresh([url]).get(url)
                if new_url:
                    url = new_url
                    continue
            if resp.status_code < 500 and resp.status_code != 429:
                break
            self._sleep(0.2 * attempt)
        raise ImageCopyFailed(f"could not download the image from Discord ({last_error})")
