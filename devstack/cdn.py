"""A local stand-in for CloudFront: ``GET /cdn/<key>`` serves the object from the store's objects (the moto S3 bucket,
or the data directory of the single-machine store)."""

from __future__ import annotations

from mjapi.store.backends.objects import object_store

CDN_PREFIX = "/cdn/"


def serve_cdn(method: str, path: str, _body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
    if method not in ("GET", "HEAD"):
        return 405, [("Allow", "GET, HEAD")], b""
    key = path[len(CDN_PREFIX) :].split("?", 1)[0]
    if not key or ".." in key.split("/"):
        return 404, [("Content-Type", "text/plain")], b"not found"
    try:
        stored = object_store().get(key)
    except ValueError:  # a key that could leave the store's directory
        stored = None
    if stored is None:
        return 404, [("Content-Type", "text/plain")], b"not found"
    head = stored.head
    headers = [
        ("Content-Type", head.content_type),
        ("Cache-Control", head.cache_control or "public, max-age=3600"),
        ("ETag", head.etag),
    ]
    return 200, headers, stored.data
