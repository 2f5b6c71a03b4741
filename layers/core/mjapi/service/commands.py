"""The bot's other commands: /blend, /shorten, /show (adopt a job by its Midjourney uuid), the seed (✉️ reaction) and
cancelling a job (ours while it waits in our queue, the bot's "Cancel Job" message command once it runs)."""

from __future__ import annotations

import base64
import binascii
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from mjapi.discord import interactions
from mjapi.discord.commands import CATALOG, CommandNotFound
from mjapi.discord.rest import DiscordError, DiscordRest
from mjapi.ids import new_nonce, new_session_id
from mjapi.images import ImageFacts, InvalidImage, inspect_image, store_image
from mjapi.models import (
    ACTIVE_STATUSES,
    APPLICATION_IDS,
    ORIGINAL_API,
    Account,
    ApiToken,
    Bot,
    Job,
    JobKind,
    JobStatus,
    Mode,
)
from mjapi.service.context import Context
from mjapi.service.errors import ApiError, bad_request, not_found
from mjapi.service.jobs import new_job, submit, wait_for
from mjapi.service.operations import check_prompt_or_400
from mjapi.service.submitter import default_rest_factory
from mjapi.store.accounts import get_account, list_accounts
from mjapi.store.table import ConditionFailed

MIN_BLEND_IMAGES = 2
MAX_BLEND_IMAGES = 5
#: /blend's ``dimensions`` choices: the API's names (midjourney-proxy's PORTRAIT/SQUARE/LANDSCAPE) -> the bot's values.
BLEND_DIMENSIONS = {"portrait": "--ar 2:3", "square": "--ar 1:1", "landscape": "--ar 3:2"}
SEED_EMOJI = "✉️"
CANCEL_COMMAND = "Cancel Job"  # Midjourney's message command (Apps menu of its progress message)
_JOB_HASH = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class BlendImage:
    data: bytes
    filename: str | None = None
    facts: ImageFacts | None = None  # known when the caller checked the image already (the /mj face's uploads)


# -- blend -----------------------------------------------------------------------------------------------------------


def decode_image_text(text: str, position: int) -> bytes:
    """An image sent as a data URL (``data:image/png;base64,...``) or bare base64."""
    raw = text.split("base64,", 1)[-1].strip() if text.lstrip().startswith("data:") else text.strip()
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request("invalid_image", f"Image {position} is not valid base64 (or a base64 data URL).") from exc
    if not data:
        raise bad_request("invalid_image", f"Image {position} is empty.")
    return data


def blend_dimensions(value: str | None) -> str | None:
    """``portrait|square|landscape`` (any case), ``2:3|1:1|3:2`` or the bot's own ``--ar 2:3``; None: the bot's
    default (square)."""
    if value is None or not value.strip():
        return None
    wanted = value.strip().lower()
    for name, option in BLEND_DIMENSIONS.items():
        if wanted in (name, option, option.removeprefix("--ar ")):
            return option
    raise bad_request("invalid_dimensions", "dimensions must be portrait (2:3), square (1:1) or landscape (3:2).")


def blend(
    ctx: Context,
    token: ApiToken,
    *,
    images: Sequence[BlendImage],
    dimensions: str | None = None,
    bot: Bot = Bot.MJ,
    mode: Mode | None = None,
    notify_hook: str | None = None,
    state: str | None = None,
    account_id: str | None = None,
    api: str = ORIGINAL_API,
) -> Job:
    """/blend of 2-5 images (each checked, then stored on our side for the submitter to upload); charged one use."""
    if not MIN_BLEND_IMAGES <= len(images) <= MAX_BLEND_IMAGES:
        raise bad_request(
            "invalid_image_count",
            f"Blend takes {MIN_BLEND_IMAGES} to {MAX_BLEND_IMAGES} images; {len(images)} were sent.",
        )
    option = blend_dimensions(dimensions)
    limit = ctx.settings.max_upload_bytes
    checked = []
    for position, image in enumerate(images, 1):
        if image.facts is not None:
            checked.append((image, image.facts))
            continue
        if len(image.data) > limit:
            raise ApiError(413, "image_too_large", f"Image {position} is larger than {limit} bytes.")
        try:
            checked.append((image, inspect_image(image.data)))
        except InvalidImage as exc:
            raise bad_request("invalid_image", f"Image {position}: {exc}.") from exc
    stored = [store_image(image.data, prefix="uploads", facts=facts) for image, facts in checked]
    options: dict[str, object] = {"upload_keys": [s.key for s in stored]}
    if option:
        options["dimensions"] = option
    job = new_job(
        JobKind.BLEND,
        token,
        bot=bot,
        mode=mode,
        account_id=account_id,
        options=options,
        upload_filenames=[_safe_name(image.filename, n, facts.extension) for n, (image, facts) in enumerate(checked)],
        notify_hook=notify_hook,
        state=state,
        api=api,
    )
    return submit(ctx, job)


def _safe_name(filename: str | None, index: int, extension: str) -> str:
    stem = "".join(c for c in (filename or "").rsplit(".", 1)[0] if c.isalnum() or c in "_-")[:60]
    return f"{stem or f'image{index + 1}'}.{extension}"


# -- shorten ---------------------------------------------------------------------------------------------------------


def shorten(
    ctx: Context,
    token: ApiToken,
    *,
    prompt: str,
    bot: Bot = Bot.MJ,
    notify_hook: str | None = None,
    state: str | None = None,
    mode: Mode | None = None,
    account_id: str | None = None,
    api: str = ORIGINAL_API,
) -> Job:
    """/shorten: five shorter prompts, each with a button that imagines it (pressed through the action route)."""
    check = check_prompt_or_400(ctx, prompt)
    job = new_job(
        JobKind.SHORTEN,
        token,
        prompt=check.normalized,
        bot=bot,
        mode=mode,
        account_id=account_id,
        notify_hook=notify_hook,
        state=state,
        api=api,
    )
    return submit(ctx, job)


# -- show ------------------------------------------------------------------------------------------------------------


def show(
    ctx: Context,
    token: ApiToken | None,
    *,
    job_hash: str,
    account_id: str | None = None,
    bot: Bot = Bot.MJ,
) -> Job:
    """/show <uuid>: the bot re-posts that finished job with working buttons, so it can be continued here. The job
    runs on ``account_id``, else on the account that made it (when we know the uuid), else on any usable account of
    ``bot``; Midjourney only shows an account its own jobs. Free, and needs no concurrency slot."""
    wanted = job_hash.strip().lower()
    if not _JOB_HASH.fullmatch(wanted):
        raise bad_request("invalid_job_hash", "job_hash must be a Midjourney job id (a UUID).")
    account = _show_account(ctx, wanted, account_id, bot)
    job = new_job(JobKind.SHOW, token, bot=bot, account_id=account.id, options={"job_hash": wanted})
    return submit(ctx, job, charge=False)


def _show_account(ctx: Context, job_hash: str, account_id: str | None, bot: Bot) -> Account:
    if account_id:
        account = get_account(ctx.table, account_id)
        if account is None or not account.serves(bot):
            raise not_found("account")
        return account
    known_id = ctx.jobs.resolve_ref("hash", job_hash)
    known = ctx.jobs.get(known_id) if known_id else None
    if known is not None and known.account_id:
        account = get_account(ctx.table, known.account_id)
        if account is not None:
            return account
    usable = [a for a in list_accounts(ctx.table, max_age=1.0) if a.usable and a.serves(bot)]
    if not usable:
        raise ApiError(503, "no_account", f"No usable {bot.value} account can run /show now.")
    return random.choice(usable)  # spreading load, not security


# -- seed ------------------------------------------------------------------------------------------------------------


def seed(ctx: Context, job: Job, *, wait_seconds: float) -> Job:
    """The job's seed: known already, or asked for with a ✉️ reaction on its result (the bot answers by DM, and the
    relay stores the seed on the job). Returns the job after waiting at most ``wait_seconds``. Free."""
    if "seed" in job.info:
        return job
    if job.status != JobStatus.SUCCEEDED or not job.result_message_id or not job.message_hash or not job.account_id:
        raise ApiError(409, "seed_unavailable", "Only a finished image job has a seed (wait until it has succeeded).")
    account, rest = _account_client(ctx, job.account_id)
    # The bot's DM names the job by its Midjourney uuid; a /show of the same job may have taken that key since.
    ctx.jobs.put_ref("hash", job.message_hash, job.id)
    try:
        rest.add_reaction(job.channel_id or account.channel_id, job.result_message_id, SEED_EMOJI)
    except DiscordError as exc:
        raise _discord_error(exc) from exc
    deadline = time.monotonic() + wait_seconds
    current = job
    while "seed" not in current.info and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        current = ctx.jobs.get(job.id) or current
    return current


# -- cancel ----------------------------------------------------------------------------------------------------------


def cancel(ctx: Context, job: Job, *, wait_seconds: float) -> Job:
    """Cancel a job. Waiting in our queue: it ends CANCELLED at once, its use given back. Running: the bot is asked
    to stop it with the Cancel Job button of the job's progress message when it has one (today's bot), else with its
    "Cancel Job" message command on that message, after the job is marked ``cancel_requested`` so that the bot's
    "(Stopped)" ends it CANCELLED (and refunded) instead of failed. Returns the job after waiting at most
    ``wait_seconds`` for the outcome."""
    if job.status == JobStatus.QUEUED:
        cancelled = ctx.jobs.finish(job, JobStatus.CANCELLED, refund=True)
        if cancelled is not None:
            return cancelled
        job = ctx.jobs.get(job.id) or job  # a free account took it meanwhile
    if job.is_terminal:
        raise ApiError(409, "job_finished", f"The job has already {job.status.value}.")
    job = _wait_for_message(ctx, job, min(wait_seconds, 5.0))
    if job.is_terminal:
        raise ApiError(409, "job_finished", f"The job has already {job.status.value}.")
    message_id, account_id = job.message_id, job.account_id
    if not message_id or not account_id:
        raise ApiError(409, "not_cancellable_yet", "Midjourney has not started the job yet; try again in a moment.")
    try:
        job = ctx.jobs.update_fields(
            job.id, {"options": {**job.options, "cancel_requested": True}}, allowed=ACTIVE_STATUSES
        )
    except ConditionFailed as exc:
        raise ApiError(409, "job_finished", "The job finished meanwhile.") from exc
    try:
        _send_cancel(ctx, job, account_id, message_id)
    except DiscordError as exc:
        current = ctx.jobs.get(job.id) or job
        if exc.unknown_message and current.is_terminal:  # the progress message gave way to the result
            raise ApiError(409, "job_finished", f"The job has already {current.status.value}.") from exc
        raise _discord_error(exc) from exc
    return wait_for(ctx, job, wait_seconds)


def _wait_for_message(ctx: Context, job: Job, seconds: float) -> Job:
    """A job just sent has no progress message yet; the bot posts one within moments."""
    deadline = time.monotonic() + seconds
    current = job
    while not current.message_id and not current.is_terminal and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        current = ctx.jobs.get(job.id) or current
    return current


def _send_cancel(ctx: Context, job: Job, account_id: str, message_id: str) -> None:
    account, rest = _account_client(ctx, account_id)
    application_id = APPLICATION_IDS[job.bot]
    if job.cancel_custom_id:
        # Today's bot puts a Cancel Job button on the job's own (ephemeral) progress message: click it, repeating the
        # message's flags as Discord requires for ephemeral messages.
        rest.interact(
            interactions.button(
                application_id=application_id,
                guild_id=account.guild_id,
                channel_id=account.channel_id,
                message_id=message_id,
                message_flags=job.progress_flags,
                custom_id=job.cancel_custom_id,
                session_id=account.session_id or new_session_id(),
                nonce=new_nonce(),  # not remembered: the bot's answer must not bind to the job
            )
        )
        return
    for attempt in (1, 2):
        try:
            ref = CATALOG.get(
                rest,
                application_id=application_id,
                name=CANCEL_COMMAND,
                guild_id=account.guild_id,
                channel_id=account.channel_id,
                refresh=attempt == 2,
            )
        except CommandNotFound as exc:
            message = f"Midjourney's {CANCEL_COMMAND} command is not available."
            raise ApiError(502, "command_unavailable", message) from exc
        payload = interactions.message_command(
            ref=ref,
            guild_id=account.guild_id,
            channel_id=account.channel_id,
            session_id=account.session_id or new_session_id(),
            nonce=new_nonce(),  # not remembered: the bot's "cancelled" reply must not bind to the job
            target_id=message_id,
        )
        try:
            rest.interact(payload)
            return
        except DiscordError as exc:
            if not exc.invalid_version or attempt == 2:
                raise


# -- helpers ---------------------------------------------------------------------------------------------------------


def _account_client(ctx: Context, account_id: str) -> tuple[Account, DiscordRest]:
    """The account that owns a job's messages (reactions and message commands must come from it) and its client."""
    account = get_account(ctx.table, account_id)
    config = ctx.secrets.account(account_id)
    if account is None or config is None:
        raise ApiError(409, "account_gone", "The account that ran this job is no longer configured.")
    return account, default_rest_factory(config)


def _discord_error(exc: DiscordError) -> ApiError:
    if exc.rate_limited:
        return ApiError(429, "discord_rate_limited", "Discord is rate limiting the account; try again later.")
    if exc.unknown_message:
        return ApiError(409, "message_gone", "The job's Discord message no longer exists.")
    if exc.status == 0 or exc.status >= 500:
        return ApiError(502, "discord_unavailable", "Discord did not accept the request (network or server error).")
    return ApiError(502, "discord_rejected", f"Discord rejected the request: {exc.message}")
