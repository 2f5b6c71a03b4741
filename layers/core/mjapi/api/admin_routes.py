"""Operator endpoints under /admin/ (admin key required): accounts back into rotation after a captcha or a lapse."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from mjapi.api import views
from mjapi.api.auth import require_admin
from mjapi.models import Health
from mjapi.service.context import Context
from mjapi.service.errors import not_found
from mjapi.store.accounts import list_accounts, set_health

router = Router()  # type: ignore[no-untyped-call]
TAG = ["admin"]

AccountId = Annotated[str, Path(min_length=1, max_length=100)]


def _ctx() -> Context:
    ctx = Context.current()
    require_admin(ctx, dict(router.current_event.headers or {}))
    return ctx


@router.get("/admin/accounts", tags=TAG, summary="Every account with mode, health, slots and /info")
def accounts() -> list[dict[str, Any]]:
    ctx = _ctx()
    depths = ctx.jobs.queue_depths()
    return [views.device_view(a, depths.get(f"acct#{a.id}", 0)) for a in list_accounts(ctx.table)]


@router.post("/admin/accounts/<account_id>/enable", tags=TAG, summary="Put an account back into rotation")
def enable(account_id: AccountId) -> dict[str, Any]:
    """After solving a captcha, acknowledging a moderator message or renewing a subscription in Discord."""
    ctx = _ctx()
    account = set_health(ctx.table, account_id, Health.OK, "enabled by operator")
    if account is None:
        raise not_found("account")
    return views.device_view(account, ctx.jobs.queue_depths().get(f"acct#{account.id}", 0))
