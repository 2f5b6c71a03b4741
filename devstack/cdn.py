"""A local stand-in for CloudFront: ``GET /cdn/<key>`` serves the object from the (moto) S3 bucket."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from mjapi import aws
from mjapi.settings import get_settings

CDN_PREFIX = "/cdn/"


def serve_cdn(method: str, path: str, _body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
    if method not in ("GET", "HEAD"):
        return 405, [("Allow", "GET, HEAD")], b""
    key = path[len(CDN_PREFIX) :].split("?", 1)[0]
    if not key or ".." in key.split("/"):
        return 404, [("Content-Type", "text/plain")], b"not found"
    try:
        obj: Any = aws.client("s3").get_object(Bucket=get_settings().bucket_name, Key=key)
    except ClientError:
        return 404, [("Content-Type", "text/plain")], b"not found"
    data = obj["Body"].read()
    headers = [
        ("Content-Type", obj.get("ContentType", "application/octet-stream")),
        ("Cache-Control", obj.get("CacheControl", "public, max-age=3600")),
        ("ETag", obj.get("ETag", "")),
    ]
    return 200, headers, data
