"""Jobs that continue another job: a button pressed on a result (by a caller, or by us for ``upscale=true``).

One place builds such a child and links it to its parent, for the API and for the relay alike.
"""

from __future__ import annotations

from typing import Any

from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.midjourney.custom_ids import parse_custom_id
from mjapi.models import Job, JobKind
from mjapi.service.context import Context
from mjapi.service.jobs import submit
from mjapi.webhooks.targets import check_notify_hook


def child_job(
    parent: Job,
    custom_id: str,
    *,
    token_hash: str | None = None,
    options: dict[str, Any] | None = None,
    notify_hook: str | None = None,
    state: str | None = None,
    job_id: str | None = None,
) -> Job:
    """A new job pressing ``custom_id`` on ``parent``'s result message, pinned to the account that owns it. Its prompt
    is the form's when the caller filled one in (remix, custom zoom, a described or shortened prompt: what the bot
    will render), else the parent's. Pure (the webhook URL check reads no DNS); raises 400 ``invalid_notify_hook``
    for a hook the URL guard refuses."""
    parsed = parse_custom_id(custom_id)
    now = now_ms()
    form_prompt = (options or {}).get("prompt")
    return Job(
        id=job_id or new_job_id(),
        kind=JobKind.ACTION,
        token_hash=parent.token_hash if token_hash is None else token_hash,
        prompt=form_prompt if isinstance(form_prompt, str) and form_prompt else parent.final_prompt or parent.prompt,
        bot=parent.bot,
        account_id=parent.account_id,
        parent_id=parent.id,
        parent_message_id=parent.result_message_id,
        message_flags=parent.message_flags,
        custom_id=custom_id,
        action=parsed.action.value,
        index=parsed.index,
        options=options or {},
        notify_hook=check_notify_hook(notify_hook),  # where a caller's webhook enters for a button, on either face
        state=state,
        created_at=now,
        updated_at=now,
    )


def submit_child(ctx: Context, child: Job, *, charge: bool = True) -> Job:
    """Place a child job (slot or queue, then send) and list it under its parent."""
    placed = submit(ctx, child, charge=charge)
    if placed.parent_id:
        ctx.jobs.add_child(placed.parent_id, placed.id)
    return placed
