"""Where image bytes live: the S3 bucket behind CloudFront, or - on one machine - a local directory that the stack's
CDN route serves. :mod:`mjapi.images` and the CDN route use :func:`object_store` and never know which.

The local directory keeps ``<data dir>/objects/<bucket>/data/<key>`` (the bytes) and ``.../meta/<key>.json`` (content
type, cache control, ETag). Writes go to a temporary file that is synced and renamed into place, so a key holds the
whole object or nothing, and an acknowledged put survives a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from mjapi import aws
from mjapi.settings import get_settings
from mjapi.store.backends import calls, config


class ObjectNotFound(LookupError):
    """No object under that key."""


@dataclass(frozen=True)
class ObjectHead:
    content_type: str
    cache_control: str
    etag: str
    size: int


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    head: ObjectHead


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None: ...

    def get(self, key: str) -> StoredObject | None: ...

    def head(self, key: str) -> ObjectHead | None: ...


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'  # S3's ETag of a single-part object


class S3ObjectStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, CacheControl=cache_control
        )

    def get(self, key: str) -> StoredObject | None:
        try:
            obj: Any = aws.client("s3").get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        data = bytes(obj["Body"].read())
        return StoredObject(data, _head(obj, len(data)))

    def head(self, key: str) -> ObjectHead | None:
        try:
            obj: Any = aws.client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return _head(obj, int(obj.get("ContentLength", 0)))


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404", "NotFound")


def _head(obj: Any, size: int) -> ObjectHead:
    return ObjectHead(
        content_type=str(obj.get("ContentType") or "application/octet-stream"),
        cache_control=str(obj.get("CacheControl") or ""),
        etag=str(obj.get("ETag") or ""),
        size=size,
    )


def check_key(key: str) -> list[str]:
    """The key's path segments; refuses keys that could leave the directory or hide in its metadata."""
    parts = key.split("/")
    if (
        not key
        or len(key) > 1024
        or "\\" in key
        or "\x00" in key
        or any(part in ("", ".", "..") or part.startswith(".") for part in parts)
    ):
        raise ValueError(f"not a usable object key: {key!r}")
    return parts


class LocalObjectStore:
    """Objects as files under ``root``; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, key: str) -> tuple[Path, Path]:
        parts = check_key(key)
        return self.root.joinpath("data", *parts), self.root.joinpath("meta", *parts[:-1], parts[-1] + ".json")

    def put(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        calls.count("local.PutObject")
        path, meta_path = self._paths(key)
        meta = {"content_type": content_type, "cache_control": cache_control, "etag": _etag(data), "size": len(data)}
        _write_atomically(path, data)
        _write_atomically(meta_path, json.dumps(meta).encode())

    def get(self, key: str) -> StoredObject | None:
        calls.count("local.GetObject")
        path, meta_path = self._paths(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        return StoredObject(data, self._head(key, meta_path, data))

    def head(self, key: str) -> ObjectHead | None:
        calls.count("local.HeadObject")
        path, meta_path = self._paths(key)
        if not path.is_file():
            return None
        return self._head(key, meta_path, None)

    @staticmethod
    def _head(key: str, meta_path: Path, data: bytes | None) -> ObjectHead:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            return ObjectHead(
                str(meta["content_type"]), str(meta["cache_control"]), str(meta["etag"]), int(meta["size"])
            )
        except (OSError, ValueError, KeyError):  # the bytes landed, the metadata did not (a crash in between)
            guessed = mimetypes.guess_type(key)[0] or "application/octet-stream"
            size = len(data) if data is not None else 0
            return ObjectHead(guessed, "public, max-age=3600", _etag(data) if data is not None else "", size)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself is durable
    finally:
        os.close(dir_fd)


_stores: dict[tuple[str, str, str], ObjectStore] = {}
_stores_lock = threading.Lock()


def object_store() -> ObjectStore:
    """The object store the settings name: S3 (``bucket_name``), or ``<data_dir>/objects/<bucket_name>`` with
    ``MJAPI_STORE=sqlite``."""
    kind, root, bucket = config.store_kind(), config.data_dir(), get_settings().bucket_name
    cache_key = (kind, str(root), bucket)
    with _stores_lock:
        store = _stores.get(cache_key)
        if store is None:
            if kind == "sqlite":
                check_key(bucket)
                store = LocalObjectStore(root.resolve() / "objects" / bucket)
            else:
                store = S3ObjectStore(bucket)
            _stores[cache_key] = store
        return store
