"""API tokens: stored only as SHA-256, with an atomic use counter and an expiry."""

from __future__ import annotations

from mjapi.clock import now_ms, now_s
from mjapi.ids import hash_token, new_api_token
from mjapi.models import ApiToken
from mjapi.store import keys
from mjapi.store.table import Table

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


def charge_operation(token_hash: str, now: int) -> dict[str, object]:
    """The transaction step that spends one use: fails unless uses remain and the token is still valid."""
    return {
        "Update": {
            "Key": {"pk": keys.token_pk(token_hash), "sk": keys.TOKEN_SK},
            "UpdateExpression": "SET remaining = remaining - :one, used = used + :one",
            "ConditionExpression": "attribute_exists(pk) AND remaining >= :one AND valid_until > :now",
            "ExpressionAttributeValues": {":one": 1, ":now": now},
        }
    }


def refund_operation(token_hash: str) -> dict[str, object]:
    """The transaction step that gives one use back (the job never started in Midjourney)."""
    return {
        "Update": {
            "Key": {"pk": keys.token_pk(token_hash), "sk": keys.TOKEN_SK},
            "UpdateExpression": "SET remaining = remaining + :one, used = used - :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":one": 1},
        }
    }
