"""API tokens, minted by the operator."""

from __future__ import annotations

from mjapi.models import ApiToken
from mjapi.service.context import Context
from mjapi.store.tokens import create_token

DEFAULT_DAYS = 30.0


def mint(ctx: Context, *, count: int, days: float | None = None, label: str | None = None) -> tuple[str, ApiToken]:
    """A token good for ``count`` uses during ``days`` (default 30). The clear text is returned here, once."""
    return create_token(ctx.table, count=count, days=days or DEFAULT_DAYS, label=label)
