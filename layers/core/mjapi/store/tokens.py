"""API tokens: stored only as SHA-256, with an atomic use counter and an expiry."""

from __future__ import annotations

from mjapi.clock import now_ms, now_s
from mjapi.ids import hash_token, new_api_token
from mjapi.models import ApiToken
from mjapi.store import keys
from mjapi.store.table import ConditionFailed, Table

# Token items outlive their validity by a week so that "expired" can still be told apart from "unknown".
_GRACE_SECONDS = 7 * 86400


def create_token(table: Table, *, count: int, days: float, label: str | None = None) -> tuple[str, ApiToken]:
    """Mint a token; the clear text is returned once and never stored."""
    clear = new_api_token()
    token = ApiToken(
        token_hash=hash_token(clear),
        remaining=count,
        valid_until=now_s() + int(days * 86400),
        label=label,
        created_at=now_ms(),
    )
    table.put(
        {
            "pk": keys.token_pk(token.token_hash),
            "sk": keys.TOKEN_SK,
            **token.model_dump(),
            "expires_at": token.valid_until + _GRACE_SECONDS,
        },
        condition="attribute_not_exists(pk)",
    )
    return clear, token


def get_token(table: Table, token_hash: str) -> ApiToken | None:
    item = table.get(keys.token_pk(token_hash), keys.TOKEN_SK)
    return ApiToken.model_validate(item) if item else None


def charge_operation(token_hash: str, now: int, *, max_active: int) -> dict[str, object]:
    """The transaction step that spends one use and counts the job as the token's: fails unless uses remain, the
    token is still valid, and fewer than ``max_active`` of its jobs are running or queued (fair sharing)."""
    return {
        "Update": {
            "Key": {"pk": keys.token_pk(token_hash), "sk": keys.TOKEN_SK},
            "UpdateExpression": "SET remaining = remaining - :one, used = used + :one, "
            "active = if_not_exists(active, :zero) + :one",
            "ConditionExpression": "attribute_exists(pk) AND remaining >= :one AND valid_until > :now "
            "AND (attribute_not_exists(active) OR active < :max)",
            "ExpressionAttributeValues": {":one": 1, ":zero": 0, ":now": now, ":max": max_active},
        }
    }


def release_operation(token_hash: str, *, refund: bool) -> dict[str, object]:
    """The transaction step that ends a charged job's count (and gives its use back if Midjourney never ran it)."""
    expression = "SET active = active - :one"
    if refund:
        expression += ", remaining = remaining + :one, used = used - :one"
    return {
        "Update": {
            "Key": {"pk": keys.token_pk(token_hash), "sk": keys.TOKEN_SK},
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(pk) AND active >= :one",
            "ExpressionAttributeValues": {":one": 1},
        }
    }


def count_request(table: Table, token_hash: str, *, window: int, limit: int, expires_at: int) -> bool:
    """Count one request in the token's current window; False (nothing counted) once ``limit`` is reached."""
    try:
        table.update(
            keys.rate_pk(token_hash),
            keys.rate_sk(window),
            "ADD requests :one SET expires_at = :exp",
            condition="attribute_not_exists(requests) OR requests < :limit",
            vals={":one": 1, ":limit": limit, ":exp": expires_at},
        )
    except ConditionFailed:
        return False
    return True


def refund_operation(token_hash: str) -> dict[str, object]:
    """The transaction step that gives one use back to a token whose job was not counted (created before counting)."""
    return {
        "Update": {
            "Key": {"pk": keys.token_pk(token_hash), "sk": keys.TOKEN_SK},
            "UpdateExpression": "SET remaining = remaining + :one, used = used - :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":one": 1},
        }
    }
