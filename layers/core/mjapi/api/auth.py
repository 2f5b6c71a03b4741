"""Who is calling: an API token (clients) or the admin key (operators).

Tokens are accepted where existing clients put them: the ``token`` query parameter (the original API),
``Authorization: Bearer``, ``x-api-key``, or ``mj-api-secret`` (midjourney-proxy clients such as new-api; on ``/mj/*``
it comes first, and ``Authorization`` may carry the bare token, as TRUEAI's clients send it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mjapi.clock import now_s
from mjapi.ids import hash_token
from mjapi.models import ApiToken
from mjapi.service import limits
from mjapi.service.context import Context
from mjapi.service.errors import ApiError, unauthorized
from mjapi.store.tokens import get_token

ADMIN_HEADER = "x-admin-key"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = _header(headers, "authorization")
    if value and value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return value.strip() if value else None


def token_of(event: Any, given: str | None) -> str | None:
    """The token a request names outside its headers: the one given (query parameter, JSON or form field), else the
    URL's ``?token=`` (a POST with a JSON body may carry it there too)."""
    return given or event.get_query_string_value("token")


def presented_token(headers: Mapping[str, str], query_token: str | None) -> str | None:
    return query_token or _bearer(headers) or _header(headers, "x-api-key") or _header(headers, "mj-api-secret")


def is_admin(ctx: Context, headers: Mapping[str, str]) -> bool:
    return ctx.secrets.is_admin(_header(headers, ADMIN_HEADER) or _bearer(headers))


def require_admin(ctx: Context, headers: Mapping[str, str]) -> None:
    if not is_admin(ctx, headers):
        raise ApiError(401, "admin_required", f"This endpoint needs the admin key (header '{ADMIN_HEADER}').")


def proxy_secret(headers: Mapping[str, str]) -> str | None:
    """midjourney-proxy clients: ``mj-api-secret`` (OSS, new-api, chat UIs), else ``Authorization`` with or without
    ``Bearer `` (TRUEAI)."""
    return (_header(headers, "mj-api-secret") or "").strip() or _bearer(headers)


def require_proxy_token(ctx: Context, headers: Mapping[str, str]) -> ApiToken:
    """The caller's token on ``/mj/*`` (see ``proxy_secret``); a missing, unknown or expired one is a 401."""
    clear = proxy_secret(headers)
    if not clear:
        raise unauthorized("An mjapi API token is required in the 'mj-api-secret' header (or 'Authorization').")
    return checked_token(ctx, clear)


def require_token(ctx: Context, headers: Mapping[str, str], query_token: str | None) -> ApiToken:
    """The caller's token, checked for existence and expiry (uses are checked atomically when charged)."""
    return checked_token(ctx, presented_token(headers, query_token))


def checked_token(ctx: Context, clear: str | None) -> ApiToken:
    """The token ``clear`` names, if it exists and has not expired; 401 otherwise."""
    if not clear:
        raise unauthorized()
    token = get_token(ctx.table, hash_token(clear))
    if token is None:
        raise unauthorized("Unknown API token.")
    if token.valid_until <= now_s():
        raise ApiError(401, "token_expired", "This API token has expired.")
    return token


def reader(ctx: Context, headers: Mapping[str, str], query_token: str | None) -> ApiToken | None:
    """Who may read or act on a job: the admin any job (None), a client only its own token's."""
    return None if is_admin(ctx, headers) else require_token(ctx, headers, query_token)


def require_usable_token(ctx: Context, headers: Mapping[str, str], query_token: str | None) -> ApiToken:
    return usable(ctx, require_token(ctx, headers, query_token))


def usable(ctx: Context, token: ApiToken) -> ApiToken:
    """``token`` if it has a use left (403 otherwise) and is within its request rate (429 otherwise): the check of
    every request that makes a job."""
    if token.remaining <= 0:
        raise ApiError(403, "quota_exhausted", "This API token has no uses left.")
    limits.spend_request(ctx, token)
    return token
