"""Response shapes of the original /midjourney/* API (compatible with its README) plus status and error."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mjapi.midjourney.custom_ids import parse_custom_id
from mjapi.models import Account, Button, Health, Job, JobKind, JobStatus

if TYPE_CHECKING:
    from mjapi.webhooks.store import Attempt, Delivery


def _actions(rows: Sequence[Sequence[Button]]) -> list[list[dict[str, str]]]:
    return [[{"label": b.label or b.emoji or "", "id": b.custom_id} for b in row] for row in rows if row]


def _is_upscale(job: Job) -> bool:
    """The job's result is one upscaled image (U1-U4, Upscale Subtle/Creative/2x/4x...), per the action table."""
    return job.kind == JobKind.ACTION and parse_custom_id(job.custom_id).spec.upscaled


def _error(job: Job) -> dict[str, str] | None:
    return job.error.model_dump() if job.error else None


def image_entries(job: Job) -> list[dict[str, Any]]:
    """One entry per result message, the original's ``images[]`` item; failed jobs give an error entry. The content
    type is the stored file's (grids and v7 variations are WebP, upscales PNG); an Animate result adds ``video_url``
    (its mp4 on our CDN), and its ``url`` is the still image when the bot sent one, else the video."""
    if job.status == JobStatus.FAILED and job.error:
        return [{"id": job.id, "error": job.error.message, "title": job.error.code}]
    shown = job.images[0] if job.images else job.videos[0] if job.videos else None
    if shown is None or job.kind == JobKind.DESCRIBE:
        return []
    entry: dict[str, Any] = {
        "id": job.result_message_id or job.id,
        "job_id": job.id,
        "url": shown.url,
        "width": shown.width,
        "height": shown.height,
        "content_type": shown.content_type,
        "upscaled": _is_upscale(job),
        "actions": _actions(job.buttons),
    }
    if job.video_url:
        entry["video_url"] = job.video_url
    return [entry]


def job_view(job: Job, children: Sequence[Job] = ()) -> dict[str, Any]:
    """The original ``job`` object: a thread of images (the grid, then every action taken on it)."""
    images = image_entries(job)
    for child in children:
        images.extend(image_entries(child))
    return {
        "id": job.id,
        "prompt": job.prompt,
        "final_prompt": job.final_prompt,
        "upscale": bool(job.options.get("auto_upscale", False)),
        "client_id": job.channel_id,
        "tasks": 1 + len(children),
        "images": images,
        "kind": job.kind.value,
        "status": job.status.value,
        "progress": job.progress,
        "preview_url": job.preview_url,
        "video_url": job.video_url,
        "notice": job.notice,
        "mode": job.mode.value if job.mode else None,
        "bot": job.bot.value,
        "parent_id": job.parent_id,
        "action": job.action,
        "index": job.index,
        "children": [{"id": c.id, "status": c.status.value, "action": c.custom_id} for c in children],
        "error": _error(job),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def describe_view(job: Job) -> dict[str, Any]:
    """The original ``descjob`` object; ``desc_text`` keeps the four prompts as one text, ``prompts`` as a list."""
    desc: list[dict[str, Any]] = []
    if job.prompts:
        desc.append(
            {
                "id": job.result_message_id or job.id,
                "mj_image": job.upload_url,
                "desc_text": "\n\n".join(job.prompts),
                "prompts": job.prompts,
                "actions": _actions(job.buttons),
            }
        )
    return {
        "id": job.id,
        "client_id": job.channel_id,
        "image_url": job.upload_url,
        "desc": desc,
        "status": job.status.value,
        "error": _error(job),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def shorten_view(job: Job) -> dict[str, Any]:
    """A shorten job: the bot's shortened prompts, and the buttons that imagine one of them (press with ``action``)."""
    return {
        "id": job.id,
        "client_id": job.channel_id,
        "prompt": job.prompt,
        "prompts": job.prompts,
        "actions": _actions(job.buttons),
        "status": job.status.value,
        "error": _error(job),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def progress_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "percentage": 100 if job.status == JobStatus.SUCCEEDED else job.progress,
        "image_url": job.images[0].url if job.status == JobStatus.SUCCEEDED and job.images else job.preview_url,
        "status": job.status.value,
        "error": _error(job),
    }


#: What only the admin sees of an account: where it posts (Discord ids), its subscription (/info), why it is unhealthy.
_ADMIN_DEVICE_FIELDS = ("channelID", "guildID", "info", "health_reason")


def client_device_view(view: dict[str, Any]) -> dict[str, Any]:
    """``get_devices`` as an API client sees it: the original shape (mode, status, load) without the account's
    identifiers or details; the device name becomes a stable pseudonym."""
    pseudonym = "device-" + hashlib.sha256(str(view["device"]).encode()).hexdigest()[:8]
    return {**view, "device": pseudonym, **dict.fromkeys(_ADMIN_DEVICE_FIELDS)}


def device_view(account: Account, queued: int) -> dict[str, Any]:
    """The original ``get_devices`` entry plus health and slot counts. Never includes the Discord token.

    Health is live: an ``ok`` account whose relay stopped renewing its heartbeat shows ``disconnected``."""
    health = account.live_health
    stale = health != account.health
    status = "idle"
    if not account.enabled or health != Health.OK:  # ``usable``, at the same instant as ``health``
        status = health.value if account.enabled else "disabled"
    elif account.free_slots == 0:
        status = "full"
    elif account.slots_used:
        status = "busy"
    return {
        "device": account.id,
        "channelID": account.channel_id,
        "guildID": account.guild_id,
        "patternType": account.mode.value,
        "bot": account.bots[0].value,
        "bots": [bot.value for bot in account.bots],
        "status": status,
        "health": health.value,
        "health_reason": "no live gateway relay holds this account" if stale else account.health_reason or None,
        "enabled": account.enabled,
        "count": account.slots_used,
        "running": account.slots_used,
        "concurrency": account.concurrency,
        "queued": queued,
        "time": account.health_changed_at or account.updated_at,
        "info": account.info or None,
    }


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


def delivery_view(delivery: Delivery, attempts: Sequence[Attempt] | None = None) -> dict[str, Any]:
    """A webhook delivery (with its attempt log when given), for its job's owner or an operator."""
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
