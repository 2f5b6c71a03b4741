"""Jobs waiting for a free account."""

from __future__ import annotations

from mjapi.service.context import Context


def waiting(ctx: Context) -> dict[str, int]:
    """Waiting jobs per queue key (pool and per-account queues, see ``store.keys``); empty queues are left out."""
    return {queue: depth for queue, depth in ctx.jobs.queue_depths().items() if depth > 0}
