"""Webhooks seen from outside: the public key that verifies their signatures (no auth: public by design), a job's
deliveries with every attempt (its owner: why did my webhook not arrive?), and for operators the dead letters and
one more attempt of any of them.

The key is served under both API faces as ``{"public_key": "<64 hex>"}`` (Ed25519, as Discord publishes its
application keys). Verify ``X-Signature-Ed25519`` over ``X-Signature-Timestamp + body`` with it.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, Field

from mjapi.api.auth import reader, require_admin
from mjapi.api.openapi_doc import ADMIN_ONLY, NO_AUTH
from mjapi.service import operations
from mjapi.service.context import Context
from mjapi.service.errors import ApiError
from mjapi.webhooks.store import Attempt, Delivery

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


class RedeliverBody(BaseModel):
    job_id: str = Field(min_length=1, max_length=64, description="The job the delivery belongs to")
    sequence: str = Field(
        min_length=1, max_length=64, pattern=r"^[0-9]+$", description="The delivery's `sequence` (digits)"
    )


def _attempt_view(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "at": attempt.at,
        "outcome": attempt.outcome.value,
        "http_status": attempt.http_status,
        "error_code": attempt.error_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }


def _delivery_view(delivery: Delivery, attempts: list[Attempt] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "delivery_id": delivery.delivery_id,  # the X-Mjapi-Delivery header receivers deduplicate on
        "job_id": delivery.job_id,
        "sequence": delivery.sequence,
        "event": delivery.trigger.value,
        "job_status": delivery.job_status,
        "url": delivery.url,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at,
        "due_at": delivery.due_at,
    }
    if attempts is not None:
        view["attempt_log"] = [_attempt_view(a) for a in attempts]
    return view


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
        "deliveries": [_delivery_view(d, attempts) for d, attempts in service.deliveries_of(ctx, job.id)],
    }


def _admin_ctx() -> Context:
    ctx = Context.current()
    require_admin(ctx, dict(router.current_event.headers or {}))
    return ctx


@router.get("/admin/webhooks/dead", tags=["admin"], security=ADMIN_ONLY, summary="Webhook dead letters, newest first")
def dead_letters(
    limit: Annotated[int, Query(ge=1, le=500, description="How many at most")] = 100,
) -> dict[str, Any]:
    """Deliveries that failed their last attempt. ``POST /admin/webhooks/redeliver`` gives one another try."""
    from mjapi.webhooks import service

    ctx = _admin_ctx()
    return {"dead_letters": [_delivery_view(d) for d in service.dead_letters(ctx, limit)]}


@router.post(
    "/admin/webhooks/redeliver", tags=["admin"], security=ADMIN_ONLY, summary="One more attempt of a dead letter"
)
def redeliver(body: Annotated[RedeliverBody, Body()]) -> dict[str, Any]:
    """Due at once: the next dispatcher run sends it (signed again, through the URL guard). Skipped as superseded if
    a later delivery of its job has arrived meanwhile, so a receiver never sees the job step backwards."""
    from mjapi.webhooks import service

    ctx = _admin_ctx()
    revived = service.redeliver(ctx, body.job_id, body.sequence)
    if revived is None:
        raise ApiError(404, "dead_letter_not_found", "No dead letter has that job id and sequence.")
    return _delivery_view(revived)
