"""Fair sharing between callers: a per-token request rate on the endpoints that make jobs. (The per-token cap on
jobs running or queued is part of the charge itself: ``store.tokens.charge_operation``.)"""

from __future__ import annotations

import time

from mjapi.models import ApiToken
from mjapi.service.context import Context
from mjapi.service.errors import ApiError
from mjapi.store.tokens import count_request

WINDOW_SECONDS = 60


def spend_request(ctx: Context, token: ApiToken, *, now: float | None = None) -> None:
    """Count one job-making request against the token's per-minute budget; 429 ``rate_limited`` (with Retry-After)
    once it is spent. One conditional write; a limit of 0 turns it off."""
    limit = ctx.settings.token_requests_per_minute
    if limit <= 0:
        return
    moment = time.time() if now is None else now
    window = int(moment // WINDOW_SECONDS)
    ends = (window + 1) * WINDOW_SECONDS
    if not count_request(ctx.table, token.token_hash, window=window, limit=limit, expires_at=ends + WINDOW_SECONDS):
        wait = max(1, int(ends - moment))
        raise ApiError(
            429,
            "rate_limited",
            f"This token made {limit} requests this minute; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
