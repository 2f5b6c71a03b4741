"""The CDN: `/attachments/{channel_id}/{attachment_id}/{filename}?ex=&is=&hm=` with expiring HMAC signatures.

`ex` and `is` are hex unix seconds (expiry and issue time), `hm` a 64-hex HMAC-SHA256 over the path and both
timestamps. Missing, expired or forged parameters give 404 "This content is no longer available.", like Discord.
`advance()` shifts the CDN's clock so tests can expire URLs without sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from simulator.images import ImageStore
from simulator.state import AttachmentRecord
from simulator.world import World

GONE = "This content is no longer available."


class Cdn:
    def __init__(self, world: World, images: ImageStore, key: bytes) -> None:
        self.world = world
        self.images = images
        self._key = key
        self.base = ""
        self.offset = 0.0
        self.served = 0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        """Move the CDN clock forward (expires URLs without waiting); returns the total offset."""
        self.offset += seconds
        return self.offset

    @staticmethod
    def path_for(record: AttachmentRecord) -> str:
        prefix = "ephemeral-attachments" if record.ephemeral else "attachments"
        return f"/{prefix}/{record.folder or record.channel_id}/{record.id}/{record.filename}"

    def _mac(self, path: str, ex: str, issued: str) -> str:
        return hmac.new(self._key, f"{path}|{ex}|{issued}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str) -> str:
        issued = int(self.now())
        ex = f"{issued + int(self.world.config.cdn_ttl):x}"
        is_ = f"{issued:x}"
        return f"{self.base}{path}?ex={ex}&is={is_}&hm={self._mac(path, ex, is_)}&"

    def url(self, record: AttachmentRecord) -> str:
        return self.sign(self.path_for(record))

    def valid(self, path: str, ex: str | None, issued: str | None, mac: str | None) -> bool:
        if not ex or not issued or not mac:
            return False
        try:
            expires = int(ex, 16)
            int(issued, 16)
        except ValueError:
            return False
        if expires <= self.now():
            return False
        return hmac.compare_digest(self._mac(path, ex, issued), mac)

    def record_for_path(self, path: str) -> AttachmentRecord | None:
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[0] not in ("attachments", "ephemeral-attachments"):
            return None
        record = self.world.attachments.get(parts[2])
        if record is None or (record.folder or record.channel_id) != parts[1] or record.filename != parts[3]:
            return None
        if (parts[0] == "ephemeral-attachments") != record.ephemeral:
            return None
        return record

    def url_is_live(self, url: str) -> bool:
        """Whether a URL would download right now (used by the bot when a prompt links to the CDN)."""
        parts = urlsplit(url)
        if not self.base or not url.startswith(self.base):
            return True
        query = parse_qs(parts.query)
        if self.record_for_path(parts.path) is None:
            return False
        return self.valid(parts.path, _first(query, "ex"), _first(query, "is"), _first(query, "hm"))

    def refresh(self, url: str) -> str | None:
        """A freshly signed URL for any of our attachment URLs (signed or not), None if it is not ours."""
        parts = urlsplit(url)
        record = self.record_for_path(parts.path)
        if record is None:
            return None
        return self.url(record)

    async def data_for(self, record: AttachmentRecord) -> bytes | None:
        if record.spec is not None:
            return await self.images.get(record.spec)
        if record.upload_key is not None:
            upload = self.world.uploads.get(record.upload_key)
            return upload.data if upload is not None else None
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        query = request.query
        if not self.valid(path, query.get("ex"), query.get("is"), query.get("hm")):
            return web.Response(status=404, text=GONE)
        record = self.record_for_path(path)
        if record is None:
            return web.Response(status=404, text=GONE)
        data = await self.data_for(record)
        if data is None:
            return web.Response(status=404, text=GONE)
        self.served += 1
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        headers = {
            "Cache-Control": "public, max-age=31536000",
            "ETag": f'"{etag}"',
            "Content-Disposition": f'inline; filename="{record.filename}"',
            "Access-Control-Allow-Origin": "*",
        }
        if request.headers.get("If-None-Match") == f'"{etag}"':
            return web.Response(status=304, headers=headers)
        return web.Response(body=data, content_type=record.content_type, headers=headers)


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None
