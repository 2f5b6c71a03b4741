"""Operator endpoints under /admin/ (admin key required): accounts back into rotation after a captcha or a lapse, and
webhook dead letters (listed, and given one more attempt)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field

from mjapi.api import views
from mjapi.api.auth import require_admin
from mjapi.api.openapi_doc import ADMIN_ONLY
from mjapi.service import accounts as pool
from mjapi.service.context import Context
from mjapi.service.errors import ApiError

router = Router()  # type: ignore[no-untyped-call]
TAG = ["admin"]

AccountId = Annotated[str, Path(min_length=1, max_length=100)]


def _ctx() -> Context:
    ctx = Context.current()
    require_admin(ctx, dict(router.current_event.headers or {}))
    return ctx


@router.get(
    "/admin/accounts", tags=TAG, security=ADMIN_ONLY, summary="Every account with mode, health, slots and /info"
)
def accounts() -> list[dict[str, Any]]:
    return [views.device_view(d.account, d.queued) for d in pool.devices(_ctx())]


@router.post(
    "/admin/accounts/<account_id>/enable", tags=TAG, security=ADMIN_ONLY, summary="Put an account back into rotation"
)
def enable(account_id: AccountId) -> dict[str, Any]:
    """After solving a captcha, acknowledging a moderator message or renewing a subscription in Discord."""
    device = pool.enable(_ctx(), account_id)
    return views.device_view(device.account, device.queued)


# -- webhook dead letters -------------------------------------------------------------------------------------------


class RedeliverBody(BaseModel):
    job_id: str = Field(min_length=1, max_length=64, description="The job the delivery belongs to")
    sequence: str = Field(
        min_length=1, max_length=64, pattern=r"^[0-9]+$", description="The delivery's `sequence` (digits)"
    )


@router.get("/admin/webhooks/dead", tags=TAG, security=ADMIN_ONLY, summary="Webhook dead letters, newest first")
def dead_letters(
    limit: Annotated[int, Query(ge=1, le=500, description="How many at most")] = 100,
) -> dict[str, Any]:
    """Deliveries that failed their last attempt. ``POST /admin/webhooks/redeliver`` gives one another try."""
    from mjapi.webhooks import service  # the delivery machinery: loaded by the few requests that ask

    ctx = _ctx()
    return {"dead_letters": [views.delivery_view(d) for d in service.dead_letters(ctx, limit)]}


@router.post("/admin/webhooks/redeliver", tags=TAG, security=ADMIN_ONLY, summary="One more attempt of a dead letter")
def redeliver(body: Annotated[RedeliverBody, Body()]) -> dict[str, Any]:
    """Due at once: the next dispatcher run sends it (signed again, through the URL guard). Skipped as superseded if
    a later delivery of its job has arrived meanwhile, so a receiver never sees the job step backwards."""
    from mjapi.webhooks import service

    ctx = _ctx()
    revived = service.redeliver(ctx, body.job_id, body.sequence)
    if revived is None:
        raise ApiError(404, "dead_letter_not_found", "No dead letter has that job id and sequence.")
    return views.delivery_view(revived)
