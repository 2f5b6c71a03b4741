"""The original API under /midjourney/: GET with query parameters as in the original, POST with JSON as well."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from mjapi.api import views
from mjapi.api.auth import is_admin, reader, require_admin, require_token, require_usable_token, token_of
from mjapi.api.openapi_doc import ADMIN_ONLY
from mjapi.models import Bot, Job, Mode
from mjapi.service import accounts, buttons, operations, queue, tokens
from mjapi.service.context import Context
from mjapi.service.errors import bad_request
from mjapi.service.history import history as history_page

router = Router()  # type: ignore[no-untyped-call]
TAG = ["midjourney (original API)"]

TokenQ = Annotated[str | None, Query(description="API token (or send it as a Bearer header)")]
IdQ = Annotated[str, Query(min_length=1, max_length=64, description="Job id")]


class ImagineBody(BaseModel):
    prompt: str = Field(min_length=1)
    token: str | None = None
    mode: Mode | None = None
    bot: Bot = Bot.MJ
    upscale: bool = False
    notify_hook: str | None = Field(default=None, max_length=2000)
    state: str | None = Field(default=None, max_length=255)


class ActionBody(BaseModel):
    action: str = Field(
        min_length=1, max_length=200, description="custom_id of one of the job's buttons, or its label (U1, 🔄...)"
    )
    image: str | None = Field(default=None, max_length=32, description="Discord message id of the image")
    job: str | None = Field(default=None, max_length=64, description="Job id (alternative to image)")
    prompt: str | None = Field(
        default=None, max_length=6000, description="Prompt for the form the button opens (remix, pan, custom zoom)"
    )
    mask: str | None = Field(
        default=None,
        max_length=12_000_000,
        description="Vary (Region): PNG as a data URL or base64, black background, the area to repaint white",
    )
    token: str | None = None
    client_id: str | None = None
    notify_hook: str | None = Field(default=None, max_length=2000)
    state: str | None = Field(default=None, max_length=255)


class DescribeLinkBody(BaseModel):
    link: str = Field(min_length=8, max_length=2000)
    token: str | None = None
    bot: Bot = Bot.MJ


def _ctx() -> Context:
    return Context.current()


def _headers() -> dict[str, str]:
    return dict(router.current_event.headers or {})


# -- imagine -----------------------------------------------------------------------------------------------------


def _imagine(body: ImagineBody) -> dict[str, Any]:
    ctx = _ctx()
    token = require_usable_token(ctx, _headers(), token_of(router.current_event, body.token))
    job = operations.imagine(
        ctx,
        token,
        prompt=body.prompt,
        mode=body.mode,
        bot=body.bot,
        notify_hook=body.notify_hook,
        state=body.state,
        auto_upscale=body.upscale,
    )
    return views.job_view(job)


@router.get("/midjourney/imagine", tags=TAG, summary="Submit a prompt")
def imagine_get(
    prompt: Annotated[str, Query(min_length=1, description="The prompt, with Midjourney parameters")],
    token: TokenQ = None,
    mode: Annotated[Mode | None, Query(description="fast, relax or turbo; omitted: any account")] = None,
    bot: Annotated[Bot, Query()] = Bot.MJ,
    upscale: Annotated[bool, Query(description="Press U1 automatically when the grid is ready")] = False,
) -> dict[str, Any]:
    return _imagine(ImagineBody(prompt=prompt, token=token, mode=mode, bot=bot, upscale=upscale))


@router.post("/midjourney/imagine", tags=TAG, summary="Submit a prompt (JSON)")
def imagine_post(body: Annotated[ImagineBody, Body()]) -> dict[str, Any]:
    return _imagine(body)


# -- job, progress, descjob, history ------------------------------------------------------------------------------


@router.get("/midjourney/job", tags=TAG, summary="A job and every image of its thread")
def job(id: IdQ, token: TokenQ = None) -> dict[str, Any]:
    ctx = _ctx()
    found, children = operations.job_thread(ctx, id, reader(ctx, _headers(), token))
    return views.job_view(found, children)


@router.get("/midjourney/progress", tags=TAG, summary="Progress percentage and preview image")
def progress(id: IdQ, token: TokenQ = None) -> dict[str, Any]:
    ctx = _ctx()
    return views.progress_view(operations.owned_job(ctx, id, reader(ctx, _headers(), token)))


@router.get("/midjourney/descjob", tags=TAG, summary="Result of a describe job")
def descjob(id: IdQ, token: TokenQ = None) -> dict[str, Any]:
    ctx = _ctx()
    return views.describe_view(operations.owned_job(ctx, id, reader(ctx, _headers(), token)))


@router.get("/midjourney/history", tags=TAG, summary="The caller's jobs, newest first")
def history(
    token: TokenQ = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=100, description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    ctx = _ctx()
    owner = require_token(ctx, _headers(), token)
    page = history_page(ctx, owner, limit=limit, cursor=cursor)
    return {"data": [_history_entry(j) for j in page.jobs], "next_cursor": page.next_cursor}


def _history_entry(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "kind": job.kind.value,
        "status": job.status.value,
        "prompt": job.prompt,
        "images_url": [i.url for i in job.images],
        "created_at": job.created_at,
    }


# -- action --------------------------------------------------------------------------------------------------------


def _action(body: ActionBody) -> dict[str, Any]:
    ctx = _ctx()
    token = require_usable_token(ctx, _headers(), token_of(router.current_event, body.token))
    if body.job:
        parent = operations.owned_job(ctx, body.job, token)
    elif body.image:
        parent = operations.job_for_message(ctx, body.image, token)
    else:
        raise bad_request("image_required", "Name the image ('image', a message id) or the job ('job').")
    made = buttons.press(
        ctx,
        token,
        parent=parent,
        action=body.action,
        prompt=body.prompt,
        mask=body.mask,
        notify_hook=body.notify_hook,
        state=body.state,
    )
    refreshed = ctx.jobs.get(parent.id) or parent
    view = views.job_view(refreshed, operations.children(ctx, refreshed))
    view["action_job_id"] = made[0].id
    view["action_job"] = views.job_view(made[0])
    view["action_job_ids"] = [job.id for job in made]
    return view


@router.get("/midjourney/action", tags=TAG, summary="Press a button (U1-U4, V1-V4, reroll, zoom, pan...)")
def action_get(
    action: Annotated[str, Query(min_length=1, max_length=200)],
    image: Annotated[str | None, Query(max_length=32)] = None,
    job: Annotated[str | None, Query(max_length=64)] = None,
    prompt: Annotated[str | None, Query(max_length=6000, description="Prompt for the form it opens")] = None,
    mask: Annotated[str | None, Query(max_length=12_000_000, description="Vary (Region) mask (PNG, base64)")] = None,
    token: TokenQ = None,
    client_id: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    return _action(
        ActionBody(action=action, image=image, job=job, prompt=prompt, mask=mask, token=token, client_id=client_id)
    )


@router.post("/midjourney/action", tags=TAG, summary="Press a button (JSON)")
def action_post(body: Annotated[ActionBody, Body()]) -> dict[str, Any]:
    return _action(body)


# -- describe ------------------------------------------------------------------------------------------------------


@router.post("/midjourney/describe", tags=TAG, summary="Describe an uploaded image (multipart field 'image')")
def describe_upload(
    image: Annotated[UploadFile, File(description="PNG, JPEG, WebP or GIF")],
    token: Annotated[str | None, Form()] = None,
    bot: Annotated[Bot, Form()] = Bot.MJ,
) -> dict[str, Any]:
    ctx = _ctx()
    owner = require_usable_token(ctx, _headers(), token_of(router.current_event, token))
    job = operations.describe(ctx, owner, image=image.content, filename=image.filename, bot=bot)
    return views.describe_view(job)


def _describe_link(body: DescribeLinkBody) -> dict[str, Any]:
    ctx = _ctx()
    owner = require_usable_token(ctx, _headers(), token_of(router.current_event, body.token))
    return views.describe_view(operations.describe(ctx, owner, link=body.link, bot=body.bot))


@router.get("/midjourney/describe_link", tags=TAG, summary="Describe an image by URL")
def describe_link_get(
    link: Annotated[str, Query(min_length=8, max_length=2000, description="http(s) URL of the image")],
    token: TokenQ = None,
    bot: Annotated[Bot, Query()] = Bot.MJ,
) -> dict[str, Any]:
    return _describe_link(DescribeLinkBody(link=link, token=token, bot=bot))


@router.post("/midjourney/describe_link", tags=TAG, summary="Describe an image by URL (JSON)")
def describe_link(body: Annotated[DescribeLinkBody, Body()]) -> dict[str, Any]:
    return _describe_link(body)


# -- tokens, switch, devices, queue ----------------------------------------------------------------------------------


@router.get("/midjourney/create_token", tags=TAG, security=ADMIN_ONLY, summary="Mint an API token (admin key required)")
def create_token_route(
    count: Annotated[int, Query(ge=1, le=1_000_000, description="Number of uses")],
    days: Annotated[float | None, Query(gt=0, le=3650, description="Validity in days")] = None,
    day: Annotated[float | None, Query(gt=0, le=3650, description="Alias of days (original API)")] = None,
    label: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    ctx = _ctx()
    require_admin(ctx, _headers())
    clear, token = tokens.mint(ctx, count=count, days=days or day, label=label)
    return {"token": clear, "count": token.remaining, "expires_at": token.valid_until, "label": token.label}


@router.get(
    "/midjourney/switch",
    tags=TAG,
    security=ADMIN_ONLY,
    summary="Switch an account to fast/relax/turbo, or read its /info",
)
def switch(
    type: Annotated[str, Query(description="fast, relax, turbo, info, settings, or remix (toggles Remix mode)")],
    client_id: Annotated[str | None, Query(description="Channel id of the account")] = None,
    account: Annotated[str | None, Query(description="Account id (alternative to client_id)")] = None,
    bot: Annotated[Bot | None, Query(description="Which bot to tell (settings are per bot); default the first")] = None,
) -> dict[str, Any]:
    ctx = _ctx()
    require_admin(ctx, _headers())
    done = accounts.switch(ctx, command=type, account_id=account, channel_id=client_id, bot=bot)
    return {
        "code": 200 if done.status.value == "succeeded" else 202,
        "id": done.id,
        "status": done.status.value,
        "result": done.info or None,
        "error": done.error.model_dump() if done.error else None,
    }


@router.get("/midjourney/get_devices", tags=TAG, summary="Accounts with mode, health, running and queued counts")
def get_devices(token: TokenQ = None) -> list[dict[str, Any]]:
    """Every account's mode, status and load; Discord ids, subscription details and health reasons for the admin
    only."""
    ctx = _ctx()
    admin = is_admin(ctx, _headers())
    if not admin:
        require_token(ctx, _headers(), token)
    entries = [views.device_view(d.account, d.queued) for d in accounts.devices(ctx)]
    return entries if admin else [views.client_device_view(e) for e in entries]


@router.get("/midjourney/get_queue", tags=TAG, summary="Jobs waiting for a free account")
def get_queue(token: TokenQ = None) -> dict[str, Any]:
    ctx = _ctx()
    if not is_admin(ctx, _headers()):
        require_token(ctx, _headers(), token)
    depths = queue.waiting(ctx)
    return {"status": 200, "data": sum(depths.values()), "queues": depths}
