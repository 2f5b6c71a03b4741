"""A caller's jobs, newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from mjapi.models import ApiToken, Job
from mjapi.service.context import Context
from mjapi.service.errors import bad_request
from mjapi.store.jobs import InvalidCursor


@dataclass(frozen=True)
class HistoryPage:
    jobs: list[Job]
    next_cursor: str | None
    """Pass back as ``cursor`` for the next page; None on the last page."""


def history(ctx: Context, owner: ApiToken, *, limit: int, cursor: str | None = None) -> HistoryPage:
    """``owner``'s jobs after ``cursor`` (the ``next_cursor`` of a previous page). A cursor that is not one is a 400."""
    try:
        jobs, next_cursor = ctx.jobs.history(owner.token_hash, limit=limit, cursor=cursor)
    except InvalidCursor as exc:
        raise bad_request("invalid_cursor", "cursor must be the next_cursor value of a previous history page.") from exc
    return HistoryPage(jobs, next_cursor)
