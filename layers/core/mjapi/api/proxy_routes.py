"""The midjourney-proxy API (``/mj/*``, docs/MIDJOURNEY_PROXY_API.md) over the same service layer and the same jobs as
``/midjourney/*``: the gateways and chat UIs that speak it (new-api, chatgpt-web-midjourney-proxy...) work unchanged
with an mjapi token as their secret.

Submissions answer HTTP 200 with a SubmitResultVO whose ``code`` carries the outcome, bad bodies included (code 4);
only a missing or wrong secret is an HTTP error (401). Every route is also served under the mode prefixes downstream
gateways use: ``/mj-fast/mj/...``, ``/mj-relax/mj/...``, ``/mj-turbo/mj/...`` and ``/fast|relax|turbo/mj/...`` ask for
an account in that mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from mjapi.api.auth import is_admin, proxy_secret, require_proxy_token, usable
from mjapi.api.proxy_views import ProxyAccount, ProxyTask, SubmitResult, account_model, task_model, task_status
from mjapi.models import ApiToken, Job, JobStatus, Mode
from mjapi.service import accounts as pool
from mjapi.service import proxy
from mjapi.service.context import Context
from mjapi.service.errors import ApiError
from mjapi.service.proxy import Placement

router = Router()  # type: ignore[no-untyped-call]
TAG = ["midjourney-proxy (/mj)"]

#: Path prefix -> the account mode it asks for. One definition per route, registered under each prefix.
PREFIXES: dict[str, Mode | None] = {
    "/mj": None,
    "/mj-fast/mj": Mode.FAST,
    "/mj-relax/mj": Mode.RELAX,
    "/mj-turbo/mj": Mode.TURBO,
    "/fast/mj": Mode.FAST,
    "/relax/mj": Mode.RELAX,
    "/turbo/mj": Mode.TURBO,
}

# -- codes (docs/MIDJOURNEY_PROXY_API.md §4) ------------------------------------------------------------------------

SUCCESS = 1
NOT_FOUND = 3  # only when the parent task does not exist: gateways disable the channel on 3
VALIDATION_ERROR = 4
FAILURE = 9
EXISTED = 21  # waiting for the form (MODAL)
IN_QUEUE = 22
QUEUE_REJECTED = 23
BANNED_PROMPT = 24  # a word of MJAPI_BANNED_WORDS; what only the bot bans fails the task later (failReason)


def _coerce_id(value: Any) -> Any:
    """Task ids are strings, but a client that parsed one as a number still means it."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


TaskId = Annotated[str, BeforeValidator(_coerce_id), Field(min_length=1, max_length=64, description="A task id")]
DataUrl = Annotated[str, Field(min_length=1, max_length=16_000_000)]
BotTypeName = Literal["MID_JOURNEY", "NIJI_JOURNEY", "mj", "niji"]
State = Annotated[str | None, Field(default=None, max_length=255, description="Echoed back in the task's state")]
NotifyHook = Annotated[
    str | None, Field(default=None, max_length=2000, description="URL that receives the task JSON on every change")
]


class ProxyRequest(BaseModel):
    """A request body that keeps its validation problem instead of raising, so the route can answer it the
    midjourney-proxy way (HTTP 200, code 4) rather than as an HTTP 400."""

    model_config = ConfigDict(extra="ignore")
    _problem: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_problem(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            blank = cls.model_construct()
            blank._problem = _describe(exc)
            return blank

    @property
    def problem(self) -> str | None:
        return self._problem


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))


class AccountFilter(BaseModel):
    model_config = ConfigDict(extra="ignore")

    instanceId: str | None = Field(default=None, max_length=100, description="Run on this account (its id)")
    modes: list[Literal["RELAX", "FAST", "TURBO"]] | None = Field(
        default=None, max_length=3, description="Accepted modes, in order of preference"
    )
    remix: bool | None = Field(default=None, description="Accepted, not used for choosing an account")
    remark: str | None = Field(default=None, max_length=200, description="Accepted, not used")


class _Submit(ProxyRequest):
    state: State = None
    notifyHook: NotifyHook = None


class _Placed(_Submit):
    botType: BotTypeName | None = Field(default=None, description="MID_JOURNEY (default) or NIJI_JOURNEY")
    accountFilter: AccountFilter | None = None


class ImagineRequest(_Placed):
    prompt: str = Field(min_length=1, max_length=8000)
    base64Array: list[DataUrl] | None = Field(
        default=None, max_length=5, description="Image prompts as data URLs; their CDN URLs lead the prompt"
    )
    base64: DataUrl | None = Field(default=None, description="Deprecated single image prompt (OSS)")


class ActionRequest(_Submit):
    taskId: TaskId
    customId: str = Field(min_length=1, max_length=400, description="customId of one of the task's buttons")
    enableRemix: bool = Field(default=False, description="Open the remix form first (code 21, then /submit/modal)")


class ModalRequest(ProxyRequest):
    taskId: TaskId = Field(description="The id /submit/action answered with code 21")
    prompt: str | None = Field(default=None, max_length=8000, description="Default: the parent task's prompt")
    maskBase64: DataUrl | None = Field(
        default=None, description="Vary (Region): a PNG data URL, black background, the area to repaint white"
    )


class DescribeRequest(_Placed):
    base64: DataUrl | None = Field(default=None, description="The image as a data URL")
    link: str | None = Field(default=None, max_length=2000, description="Or its http(s) URL")


class BlendRequest(_Placed):
    base64Array: list[DataUrl] = Field(min_length=2, max_length=5, description="2-5 images as data URLs")
    dimensions: Literal["PORTRAIT", "SQUARE", "LANDSCAPE"] = Field(
        default="SQUARE", description="PORTRAIT 2:3, SQUARE 1:1, LANDSCAPE 3:2"
    )


class ShortenRequest(_Placed):
    prompt: str = Field(min_length=1, max_length=8000)


class ChangeRequest(_Submit):
    taskId: TaskId
    action: Literal["UPSCALE", "VARIATION", "REROLL"]
    index: int | None = Field(default=None, ge=1, le=4, description="1-4; required for UPSCALE and VARIATION")


class SimpleChangeRequest(_Submit):
    content: str = Field(min_length=3, max_length=100, description="'<taskId> U1..U4', '<taskId> V1..V4' or R")


class UploadRequest(ProxyRequest):
    base64Array: list[DataUrl] = Field(min_length=1, max_length=10, description="Images as data URLs")
    accountFilter: AccountFilter | None = None


class IdsRequest(ProxyRequest):
    ids: list[TaskId] | None = Field(default=None, max_length=1000, description="Task ids; unknown ones are left out")


class CancelRequest(ProxyRequest):
    """Clients may send an empty object."""


# -- plumbing --------------------------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def _route(method: str, path: str, summary: str, description: str | None = None) -> Callable[[F], F]:
    """Register one handler under ``/mj`` and every mode prefix (only ``/mj`` is listed in OpenAPI)."""

    def register(func: F) -> F:
        for prefix in PREFIXES:
            router.route(
                f"{prefix}{path}",
                method,
                tags=TAG,
                summary=summary,
                description=description,
                include_in_schema=prefix == "/mj",
            )(func)
        return func

    return register


def _ctx() -> Context:
    return Context.current()


def _headers() -> dict[str, str]:
    return dict(router.current_event.headers or {})


def _caller(ctx: Context) -> ApiToken:
    return require_proxy_token(ctx, _headers())


def _route_mode() -> Mode | None:
    """The mode the path prefix asks for (``/mj-relax/mj/...`` -> relax)."""
    first = (router.current_event.path or "").lstrip("/").split("/", 1)[0]
    return PREFIXES.get(f"/{first}/mj") if first != "mj" else None


def _placement(ctx: Context, body: _Placed) -> Placement:
    bot = proxy.bot_type(body.botType)
    found = body.accountFilter or AccountFilter()
    modes = [Mode(m.lower()) for m in found.modes or ()]
    return proxy.placement(ctx, bot=bot, mode=_route_mode(), modes=modes, instance_id=found.instanceId)


def _result(code: int, description: str, result: str | list[str] | None = None, **properties: Any) -> SubmitResult:
    return SubmitResult(
        code=code,
        description=description,
        result=result,
        properties={k: v for k, v in properties.items() if v is not None},
    )


def _error_result(exc: ApiError) -> SubmitResult:
    """Our errors as codes: a missing parent task 3; "try again later" (a full queue, the token's fair share or rate
    used up: our 429s) 23; a system failure 9; every other 4xx 4."""
    if isinstance(exc, proxy.ParentNotFound):
        return _result(NOT_FOUND, exc.message)
    if exc.status == 429:
        return _result(QUEUE_REJECTED, exc.message, reason=exc.code)
    if exc.code == "banned_prompt":
        return _result(BANNED_PROMPT, exc.message, bannedWord=exc.extra.get("banned_word"))
    if exc.status >= 500:
        return _result(FAILURE, exc.message)
    return _result(VALIDATION_ERROR, exc.message, reason=exc.code)


def _submitted(ctx: Context, job: Job, parent: Job | None = None) -> SubmitResult:
    """What a new (or continued) task answers: 1 submitted, 22 queued, 21 waiting for its form, 9 refused by
    Discord at once (the task exists and says why)."""
    status = task_status(job)
    where = {"discordInstanceId": job.account_id, "discordChannelId": job.channel_id}
    if job.status == JobStatus.MODAL:
        image = parent.images[0].url if parent and parent.images else None
        return _result(
            EXISTED,
            "Waiting for window confirm",
            job.id,
            finalPrompt=job.prompt,
            remix=True,
            status=status.value,
            imageUrl=image,
            **where,
        )
    if job.status == JobStatus.QUEUED:
        ahead = proxy.queue_ahead(ctx, job)
        return _result(IN_QUEUE, f"In queue, {ahead} tasks ahead", job.id, numberOfQueues=ahead, **where)
    if job.status == JobStatus.FAILED:
        reason = job.error.message if job.error else "The task could not be submitted."
        return _result(FAILURE, reason, job.id, **where)
    return _result(SUCCESS, "Submitted", job.id, **where)


def _submit(body: ProxyRequest, run: Callable[[Context, ApiToken], SubmitResult]) -> SubmitResult:
    """Authenticate (401 stays an HTTP 401), check the body and run; every other error becomes a code."""
    ctx = _ctx()
    token = _caller(ctx)
    if body.problem:
        return _result(VALIDATION_ERROR, body.problem)
    try:
        return run(ctx, usable(ctx, token))
    except ApiError as exc:
        if exc.status == 401:
            raise
        return _error_result(exc)


# -- submit ----------------------------------------------------------------------------------------------------------


@_route(
    "POST",
    "/submit/imagine",
    "Imagine a prompt",
    "Image prompts in `base64Array` are stored on our CDN and their URLs lead the prompt. `accountFilter.modes` and "
    "`accountFilter.instanceId` (an account id) choose the account; a mode prefix of the path wins over `modes`.",
)
def submit_imagine(body: Annotated[ImagineRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, token: ApiToken) -> SubmitResult:
        texts = [*(body.base64Array or []), *([body.base64] if body.base64 else [])]
        job = proxy.imagine(
            ctx,
            token,
            prompt=body.prompt,
            images=proxy.decode_uploads(ctx, texts),
            bot=proxy.bot_type(body.botType),
            place=_placement(ctx, body),
            notify_hook=body.notifyHook,
            state=body.state,
        )
        return _submitted(ctx, job)

    return _submit(body, run)


@_route(
    "POST",
    "/submit/action",
    "Press a button of a task",
    "Code 21 means the button opens a form (Custom Zoom, Vary Region, a described or shortened prompt; variation, "
    "reroll and pan with Remix on or `enableRemix`): the task waits as MODAL until /mj/submit/modal.",
)
def submit_action(body: Annotated[ActionRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, token: ApiToken) -> SubmitResult:
        parent = proxy.parent_task(ctx, body.taskId, token)
        job = proxy.action(
            ctx,
            token,
            parent=parent,
            custom_id=body.customId,
            enable_remix=body.enableRemix,
            notify_hook=body.notifyHook,
            state=body.state,
        )
        return _submitted(ctx, job, parent)

    return _submit(body, run)


@_route(
    "POST",
    "/submit/modal",
    "Fill in the form of a MODAL task and submit it (same task id)",
    "`prompt` defaults to the parent's prompt; Custom Zoom needs `--zoom` (1-2) in it; Vary (Region) needs "
    "`maskBase64`.",
)
def submit_modal(body: Annotated[ModalRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, token: ApiToken) -> SubmitResult:
        task = proxy.parent_task(ctx, body.taskId, token)
        job = proxy.submit_modal(ctx, token, task=task, prompt=body.prompt, mask=body.maskBase64)
        return _submitted(ctx, job)

    return _submit(body, run)


@_route("POST", "/submit/describe", "Describe an image (data URL in `base64`, or `link`)")
def submit_describe(body: Annotated[DescribeRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, token: ApiToken) -> SubmitResult:
        image = proxy.decode_uploads(ctx, [body.base64])[0] if body.base64 else None
        job = proxy.describe(
            ctx,
            token,
            image=image,
            link=body.link,
            bot=proxy.bot_type(body.botType),
            place=_placement(ctx, body),
            notify_hook=body.notifyHook,
            state=body.state,
        )
        return _submitted(ctx, job)

    return _submit(body, run)


@_route("POST", "/submit/blend", "Blend 2-5 images")
def submit_blend(body: Annotated[BlendRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, token: ApiToken) -> SubmitResult:
        job = proxy.blend(
            ctx,
            token,
            images=proxy.decode_uploads(ctx, body.base64Array),
            dimensions=body.dimensions,
            bot=proxy.bot_type(body.botType),
            place=_placement(ctx, body),
            notify_hook=body.notifyHook,
            state=body.state,
        )
        return _submitted(ctx, job)

    return _submit(body, run)


@_route("POST", "/submit/shorten", "Shorten a prompt (the prompts are in properties.finalPrompt)")
def submit_shorten(body: Annotated[ShortenRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, token: ApiToken) -> SubmitResult:
        job = proxy.shorten(
            ctx,
            token,
            prompt=body.prompt,
            bot=proxy.bot_type(body.botType),
            place=_placement(ctx, body),
            notify_hook=body.notifyHook,
            state=body.state,
        )
        return _submitted(ctx, job)

    return _submit(body, run)


def _change(ctx: Context, token: ApiToken, task_id: str, change: str, index: int | None, body: _Submit) -> SubmitResult:
    parent = proxy.parent_task(ctx, task_id, token)
    job = proxy.change(
        ctx,
        token,
        parent=parent,
        change_action=change,
        index=index,
        proxy_action=task_model(parent).action,
        notify_hook=body.notifyHook,
        state=body.state,
    )
    return _submitted(ctx, job, parent)


@_route("POST", "/submit/change", "U1-U4, V1-V4 or reroll on a finished grid")
def submit_change(body: Annotated[ChangeRequest, Body()]) -> SubmitResult:
    return _submit(body, lambda ctx, token: _change(ctx, token, body.taskId, body.action, body.index, body))


@_route("POST", "/submit/simple-change", "The same as one line: '<taskId> U1'")
def submit_simple_change(body: Annotated[SimpleChangeRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, token: ApiToken) -> SubmitResult:
        task_id, change, index = proxy.parse_simple_change(body.content)
        return _change(ctx, token, task_id, change, index, body)

    return _submit(body, run)


@_route("POST", "/submit/upload-discord-images", "Store images on our CDN; `result` is their URLs")
def submit_upload(body: Annotated[UploadRequest, Body()]) -> SubmitResult:
    def run(ctx: Context, _token: ApiToken) -> SubmitResult:
        urls = proxy.store_uploads(proxy.decode_uploads(ctx, body.base64Array))
        return _result(SUCCESS, "Uploaded", urls)

    return _submit(body, run)


# -- tasks -----------------------------------------------------------------------------------------------------------


@_route("GET", "/task/<task_id>/fetch", "A task (null when there is no such task of yours)")
def task_fetch(task_id: str) -> ProxyTask | None:
    ctx = _ctx()
    job = proxy.own_task(ctx, task_id, _caller(ctx))
    return task_model(job) if job else None


def _by_ids(body: IdsRequest) -> list[ProxyTask]:
    ctx = _ctx()
    owner = _caller(ctx)
    if body.problem:
        raise ApiError(400, "invalid_request", body.problem)
    return [task_model(job) for job in proxy.tasks_by_ids(ctx, body.ids or [], owner)]


@_route("POST", "/task/list-by-condition", "Tasks by id (the gateways' poll); unknown ids are left out")
def task_list_by_condition(body: Annotated[IdsRequest, Body()]) -> list[ProxyTask]:
    return _by_ids(body)


@_route("POST", "/task/list-by-ids", "Tasks by id (TRUEAI's name for list-by-condition)")
def task_list_by_ids(body: Annotated[IdsRequest, Body()]) -> list[ProxyTask]:
    return _by_ids(body)


@_route("GET", "/task/list", f"Your latest {proxy.MAX_LISTED_TASKS} tasks, newest first")
def task_list() -> list[ProxyTask]:
    ctx = _ctx()
    return [task_model(job) for job in proxy.recent_tasks(ctx, _caller(ctx))]


@_route("GET", "/task/queue", "Your tasks waiting for a free account, oldest first")
def task_queue() -> list[ProxyTask]:
    ctx = _ctx()
    return [task_model(job) for job in proxy.queued_tasks(ctx, _caller(ctx))]


@_route(
    "GET",
    "/task/<task_id>/image-seed",
    "The seed of a finished task (`result`, a string)",
    "Asked from the bot with a ✉️ reaction the first time; code 9 if the bot has not answered within a few seconds.",
)
def task_image_seed(task_id: str) -> SubmitResult:
    ctx = _ctx()
    owner = _caller(ctx)
    job = proxy.own_task(ctx, task_id, owner)
    if job is None:
        return _result(VALIDATION_ERROR, "No such task.")
    try:
        value = proxy.seed(ctx, job)
    except ApiError as exc:
        return _error_result(exc)
    if value is None:
        return _result(FAILURE, "The bot has not sent the seed yet; ask again in a moment.", None)
    return _result(SUCCESS, "Success", value)


@_route(
    "POST",
    "/task/<task_id>/cancel",
    "Cancel a task",
    "A queued or MODAL task ends at once (a queued one is refunded); a running one is stopped with Midjourney's "
    "Cancel Job (code 1 once cancelled, 22 while still stopping).",
)
def task_cancel(task_id: str, body: Annotated[CancelRequest | None, Body()] = None) -> SubmitResult:
    ctx = _ctx()
    owner = _caller(ctx)
    job = proxy.own_task(ctx, task_id, owner)
    if job is None:
        return _result(VALIDATION_ERROR, "No such task.")
    try:
        done = proxy.cancel(ctx, job)
    except ApiError as exc:
        return _error_result(exc)
    status = task_status(done).value
    if done.status == JobStatus.CANCELLED:
        return _result(SUCCESS, "Cancelled", done.id, status=status)
    if done.is_terminal:
        return _result(VALIDATION_ERROR, f"The task ended {status} instead.", done.id, status=status)
    return _result(IN_QUEUE, "Cancelling", done.id, status=status)


# -- accounts (operators) ------------------------------------------------------------------------------------------


def _admin_ctx() -> Context:
    """OSS guards ``/mj/account/**`` with its one ``mj-api-secret``; here that is the admin key (in that header, or
    ``x-admin-key``, or ``Authorization``): API tokens see no accounts."""
    ctx = _ctx()
    headers = _headers()
    if not (is_admin(ctx, headers) or ctx.secrets.is_admin(proxy_secret(headers))):
        raise ApiError(401, "admin_required", "The account routes need the admin key (header 'mj-api-secret').")
    return ctx


def _accounts() -> list[ProxyAccount]:
    ctx = _admin_ctx()
    timeout = ctx.settings.job_timeout_seconds
    return [account_model(d.account, d.queued, timeout_seconds=timeout) for d in pool.devices(ctx)]


@_route("GET", "/account/list", "Every Discord account of the pool (admin key; never its Discord token)")
def account_list() -> list[ProxyAccount]:
    return _accounts()


@_route("POST", "/account/list", "Every Discord account of the pool (admin key; never its Discord token)")
def account_list_post() -> list[ProxyAccount]:
    return _accounts()


@_route("GET", "/account/<account_id>/fetch", "One Discord account (admin key; null when there is no such account)")
def account_fetch(account_id: str) -> ProxyAccount | None:
    return next((a for a in _accounts() if a.id == account_id), None)
