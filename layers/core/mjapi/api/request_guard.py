"""Refuse malformed requests before any route runs: wrong method (405), a body the route cannot read (415), broken or
absurdly nested JSON (400), multipart without a boundary (400), a body over the limit (413).

Powertools parses the body inside its validation middleware, which runs first and turns a decode failure into a 500
or a bare 415; checking here gives every caller the same ``{code, message}`` errors, before or after auth.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_type_hints

from aws_lambda_powertools.event_handler.openapi.params import Body, Form

from mjapi.service.errors import ApiError

BodyKind = Literal["json", "form", "none"]
#: The deepest JSON a request may nest: every body of this API is a flat object with small arrays.
MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class RouteInfo:
    method: str
    body: BodyKind


@cache
def body_kind(func: Any) -> BodyKind:
    """What body a route function reads, from its parameter annotations: ``File``/``Form`` -> form (multipart, or the
    same fields as JSON or urlencoded), ``Body`` -> JSON, neither -> none."""
    kind: BodyKind = "none"
    for name, hint in get_type_hints(func, include_extras=True).items():
        if name == "return":
            continue
        for marker in getattr(hint, "__metadata__", ()):
            if isinstance(marker, Form):  # File is a Form
                return "form"
            if isinstance(marker, Body):
                kind = "json"
    return kind


def _depth_ok(text: str, limit: int) -> bool:
    """Nesting of ``[``/``{`` outside strings stays within ``limit`` (checked before parsing, which would recurse)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


def _raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if not body:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(400, "invalid_body", "The request body is not valid base64.") from exc
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _content_type(event: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media, _, rest = headers.get("content-type", "").partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            params[key.lower()] = value.strip().strip('"')
    return media.strip().lower(), params


def check_request(event: Mapping[str, Any], routes: Sequence[RouteInfo], *, max_body_bytes: int) -> None:
    """Raise ``ApiError`` for a request that no route may serve as sent. ``routes`` are the routes of its path."""
    method = str(event.get("httpMethod") or "").upper()
    if not routes:
        return  # unknown path: the resolver's 404
    route = next((r for r in routes if r.method == method), None)
    if route is None:
        allowed = ", ".join(sorted({r.method for r in routes}))
        raise ApiError(405, "method_not_allowed", f"Use {allowed} on this endpoint.", headers={"Allow": allowed})
    if method not in _BODY_METHODS:
        return
    raw = _raw_body(event)
    if len(raw) > max_body_bytes:
        raise ApiError(413, "body_too_large", f"The request body is larger than {max_body_bytes} bytes.")
    if not raw or route.body == "none":
        return
    media, params = _content_type(event)
    if media.startswith("multipart/"):
        if route.body != "form":
            raise ApiError(415, "unsupported_media_type", "This endpoint takes a JSON body (application/json).")
        if media != "multipart/form-data" or not params.get("boundary"):
            raise ApiError(400, "invalid_multipart", "A multipart/form-data body needs its boundary parameter.")
        _check_form_fields(raw, params["boundary"])
        return
    if media in ("application/json", "") or media.endswith("+json"):
        _check_json(raw)  # form routes take their fields as JSON too
        return
    if media == "application/x-www-form-urlencoded" and route.body == "form":
        return
    expected = "multipart/form-data or application/json" if route.body == "form" else "application/json"
    raise ApiError(415, "unsupported_media_type", f"Send the body as {expected}, not {media}.")


def _check_form_fields(raw: bytes, boundary: str) -> None:
    """Every non-file field of a multipart body is text (UTF-8); files may hold any bytes."""
    for part in raw.split(b"--" + boundary.encode("latin-1", errors="replace")):
        head, separator, value = part.partition(b"\r\n\r\n")
        if not separator or b"filename=" in head.lower():
            continue
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(400, "invalid_multipart", "Form fields other than files must be UTF-8 text.") from exc


def _check_json(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_json", "The JSON body is not UTF-8.") from exc
    if not _depth_ok(text, MAX_JSON_DEPTH):
        raise ApiError(400, "invalid_json", f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        json.loads(text)
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {exc}.") from exc
