"""Job operations behind the API (imagine, action, describe, reading a job), independent of the HTTP face."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mjapi.images import ImageFacts, InvalidImage, inspect_image, store_image
from mjapi.midjourney.prompt import PromptCheck, banned_word, check_prompt
from mjapi.models import ORIGINAL_API, ApiToken, Bot, Job, JobKind, Mode
from mjapi.service.context import Context
from mjapi.service.errors import ApiError, bad_request, not_found
from mjapi.service.jobs import new_job as _new_job
from mjapi.service.jobs import submit


def check_prompt_or_400(ctx: Context, prompt: str | None, *, max_length: int | None = None) -> PromptCheck:
    """Reject prompts the bot would certainly refuse before spending a job on them (the 4xx names the problem)."""
    limit = ctx.settings.max_prompt_length if max_length is None else min(max_length, ctx.settings.max_prompt_length)
    check = check_prompt(prompt or "", max_length=limit)
    if word := banned_word(check.normalized, ctx.settings.banned_words.split(",")):
        raise bad_request("banned_prompt", f"The prompt contains a banned word ({word}).", banned_word=word)
    if check.ok:
        return check
    first = check.errors[0]
    code = (
        "invalid_prompt"
        if first.code in ("empty_prompt", "prompt_too_long", "control_characters")
        else ("invalid_parameter")
    )
    details = [e.model_dump(exclude_none=True) for e in check.errors]
    raise bad_request(code, first.message, details=details)


def public_url_or_400(url: str, code: str) -> str:
    """A URL from a user that Discord (or we) will fetch: http(s), and not a loopback, private, link-local or metadata
    address (the shared guard, ``net_guard``); else a 400 with ``code`` and the guard's reason."""
    from mjapi import net_guard  # with httpcore: loaded by the requests that carry a URL only

    try:
        net_guard.check_url(url)
    except net_guard.UrlRefused as exc:
        raise bad_request(code, f"{url[:100]}: {exc.message}", reason=exc.code) from exc
    return url


def imagine(
    ctx: Context,
    token: ApiToken,
    *,
    prompt: str,
    mode: Mode | None = None,
    bot: Bot = Bot.MJ,
    notify_hook: str | None = None,
    state: str | None = None,
    auto_upscale: bool = False,
    own_image_urls: Sequence[str] = (),
    account_id: str | None = None,
    api: str = ORIGINAL_API,
) -> Job:
    """/imagine. ``own_image_urls`` (images the caller uploaded, now on our CDN) lead the prompt and skip the URL guard
    that every other image link passes; ``account_id`` pins the job to one account."""
    check = check_prompt_or_400(ctx, " ".join([*own_image_urls, prompt]))
    for url in check.parts.image_urls:
        if url not in own_image_urls:
            public_url_or_400(url, "invalid_image_url")
    job = _new_job(
        JobKind.IMAGINE,
        token,
        prompt=check.normalized,
        mode=mode_of(check, mode),
        bot=bot,
        account_id=account_id,
        notify_hook=notify_hook,
        state=state,
        options={"auto_upscale": True} if auto_upscale else {},
        api=api,
    )
    return submit(ctx, job)


def mode_of(check: PromptCheck, mode: Mode | None) -> Mode | None:
    """The mode a job asks for: the route's or filter's, or ``--fast``/``--relax``/``--turbo`` in the prompt; both
    only when they agree (400 ``conflicting_mode`` otherwise)."""
    if not check.requested_mode:
        return mode
    asked = Mode(check.requested_mode)
    if mode is not None and mode != asked:
        raise bad_request("conflicting_mode", f"The requested mode ({mode.value}) contradicts --{asked.value}.")
    return asked


def _checked_image(ctx: Context, image: bytes) -> ImageFacts:
    if len(image) > ctx.settings.max_upload_bytes:
        raise ApiError(413, "image_too_large", f"The image is larger than {ctx.settings.max_upload_bytes} bytes.")
    try:
        return inspect_image(image)
    except InvalidImage as exc:
        raise bad_request("invalid_image", str(exc)) from exc


def owned_job(ctx: Context, job_id: str | None, owner: ApiToken | None) -> Job:
    """A job the caller may see: its own (``owner``) or any (admin, ``owner=None``). Others' jobs are 404."""
    if not job_id or len(job_id) > 64:
        raise not_found()
    job = ctx.jobs.get(job_id)
    if job is None or (owner is not None and job.token_hash != owner.token_hash):
        raise not_found()
    return job


def job_for_message(ctx: Context, message_id: str, owner: ApiToken | None) -> Job:
    """The job whose result is Discord message ``message_id`` (the original API names images by message id)."""
    job_id = ctx.jobs.resolve_ref("message", message_id) if message_id.isdigit() else None
    return owned_job(ctx, job_id, owner)


def children(ctx: Context, job: Job) -> list[Job]:
    return ctx.jobs.get_many(job.children) if job.children else []


def job_thread(ctx: Context, job_id: str, owner: ApiToken | None) -> tuple[Job, list[Job]]:
    """A job the caller may see and every job started from its buttons (the original's thread of images)."""
    job = owned_job(ctx, job_id, owner)
    return job, children(ctx, job)


def describe(
    ctx: Context,
    token: ApiToken,
    *,
    image: bytes | None = None,
    filename: str | None = None,
    facts: ImageFacts | None = None,
    link: str | None = None,
    bot: Bot = Bot.MJ,
    notify_hook: str | None = None,
    state: str | None = None,
    mode: Mode | None = None,
    account_id: str | None = None,
    api: str = ORIGINAL_API,
) -> Job:
    """/describe of an uploaded ``image`` (checked here unless the caller did: ``facts``) or of a ``link``."""
    options: dict[str, Any] = {}
    upload_url: str | None = None
    if image is not None:
        if facts is None:
            facts = _checked_image(ctx, image)
        stored = store_image(image, prefix="uploads", facts=facts)
        safe_name = "".join(c for c in (filename or "") if c.isalnum() or c in "._-")[:64] or "image"
        if not safe_name.lower().endswith(f".{facts.extension}"):
            safe_name = f"{safe_name.rsplit('.', 1)[0]}.{facts.extension}"
        options = {"upload_key": stored.key, "filename": safe_name}
        upload_url = stored.url
    elif link:
        public_url_or_400(link, "invalid_link")
        options = {"link": link}
        upload_url = link
    else:
        raise bad_request("image_required", "Send an image file (multipart field 'image') or a 'link'.")
    job = _new_job(
        JobKind.DESCRIBE,
        token,
        bot=bot,
        mode=mode,
        account_id=account_id,
        options=options,
        upload_url=upload_url,
        notify_hook=notify_hook,
        state=state,
        api=api,
    )
    return submit(ctx, job)
