"""The web console's static files at ``/console/`` (the files in ``console/``).

On AWS CloudFront serves them from S3 next to the images, never through Lambda; offline this route stands in for
CloudFront the way ``/cdn/`` does, with the same security headers (template.yaml's ConsoleResponseHeadersPolicy), so
the browser test meets the policy a deployment sends.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mjapi.settings import get_settings

CONSOLE_PREFIX = "/console"
CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"

# The API and the images are same-origin with the console (CloudFront routes /midjourney/*, /admin/* and the images;
# offline everything is one server). The CDN's origin is added for when it differs (localhost vs 127.0.0.1).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{cdn}; "
    "media-src 'self'{cdn}; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}

Reply = tuple[int, list[tuple[str, str]], bytes]


def _headers(content_type: str, cdn_origin: str) -> list[tuple[str, str]]:
    extra = f" {cdn_origin}" if cdn_origin else ""
    return [
        ("Content-Type", content_type),
        ("Cache-Control", "no-cache"),
        ("Content-Security-Policy", CSP.format(cdn=extra)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]


def console_file(path: str, root: Path = CONSOLE_DIR) -> Path | None:
    """The file a ``/console/...`` URL names, or None (outside the folder, hidden, or missing)."""
    rel = unquote(urlsplit(path).path)[len(CONSOLE_PREFIX) :].lstrip("/") or "index.html"
    parts = rel.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    found = (root / rel).resolve()
    if not found.is_relative_to(root.resolve()) or not found.is_file():
        return None
    return found


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def serve_console(method: str, path: str, _body: bytes | None, root: Path = CONSOLE_DIR) -> Reply:
    """``/console`` redirects to ``/console/``, which serves index.html; other paths are files of the folder."""
    if method not in ("GET", "HEAD"):
        return 405, [("Allow", "GET, HEAD")], b""
    bare = urlsplit(path).path
    if bare == CONSOLE_PREFIX:
        return 301, [("Location", f"{CONSOLE_PREFIX}/")], b""
    found = console_file(path, root) if bare.startswith(f"{CONSOLE_PREFIX}/") else None
    if found is None:
        return 404, [("Content-Type", "text/plain")], b"not found"
    kind = _TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    if kind == "text/html":
        kind = "text/html; charset=utf-8"
    return 200, _headers(kind, _origin(get_settings().cdn_base_url)), found.read_bytes()
