"""The public key that verifies webhook signatures, for receivers (no auth: it is public by design).

Served under both API faces; the body is ``{"public_key": "<64 hex>"}`` (Ed25519, as Discord publishes its
application keys). Verify ``X-Signature-Ed25519`` over ``X-Signature-Timestamp + body`` with it.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from mjapi.api.openapi_doc import NO_AUTH
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
