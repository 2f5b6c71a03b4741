"""Blend, shorten, show, seed and cancel under /midjourney/, in the original API's style: GET with query parameters,
POST with JSON (blend: multipart or JSON); the token as ``?token=``, in the body, or as a header."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from mjapi.api import views
from mjapi.api.auth import is_admin, reader, require_token, require_usable_token, token_of
from mjapi.models import ApiToken, Bot, Job, Mode
from mjapi.service import commands, operations
from mjapi.service.commands import BlendImage
from mjapi.service.context import Context
from mjapi.service.errors import bad_request

router = Router()  # type: ignore[no-untyped-call]
TAG = ["midjourney (original API)"]

TokenQ = Annotated[str | None, Query(description="API token (or send it as a Bearer header)")]
IdQ = Annotated[str, Query(min_length=1, max_length=64, description="Job id")]
BlendFile = Annotated[UploadFile | None, File(description="PNG, JPEG, WebP or GIF")]
JobHash = Annotated[str, Field(min_length=36, max_length=36, description="Midjourney's job id (a UUID)")]


class ShortenBody(BaseModel):
    prompt: str = Field(min_length=1, max_length=6000)
    token: str | None = None
    bot: Bot = Bot.MJ
    notify_hook: str | None = Field(default=None, max_length=2000)
    state: str | None = Field(default=None, max_length=255)


class JobRefBody(BaseModel):
    id: str = Field(min_length=1, max_length=64, description="Job id")
    token: str | None = None


class ShowBody(BaseModel):
    job_hash: JobHash
    account: str | None = Field(default=None, max_length=100, description="Account id (default: any usable one)")
    bot: Bot = Bot.MJ
    token: str | None = None


def _ctx() -> Context:
    return Context.current()


def _headers() -> dict[str, str]:
    return dict(router.current_event.headers or {})


_SEED_RESPONSES: dict[int, Any] = {
    200: {"description": "`{id, seed}`"},
    202: {"description": "`{id, seed: null}`: the bot has not answered yet; ask again"},
}
_CANCEL_RESPONSES: dict[int, Any] = {
    200: {"description": "The job, cancelled (or finished otherwise meanwhile)"},
    202: {"description": "The job, still stopping; read it again with /midjourney/job"},
}


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


# -- blend -----------------------------------------------------------------------------------------------------------


@router.post(
    "/midjourney/blend",
    tags=TAG,
    summary="Blend 2-5 images (multipart image1..image5 or images; or JSON base64Array)",
    description=(
        "Multipart: files `image1`..`image5` (or the field `images` repeated) and `dimensions`. "
        "JSON: `base64Array` (2-5 data URLs or base64 strings) and `dimensions`. `dimensions` is portrait (2:3), "
        "square (1:1, the default) or landscape (3:2). Charged one use; the result is a grid with buttons."
    ),
)
def blend(
    image1: BlendFile = None,
    image2: BlendFile = None,
    image3: BlendFile = None,
    image4: BlendFile = None,
    image5: BlendFile = None,
    images: Annotated[list[UploadFile] | None, File(description="The images, as one repeated field")] = None,
    base64Array: Annotated[  # the original API's field name
        list[Annotated[str, Field(max_length=16_000_000)]] | None,
        Form(description="JSON: 2-5 images as data URLs or base64"),
    ] = None,
    dimensions: Annotated[str | None, Form(max_length=16, description="portrait, square or landscape")] = None,
    token: Annotated[str | None, Form()] = None,
    bot: Annotated[Bot, Form()] = Bot.MJ,
    mode: Annotated[Mode | None, Form(description="fast, relax or turbo; omitted: any account")] = None,
    notify_hook: Annotated[str | None, Form(max_length=2000)] = None,
    state: Annotated[str | None, Form(max_length=255)] = None,
) -> dict[str, Any]:
    ctx = _ctx()
    owner = require_usable_token(ctx, _headers(), token_of(router.current_event, token))
    files = [f for f in (image1, image2, image3, image4, image5) if f is not None]
    files += images if isinstance(images, list) else [images] if isinstance(images, UploadFile) else []
    if files and base64Array:
        raise bad_request("conflicting_images", "Send the images either as files or as base64Array, not both.")
    if files:
        inputs = [BlendImage(f.content, f.filename) for f in files]
    else:
        inputs = [BlendImage(commands.decode_image_text(t, n)) for n, t in enumerate(base64Array or [], 1)]
    job = commands.blend(
        ctx, owner, images=inputs, dimensions=dimensions, bot=bot, mode=mode, notify_hook=notify_hook, state=state
    )
    return views.job_view(job)


# -- shorten ---------------------------------------------------------------------------------------------------------


def _shorten(body: ShortenBody) -> dict[str, Any]:
    ctx = _ctx()
    owner = require_usable_token(ctx, _headers(), token_of(router.current_event, body.token))
    job = commands.shorten(ctx, owner, prompt=body.prompt, bot=body.bot, notify_hook=body.notify_hook, state=body.state)
    return views.shorten_view(job)


@router.get("/midjourney/shorten", tags=TAG, summary="Shorten a prompt (five shorter prompts to imagine)")
def shorten_get(
    prompt: Annotated[str, Query(min_length=1, max_length=6000, description="The prompt to shorten")],
    token: TokenQ = None,
    bot: Annotated[Bot, Query()] = Bot.MJ,
) -> dict[str, Any]:
    return _shorten(ShortenBody(prompt=prompt, token=token, bot=bot))


@router.post("/midjourney/shorten", tags=TAG, summary="Shorten a prompt (JSON)")
def shorten_post(body: Annotated[ShortenBody, Body()]) -> dict[str, Any]:
    return _shorten(body)


@router.get("/midjourney/shortenjob", tags=TAG, summary="Result of a shorten job: the prompts and their buttons")
def shortenjob(id: IdQ, token: TokenQ = None) -> dict[str, Any]:
    ctx = _ctx()
    return views.shorten_view(operations.owned_job(ctx, id, reader(ctx, _headers(), token)))


# -- seed ------------------------------------------------------------------------------------------------------------


def _seed(body: JobRefBody) -> Response[str]:
    ctx = _ctx()
    job = operations.owned_job(ctx, body.id, reader(ctx, _headers(), token_of(router.current_event, body.token)))
    found = commands.seed(ctx, job, wait_seconds=ctx.settings.switch_wait_seconds)
    value = found.info.get("seed")
    return _json(200 if value is not None else 202, {"id": found.id, "seed": value})


@router.get(
    "/midjourney/seed",
    tags=TAG,
    summary="The seed of a finished job (asked from the bot with a ✉️ reaction; 202 and null if still coming)",
    responses=_SEED_RESPONSES,
)
def seed_get(id: IdQ, token: TokenQ = None) -> Response[str]:
    return _seed(JobRefBody(id=id, token=token))


@router.post("/midjourney/seed", tags=TAG, summary="The seed of a finished job (JSON)", responses=_SEED_RESPONSES)
def seed_post(body: Annotated[JobRefBody, Body()]) -> Response[str]:
    return _seed(body)


# -- cancel ----------------------------------------------------------------------------------------------------------


def _cancel(body: JobRefBody) -> Response[str]:
    ctx = _ctx()
    job = operations.owned_job(ctx, body.id, reader(ctx, _headers(), token_of(router.current_event, body.token)))
    done = commands.cancel(ctx, job, wait_seconds=ctx.settings.switch_wait_seconds)
    return _json(200 if done.is_terminal else 202, views.job_view(done))


_CANCEL_SUMMARY = "Cancel a job: queued ones at once (refunded), running ones through Midjourney's Cancel Job"


@router.get("/midjourney/cancel", tags=TAG, summary=_CANCEL_SUMMARY, responses=_CANCEL_RESPONSES)
def cancel_get(id: IdQ, token: TokenQ = None) -> Response[str]:
    return _cancel(JobRefBody(id=id, token=token))


@router.post("/midjourney/cancel", tags=TAG, summary=f"{_CANCEL_SUMMARY} (query or JSON)", responses=_CANCEL_RESPONSES)
def cancel_post(
    body: Annotated[JobRefBody | None, Body()] = None,
    id: Annotated[str | None, Query(min_length=1, max_length=64, description="Job id")] = None,
    token: TokenQ = None,
) -> Response[str]:
    if body is None and id is None:
        raise bad_request("id_required", "Name the job with 'id' (query or JSON).")
    return _cancel(body or JobRefBody(id=id or "", token=token))


# -- show ------------------------------------------------------------------------------------------------------------


def _show(body: ShowBody) -> dict[str, Any]:
    ctx = _ctx()
    owner: ApiToken | None = None
    if not is_admin(ctx, _headers()):
        owner = require_token(ctx, _headers(), token_of(router.current_event, body.token))
    job: Job = commands.show(ctx, owner, job_hash=body.job_hash, account_id=body.account, bot=body.bot)
    return views.job_view(job)


@router.get(
    "/midjourney/show",
    tags=TAG,
    summary="Adopt a finished Midjourney job by its uuid (/show): its image and buttons become a job here; free",
)
def show_get(
    job_hash: Annotated[str, Query(min_length=36, max_length=36, description="Midjourney's job id (a UUID)")],
    account: Annotated[str | None, Query(max_length=100, description="Account id (default: any usable)")] = None,
    bot: Annotated[Bot, Query()] = Bot.MJ,
    token: TokenQ = None,
) -> dict[str, Any]:
    return _show(ShowBody(job_hash=job_hash, account=account, bot=bot, token=token))


@router.post("/midjourney/show", tags=TAG, summary="Adopt a finished Midjourney job by its uuid (JSON)")
def show_post(body: Annotated[ShowBody, Body()]) -> dict[str, Any]:
    return _show(body)
