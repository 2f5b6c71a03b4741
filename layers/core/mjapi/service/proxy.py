"""What the midjourney-proxy face (``/mj/*``) asks of the service layer, on the same jobs as the original face.

Jobs are built with the shared pieces (``new_job``/``submit``, ``child_job``/``submit_child``, the prompt check, the
action table) and recorded with ``api="mj"`` from their first write, so their webhooks take the proxy's shape. What
only this face has: image prompts sent as base64, ``accountFilter`` (a mode, an account), the MODAL placeholder for
buttons whose form the caller fills in through ``/mj/submit/modal``, and ``change``/``simple-change`` (U1-U4, V1-V4,
R by name).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mjapi.images import ImageFacts, InvalidImage, inspect_image, store_image
from mjapi.midjourney.actions import ButtonAction, Opens
from mjapi.midjourney.custom_ids import CustomId, parse_custom_id
from mjapi.midjourney.prompt import MAX_MODAL_PROMPT_LENGTH
from mjapi.models import Account, ApiToken, Bot, Button, Job, JobStatus, Mode
from mjapi.service import commands, operations
from mjapi.service.buttons import decode_mask, find_button
from mjapi.service.context import Context
from mjapi.service.errors import ApiError, bad_request
from mjapi.service.follow_ups import child_job, submit_child
from mjapi.service.operations import check_prompt_or_400
from mjapi.store.accounts import get_account, list_accounts
from mjapi.store.jobs import JobExists

API = "mj"
MAX_LISTED_TASKS = 100
_SIMPLE_CHANGE = re.compile(r"^\s*(\S{1,64})\s+([UuVv])([1-4])\s*$|^\s*(\S{1,64})\s+([Rr])\s*$")


class ParentNotFound(ApiError):
    """The task a follow-up names does not exist (for this caller): the only case answered with code 3."""

    def __init__(self) -> None:
        super().__init__(404, "task_not_found", "The task does not exist or is not yours.")


@dataclass(frozen=True)
class Placement:
    """Where a new job should run: a mode, an account (``accountFilter.instanceId``), both or neither."""

    mode: Mode | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class Upload:
    """An image sent as a data URL or base64, checked; ``name`` is a file name for the bot's upload."""

    data: bytes
    name: str
    facts: ImageFacts


# -- reading -----------------------------------------------------------------------------------------------------


def own_task(ctx: Context, task_id: str, owner: ApiToken) -> Job | None:
    """The caller's task, or None (unknown and others' tasks look the same)."""
    if not task_id or len(task_id) > 64:
        return None
    job = ctx.jobs.get(task_id)
    return job if job is not None and job.token_hash == owner.token_hash else None


def parent_task(ctx: Context, task_id: str, owner: ApiToken) -> Job:
    job = own_task(ctx, task_id, owner)
    if job is None:
        raise ParentNotFound
    return job


def tasks_by_ids(ctx: Context, ids: Sequence[str], owner: ApiToken) -> list[Job]:
    """The caller's tasks among ``ids``, in the order asked; unknown ids (and others' tasks) are left out."""
    wanted = list(dict.fromkeys(i for i in ids if i and len(i) <= 64))
    return [job for job in ctx.jobs.get_many(wanted) if job.token_hash == owner.token_hash]


def recent_tasks(ctx: Context, owner: ApiToken, *, limit: int = MAX_LISTED_TASKS) -> list[Job]:
    jobs, _ = ctx.jobs.history(owner.token_hash, limit=limit)
    return jobs


def queued_tasks(ctx: Context, owner: ApiToken) -> list[Job]:
    """The caller's tasks waiting for a free account, oldest first."""
    found: list[Job] = []
    for queue_key, depth in ctx.jobs.queue_depths().items():
        if depth > 0:
            found += [j for j in ctx.jobs.queued(queue_key, limit=min(depth, 1000)) if j.token_hash == owner.token_hash]
    return sorted(found, key=lambda j: (j.created_at, j.id))


def queue_ahead(ctx: Context, job: Job) -> int:
    """How many jobs wait before ``job`` in its queue (its queue's depth, less itself)."""
    if job.status != JobStatus.QUEUED or not job.queue_key:
        return 0
    return max(0, ctx.jobs.queue_depths().get(job.queue_key, 1) - 1)


# -- inputs --------------------------------------------------------------------------------------------------------


def bot_type(value: str | None) -> Bot:
    """``MID_JOURNEY`` (default) or ``NIJI_JOURNEY``; TRUEAI's ``mj`` and ``niji`` too, any case."""
    wanted = (value or "").strip().lower()
    if wanted in ("", "mid_journey", "mj", "midjourney"):
        return Bot.MJ
    if wanted in ("niji_journey", "niji"):
        return Bot.NIJI
    raise bad_request("invalid_bot_type", "botType must be MID_JOURNEY or NIJI_JOURNEY.")


def decode_uploads(ctx: Context, texts: Sequence[str], *, what: str = "Image") -> list[Upload]:
    """Images sent as data URLs (``data:image/png;base64,...``) or bare base64: decoded and checked."""
    limit = ctx.settings.max_upload_bytes
    uploads = []
    for position, text in enumerate(texts, 1):
        data = commands.decode_image_text(text, position)
        if len(data) > limit:
            raise ApiError(413, "image_too_large", f"{what} {position} is larger than {limit} bytes.")
        try:
            facts = inspect_image(data)
        except InvalidImage as exc:
            raise bad_request("invalid_image", f"{what} {position}: {exc}.") from exc
        uploads.append(Upload(data, f"image{position}.{facts.extension}", facts))
    return uploads


def store_uploads(uploads: Sequence[Upload]) -> list[str]:
    """Put the images on our CDN (content-addressed) and give their public URLs."""
    return [store_image(upload.data, prefix="uploads", facts=upload.facts).url for upload in uploads]


def placement(
    ctx: Context, *, bot: Bot, mode: Mode | None, modes: Sequence[Mode], instance_id: str | None
) -> Placement:
    """The mode (the route's prefix first, else ``accountFilter.modes``) and account (``accountFilter.instanceId``)
    a new job asks for. An account that does not exist, does not offer the bot or runs in another mode is a 400."""
    if mode is None and modes:
        mode = _first_served_mode(ctx, bot, modes)
    if not instance_id:
        return Placement(mode=mode)
    account = get_account(ctx.table, instance_id.strip())
    if account is None or not account.enabled or not account.serves(bot):
        raise bad_request("unknown_instance", f"No enabled {bot.value} account has the id {instance_id!r}.")
    if mode is not None and account.mode != mode:
        raise bad_request("instance_mode", f"Account {account.id} runs in {account.mode.value} mode, not {mode.value}.")
    return Placement(mode=mode, account_id=account.id)


def _first_served_mode(ctx: Context, bot: Bot, modes: Sequence[Mode]) -> Mode:
    """Accounts have one mode each: of the modes a caller accepts, the first one some enabled account serves."""
    served = {a.mode for a in list_accounts(ctx.table, max_age=1.0) if a.enabled and a.serves(bot)}
    return next((m for m in modes if m in served), modes[0])


# -- submissions ---------------------------------------------------------------------------------------------------


def imagine(
    ctx: Context,
    token: ApiToken,
    *,
    prompt: str,
    images: Sequence[Upload] = (),
    bot: Bot = Bot.MJ,
    place: Placement = Placement(),
    notify_hook: str | None = None,
    state: str | None = None,
) -> Job:
    """/imagine; image prompts go to our CDN first and their URLs lead the prompt (as OSS does with Discord's)."""
    return operations.imagine(
        ctx,
        token,
        prompt=prompt,
        own_image_urls=store_uploads(images),
        bot=bot,
        mode=place.mode,
        account_id=place.account_id,
        notify_hook=notify_hook,
        state=state,
        api=API,
    )


def describe(
    ctx: Context,
    token: ApiToken,
    *,
    image: Upload | None = None,
    link: str | None = None,
    bot: Bot = Bot.MJ,
    place: Placement = Placement(),
    notify_hook: str | None = None,
    state: str | None = None,
) -> Job:
    if image is None and not link:
        raise bad_request("image_required", "Send the image as 'base64' (a data URL) or its 'link'.")
    return operations.describe(
        ctx,
        token,
        image=image.data if image else None,
        filename=image.name if image else None,
        facts=image.facts if image else None,
        link=link,
        bot=bot,
        mode=place.mode,
        account_id=place.account_id,
        notify_hook=notify_hook,
        state=state,
        api=API,
    )


def blend(
    ctx: Context,
    token: ApiToken,
    *,
    images: Sequence[Upload],
    dimensions: str | None = None,
    bot: Bot = Bot.MJ,
    place: Placement = Placement(),
    notify_hook: str | None = None,
    state: str | None = None,
) -> Job:
    return commands.blend(
        ctx,
        token,
        images=[commands.BlendImage(image.data, image.name, image.facts) for image in images],
        dimensions=dimensions,
        bot=bot,
        mode=place.mode,
        account_id=place.account_id,
        notify_hook=notify_hook,
        state=state,
        api=API,
    )


def shorten(
    ctx: Context,
    token: ApiToken,
    *,
    prompt: str,
    bot: Bot = Bot.MJ,
    place: Placement = Placement(),
    notify_hook: str | None = None,
    state: str | None = None,
) -> Job:
    return commands.shorten(
        ctx,
        token,
        prompt=prompt,
        bot=bot,
        mode=place.mode,
        account_id=place.account_id,
        notify_hook=notify_hook,
        state=state,
        api=API,
    )


# -- buttons ---------------------------------------------------------------------------------------------------------


def remix_setting(ctx: Context, job: Job) -> bool | None:
    """The Remix setting the bot last reported for the account that owns ``job``'s message (None: not known)."""
    account: Account | None = get_account(ctx.table, job.account_id) if job.account_id else None
    if account is None:
        return None
    value = (account.settings.get(job.bot.value) or {}).get("remix")
    return value if isinstance(value, bool) else None


def action(
    ctx: Context,
    token: ApiToken,
    *,
    parent: Job,
    custom_id: str,
    enable_remix: bool = False,
    notify_hook: str | None = None,
    state: str | None = None,
) -> Job:
    """Press a button of ``parent``. A button that opens a form the caller must fill in (custom zoom, Vary Region, a
    described or shortened prompt; variation, reroll and pan with Remix on or ``enable_remix``) makes a MODAL
    placeholder instead, continued by :func:`submit_modal` under the same id."""
    if parent.status != JobStatus.SUCCEEDED or not parent.result_message_id:
        raise bad_request("task_not_finished", "Buttons can be pressed once the task has succeeded.")
    button = find_button(parent, custom_id)
    pressed = parse_custom_id(button.custom_id)
    if pressed.action is ButtonAction.DESCRIBE_IMAGINE_ALL:
        raise bad_request("not_supported", "Imagine all makes four tasks; press 1️⃣-4️⃣ one at a time instead.")
    if not pressed.spec.makes_job:
        raise bad_request("not_a_job_action", f"The {pressed.action.value} button does not make a new image.")
    remix = remix_setting(ctx, parent)
    if enable_remix and pressed.spec.opens is Opens.FORM_IF_REMIX and remix is False:
        raise bad_request("remix_off", "enableRemix needs Remix mode on the account (it is off).")
    child = child_job(
        parent, button.custom_id, token_hash=token.token_hash, notify_hook=notify_hook, state=state
    ).model_copy(update={"api": API})
    if pressed.spec.opens_form(remix=enable_remix or bool(remix)):
        placeholder = child.model_copy(update={"status": JobStatus.MODAL})
        ctx.jobs.create_modal(placeholder)
        return placeholder
    return submit_child(ctx, child, charge=pressed.spec.charged)


def submit_modal(
    ctx: Context, token: ApiToken, *, task: Job, prompt: str | None = None, mask: str | None = None
) -> Job:
    """Fill in the form of a MODAL task and submit it under the same id. Without a prompt the form keeps the parent's
    prompt (what the bot prefills); Custom Zoom needs ``--zoom`` (1-2) in it, Vary Region a mask."""
    if task.status != JobStatus.MODAL or not task.parent_id or not task.custom_id:
        raise bad_request("not_waiting_for_form", f"Task {task.id} is not waiting for a form (status {task.status}).")
    parent = ctx.jobs.get(task.parent_id)
    if parent is None:
        raise ParentNotFound
    pressed = parse_custom_id(task.custom_id)
    options = _form_inputs(ctx, pressed, prompt, mask, default_prompt=task.prompt)
    child = child_job(
        parent,
        task.custom_id,
        token_hash=token.token_hash,
        options=options,
        notify_hook=task.notify_hook,
        state=task.state,
        job_id=task.id,
    ).model_copy(update={"api": API})
    try:
        return submit_child(ctx, child, charge=pressed.spec.charged)
    except JobExists as exc:
        raise ApiError(409, "task_already_submitted", f"Task {task.id}'s form was already submitted.") from exc


def _form_inputs(
    ctx: Context, pressed: CustomId, prompt: str | None, mask: str | None, *, default_prompt: str
) -> dict[str, str]:
    options: dict[str, str] = {}
    text = (prompt or "").strip()
    if pressed.action is ButtonAction.CUSTOM_ZOOM:
        text = text or default_prompt
        check = check_prompt_or_400(ctx, text, max_length=MAX_MODAL_PROMPT_LENGTH)
        if check.parts.get("zoom") is None:
            raise bad_request("zoom_required", "Custom Zoom needs --zoom with a value from 1 to 2 in the prompt.")
        options["prompt"] = check.normalized
    elif text:
        options["prompt"] = check_prompt_or_400(ctx, text, max_length=MAX_MODAL_PROMPT_LENGTH).normalized
    if pressed.action is ButtonAction.VARY_REGION:
        if not mask:
            raise bad_request("mask_required", "Vary (Region) needs maskBase64: a PNG, the area to repaint white.")
        data = decode_mask(mask, max_bytes=ctx.settings.max_upload_bytes)
        options["mask_key"] = store_image(data, prefix="masks").key
    elif mask:
        raise bad_request("mask_not_accepted", "Only Vary (Region) takes a mask.")
    return options


_CHANGE_ACTIONS = {"UPSCALE": ButtonAction.UPSAMPLE, "VARIATION": ButtonAction.VARIATION, "REROLL": ButtonAction.REROLL}
_CHANGE_PARENTS = frozenset({"IMAGINE", "VARIATION", "REROLL", "BLEND"})


def change_button(parent: Job, change: str, index: int | None) -> Button:
    """The grid button ``/submit/change`` names: UPSCALE or VARIATION with an index (1-4), or REROLL."""
    wanted = _CHANGE_ACTIONS.get(change.upper())
    if wanted is None:
        raise bad_request("invalid_action", "action must be UPSCALE, VARIATION or REROLL.")
    if wanted is not ButtonAction.REROLL and (index is None or not 1 <= index <= 4):
        raise bad_request("invalid_index", "index must be 1 to 4 for UPSCALE and VARIATION.")
    for row in parent.buttons:
        for button in row:
            pressed = parse_custom_id(button.custom_id)
            if pressed.action is wanted and (wanted is ButtonAction.REROLL or pressed.index == index):
                return button
    raise bad_request("invalid_action", f"Task {parent.id} has no {change.upper()} {index or ''} button.".strip())


def change(
    ctx: Context,
    token: ApiToken,
    *,
    parent: Job,
    change_action: str,
    index: int | None,
    proxy_action: str,
    notify_hook: str | None = None,
    state: str | None = None,
) -> Job:
    """``/submit/change``: U1-U4, V1-V4 or R on a grid (the parent must be a finished imagine, variation, reroll or
    blend, as in OSS)."""
    if parent.status != JobStatus.SUCCEEDED or proxy_action not in _CHANGE_PARENTS:
        raise bad_request("invalid_parent", "change works on a finished IMAGINE, VARIATION, REROLL or BLEND task.")
    button = change_button(parent, change_action, index)
    return action(ctx, token, parent=parent, custom_id=button.custom_id, notify_hook=notify_hook, state=state)


def parse_simple_change(content: str) -> tuple[str, str, int | None]:
    """``"<taskId> U1"`` -> (task id, UPSCALE|VARIATION|REROLL, index)."""
    found = _SIMPLE_CHANGE.match(content or "")
    if found is None:
        raise bad_request("invalid_content", "content must be '<taskId> U1..U4', '<taskId> V1..V4' or '<taskId> R'.")
    if found.group(1):
        letter = found.group(2).upper()
        return found.group(1), "UPSCALE" if letter == "U" else "VARIATION", int(found.group(3))
    return found.group(4), "REROLL", None


# -- cancel and seed -------------------------------------------------------------------------------------------------


def cancel(ctx: Context, job: Job) -> Job:
    """A MODAL task is dropped at once (it was never charged); others as ``/midjourney/cancel`` does."""
    if job.status == JobStatus.MODAL:
        cancelled = ctx.jobs.finish(job, JobStatus.CANCELLED)
        if cancelled is not None:
            return cancelled
        job = ctx.jobs.get(job.id) or job  # its form was submitted meanwhile
    return commands.cancel(ctx, job, wait_seconds=ctx.settings.switch_wait_seconds)


def seed(ctx: Context, job: Job) -> str | None:
    found = commands.seed(ctx, job, wait_seconds=ctx.settings.switch_wait_seconds)
    value = found.info.get("seed")
    return None if value is None else str(value)
