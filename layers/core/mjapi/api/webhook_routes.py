"""Webhooks seen from outside: the public key that verifies their signatures (no auth: public by design), and a job's
deliveries with every attempt (its owner: why did my webhook not arrive?). Operators' dead letters are admin routes.

The key is served under both API faces as ``{"public_key": "<64 hex>"}`` (Ed25519, as Discord publishes its
application keys). Verify ``X-Signature-Ed25519`` over ``X-Signature-Timestamp + body`` with it.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from mjapi.api import views
from mjapi.api.auth import reader
from mjapi.api.openapi_doc import NO_AUTH
from mjapi.service import operations
from mjapi.service.context import Context
from mjapi.service.errors import ApiError

router = Router()  # type: ignore[no-untyped-call]
TAG = ["webhooks"]


class PublicKey(BaseModel):
    public_key: str = Field(description="Ed25519 public key, hex (64 characters)")


def _public_key() -> PublicKey:
    from mjapi.webhooks import signing  # PyNaCl: ~30 ms of a cold start, for the few requests that ask for the key

    try:
        key = signing.public_key_hex(Context.current().secrets)
    except signing.SigningKeyInvalid as exc:
        raise ApiError(503, "webhook_key_invalid", "The configured webhook signing key is not valid.") from exc
    if key is None:
        raise ApiError(503, "webhook_key_missing", "No webhook signing key is configured.")
    return PublicKey(public_key=key)


@router.get(
    "/mj/webhook/public-key",
    tags=TAG,
    summary="Public key of the webhook signatures (Ed25519, hex)",
    security=NO_AUTH,
    responses={200: {"description": "The key", "content": {"application/json": {"model": PublicKey}}}},
)
def mj_public_key() -> PublicKey:
    """Each notifyHook POST carries ``X-Signature-Ed25519`` (hex) and ``X-Signature-Timestamp``: the signature of
    timestamp + body, verifiable with this key (Discord's interaction-signature scheme)."""
    return _public_key()


@router.get(
    "/midjourney/webhook_public_key",
    tags=TAG,
    summary="Public key of the webhook signatures (Ed25519, hex)",
    security=NO_AUTH,
    responses={200: {"description": "The key", "content": {"application/json": {"model": PublicKey}}}},
)
def midjourney_public_key() -> PublicKey:
    """The same key as ``/mj/webhook/public-key``, on the original API's face."""
    return _public_key()


# -- deliveries -------------------------------------------------------------------------------------------------------


@router.get("/midjourney/webhooks", tags=TAG, summary="A job's webhook deliveries and every attempt")
def job_deliveries(
    id: Annotated[str, Query(min_length=1, max_length=64, description="Job id")],
    token: Annotated[str | None, Query(description="API token (or send it as a Bearer header)")] = None,
) -> dict[str, Any]:
    """Deliveries in the order the job changed (``state``: pending, delivered, dead, refused by the URL guard, or
    superseded by a later one), each with its attempts (HTTP status or error). Your own jobs; any with the admin
    key."""
    from mjapi.webhooks import service  # the delivery machinery: loaded by the few requests that ask

    ctx = Context.current()
    job = operations.owned_job(ctx, id, reader(ctx, dict(router.current_event.headers or {}), token))
    return {
        "id": job.id,
        "notify_hook": job.notify_hook,
        "deliveries": [views.delivery_view(d, attempts) for d, attempts in service.deliveries_of(ctx, job.id)],
    }
