"""Operator endpoints under /admin/ (admin key required): accounts back into rotation after a captcha or a lapse."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from mjapi.api import views
from mjapi.api.auth import require_admin
from mjapi.api.openapi_doc import ADMIN_ONLY
from mjapi.service import accounts as pool
from mjapi.service.context import Context

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
