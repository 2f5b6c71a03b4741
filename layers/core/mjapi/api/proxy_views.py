"""The midjourney-proxy face's shapes (docs/MIDJOURNEY_PROXY_API.md §4-§5): the Task object and SubmitResultVO.

Gateways such as new-api decode whole lists of tasks into typed structs and drop the batch on one mismatch, so every
field has one JSON type: ids are strings, times integer epoch milliseconds (or null), ``progress`` a ``"NN%"`` string,
``buttons`` always a list. The models below are those types; ``task_view`` is what fetch, the lists and the
notifyHook webhooks send.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from mjapi.midjourney.actions import NOISE_ACTIONS, ButtonAction
from mjapi.midjourney.custom_ids import parse_custom_id
from mjapi.models import Account, Bot, Job, JobKind, JobStatus

MODAL_DESCRIPTION = "Waiting for window confirm"  # TRUEAI's text; chat UIs look for "confirm" (doc §9)


class TaskStatus(StrEnum):
    NOT_START = "NOT_START"
    SUBMITTED = "SUBMITTED"
    MODAL = "MODAL"
    IN_PROGRESS = "IN_PROGRESS"
    FAILURE = "FAILURE"
    SUCCESS = "SUCCESS"
    CANCEL = "CANCEL"


class BotType(StrEnum):
    MID_JOURNEY = "MID_JOURNEY"
    NIJI_JOURNEY = "NIJI_JOURNEY"


BOT_TYPES: dict[Bot, BotType] = {Bot.MJ: BotType.MID_JOURNEY, Bot.NIJI: BotType.NIJI_JOURNEY}

_STATUSES: dict[JobStatus, TaskStatus] = {
    JobStatus.QUEUED: TaskStatus.NOT_START,
    JobStatus.SUBMITTED: TaskStatus.SUBMITTED,
    JobStatus.WAITING: TaskStatus.IN_PROGRESS,  # the bot has taken it ("Waiting to start"): started, at 0%
    JobStatus.RUNNING: TaskStatus.IN_PROGRESS,
    JobStatus.SUCCEEDED: TaskStatus.SUCCESS,
    JobStatus.FAILED: TaskStatus.FAILURE,
    JobStatus.CANCELLED: TaskStatus.CANCEL,
    JobStatus.MODAL: TaskStatus.MODAL,
}

_COMMAND_ACTIONS: dict[JobKind, str] = {
    JobKind.IMAGINE: "IMAGINE",
    JobKind.DESCRIBE: "DESCRIBE",
    JobKind.BLEND: "BLEND",
    JobKind.SHORTEN: "SHORTEN",
    JobKind.SHOW: "SHOW",
}
#: What ``/submit/change`` and ``simple-change`` call a button in ``description`` (OSS: ``/up <taskId> U2``).
_CHANGE_LABELS: dict[ButtonAction, str] = {
    ButtonAction.UPSAMPLE: "U",
    ButtonAction.VARIATION: "V",
    ButtonAction.REROLL: "R",
}


class ProxyButton(BaseModel):
    """A button of the task's result, as Discord shows it; press it with ``/mj/submit/action {taskId, customId}``."""

    customId: str
    emoji: str = Field(description="Emoji of the button ('' when it has none)")
    label: str = Field(description="Text of the button ('' when it has only an emoji)")
    type: int = Field(default=2, description="2: a button")
    style: int = Field(description="Discord button style: 2 grey, 3 green (chosen), 1 blurple")


class ProxyTask(BaseModel):
    """A midjourney-proxy Task. Unset optional fields are ``null``; ``buttons`` is ``[]`` when there are none."""

    id: str = Field(description="The task id: the job id of mjapi's own API too")
    action: str = Field(
        description="IMAGINE, UPSCALE, VARIATION, REROLL, ZOOM, CUSTOM_ZOOM, PAN, INPAINT, DESCRIBE, BLEND, SHORTEN, "
        "SHOW, VIDEO, ACTION"
    )
    status: TaskStatus
    progress: str = Field(description="'0%'..'99%' while running, '100%' only on SUCCESS, '' on FAILURE and CANCEL")
    imageUrl: str | None = Field(description="Our CDN: the preview while running, the result on SUCCESS")
    videoUrl: str | None = Field(default=None, description="Our CDN: the mp4 of an Animate (VIDEO) task on SUCCESS")
    failReason: str | None = Field(description="Why it failed; set on FAILURE and CANCEL")
    submitTime: int | None = Field(description="Epoch ms: accepted by mjapi")
    startTime: int | None = Field(description="Epoch ms: sent to Discord")
    finishTime: int | None = Field(description="Epoch ms: finished")
    prompt: str
    promptEn: str
    description: str
    state: str | None
    botType: BotType
    parentId: str | None = Field(description="The task whose button made this one")
    buttons: list[ProxyButton]
    properties: dict[str, Any] = Field(
        description="finalPrompt, messageId, messageHash, nonce, discordInstanceId, discordChannelId, "
        "progressMessageId, flags, customId, notifyHook, remix, seed (only the known ones)"
    )


class SubmitResult(BaseModel):
    """SubmitResultVO: always HTTP 200; the outcome is ``code``."""

    code: int = Field(
        description="1 submitted, 21 waiting for the form (call /mj/submit/modal), 22 queued, 23 queue full, "
        "24 banned prompt, 4 invalid request, 3 parent task not found, 9 failure"
    )
    description: str
    result: str | list[str] | None = Field(
        default=None, description="The task id (a string); upload-discord-images: the image URLs"
    )
    properties: dict[str, Any] = Field(default_factory=dict)


# -- Task ----------------------------------------------------------------------------------------------------------


def task_status(job: Job) -> TaskStatus:
    return _STATUSES[job.status]


def task_action(job: Job) -> str:
    """The proxy's TaskAction: the command's name, or the pressed button's ``proxy_action`` from the action table."""
    if job.kind == JobKind.ACTION:
        return parse_custom_id(job.custom_id).spec.proxy_action or "ACTION"
    return _COMMAND_ACTIONS.get(job.kind, "ACTION")


def _progress(job: Job, status: TaskStatus) -> str:
    if status is TaskStatus.SUCCESS:
        return "100%"
    if status in (TaskStatus.FAILURE, TaskStatus.CANCEL):
        return ""
    if status is TaskStatus.IN_PROGRESS:
        return f"{max(0, min(job.progress, 99))}%"
    return "0%"


def _image_url(job: Job, status: TaskStatus) -> str | None:
    if job.kind == JobKind.DESCRIBE:
        return job.upload_url  # the described image (OSS sets it on the task)
    if status is TaskStatus.SUCCESS and job.images:
        return job.images[0].url
    if status is TaskStatus.IN_PROGRESS:
        return job.preview_url
    return None


def _fail_reason(job: Job, status: TaskStatus) -> str | None:
    if status is TaskStatus.FAILURE:
        return (job.error.message if job.error else "") or "The task failed."
    if status is TaskStatus.CANCEL:
        return (job.error.message if job.error else "") or "The task was cancelled."
    return None


def described_prompts(job: Job) -> str:
    """Describe and shorten answer with several prompts: one text, blank lines between them (OSS ``finalPrompt``)."""
    return "\n\n".join(job.prompts)


def _description(job: Job, status: TaskStatus) -> str:
    if status is TaskStatus.MODAL:
        return MODAL_DESCRIPTION
    if job.kind == JobKind.IMAGINE:
        return f"/imagine {job.prompt}"
    if job.kind == JobKind.DESCRIBE:
        name = str(job.options.get("filename") or job.options.get("link") or "image.png")
        extension = name.rsplit(".", 1)[-1].split("?", 1)[0].lower() if "." in name else "png"
        return f"/describe {job.id}.{extension[:5] or 'png'}"
    if job.kind == JobKind.BLEND:
        return f"/blend {job.id} {len(job.options.get('upload_keys') or ())}"
    if job.kind == JobKind.SHORTEN:
        return f"/shorten {job.prompt}"
    if job.kind == JobKind.SHOW:
        return f"/show {job.options.get('job_hash', '')}"
    if job.kind == JobKind.ACTION:
        pressed = parse_custom_id(job.custom_id)
        letter = _CHANGE_LABELS.get(pressed.action)
        if letter == "R":
            return f"/up {job.parent_id} R"
        if letter and pressed.index:
            return f"/up {job.parent_id} {letter}{pressed.index}"
        return f"/action {job.parent_id} {job.custom_id}"
    return f"/{job.kind.value}"


def _buttons(job: Job) -> list[ProxyButton]:
    found = []
    for row in job.buttons:
        for button in row:
            if parse_custom_id(button.custom_id).action in NOISE_ACTIONS:
                continue
            found.append(
                ProxyButton(
                    customId=button.custom_id,
                    emoji=button.emoji or "",
                    label=button.label or "",
                    style=button.style if button.style is not None else 2,
                )
            )
    return found


def _properties(job: Job, status: TaskStatus, final_prompt: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "finalPrompt": final_prompt,
        "messageId": job.result_message_id or job.message_id,
        "progressMessageId": job.message_id,
        "messageHash": job.message_hash,
        "nonce": job.nonce,
        "flags": job.message_flags,
        "discordInstanceId": job.account_id,
        "discordChannelId": job.channel_id,
        "customId": job.custom_id,
        "notifyHook": job.notify_hook,
        "seed": str(job.info["seed"]) if job.info.get("seed") is not None else None,
    }
    if status is TaskStatus.MODAL:
        found["remix"] = True
    return {key: value for key, value in found.items() if value is not None}


def task_model(job: Job) -> ProxyTask:
    status = task_status(job)
    if job.kind in (JobKind.DESCRIBE, JobKind.SHORTEN):
        final_prompt = described_prompts(job)
    else:
        final_prompt = job.final_prompt or job.prompt
    prompt = described_prompts(job) if job.kind == JobKind.DESCRIBE else job.prompt
    return ProxyTask(
        id=job.id,
        action=task_action(job),
        status=status,
        progress=_progress(job, status),
        imageUrl=_image_url(job, status),
        videoUrl=job.video_url,
        failReason=_fail_reason(job, status),
        submitTime=job.created_at or None,
        startTime=job.submitted_at,
        finishTime=job.finished_at,
        prompt=prompt,
        promptEn=prompt,
        description=_description(job, status),
        state=job.state,
        botType=BOT_TYPES[job.bot],
        parentId=job.parent_id,
        buttons=_buttons(job),
        properties=_properties(job, status, final_prompt),
    )


def task_view(job: Job) -> dict[str, Any]:
    """The Task JSON of ``job`` as ``/mj/task/{id}/fetch`` answers it (and notifyHook webhooks post it)."""
    return task_model(job).model_dump(mode="json")


class ProxyAccount(BaseModel):
    """OSS's ``DiscordAccount`` (``/mj/account/*``) as far as mjapi has it, for admin dashboards. Never the Discord
    token: OSS sends ``userToken``, mjapi does not (it is never stored outside the secret)."""

    id: str
    guildId: str | None = None
    channelId: str
    enable: bool
    coreSize: int = Field(description="Jobs at once (the account's concurrency)")
    queueSize: int = Field(description="Jobs waiting for this account in particular")
    timeoutMinutes: int
    mode: str = Field(description="FAST, RELAX or TURBO")
    botTypes: list[BotType]
    running: int
    status: str = Field(description="ok, or why the account takes no jobs (disconnected, captcha, ...)")
    properties: dict[str, Any] = Field(default_factory=dict)


def account_model(account: Account, queued: int, *, timeout_seconds: int) -> ProxyAccount:
    return ProxyAccount(
        id=account.id,
        guildId=account.guild_id,
        channelId=account.channel_id,
        enable=account.enabled,
        coreSize=account.concurrency,
        queueSize=queued,
        timeoutMinutes=max(1, timeout_seconds // 60),
        mode=account.mode.value.upper(),
        botTypes=[BOT_TYPES[bot] for bot in account.bots],
        running=account.slots_used,
        status=account.live_health.value if account.enabled else "disabled",
        properties={"health_reason": account.health_reason, "info": account.info or None},
    )
