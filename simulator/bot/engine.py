"""The bot's machinery: acknowledging interactions, posting and editing messages, modals, account gates and the job
lifecycle.

Discord validates a `POST /interactions` body first (`simulator.interactions`); `Engine.accept` then processes the
accepted interaction in the background: INTERACTION_CREATE, the bot's acknowledgement (INTERACTION_SUCCESS) after a
short delay, then messages, modals or jobs. What each command, button and modal does lives in the handler modules,
reached through `router.Router` (`engine.handlers`); they see the engine as `types.BotServices`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from mjapi.midjourney.actions import MODAL_SPECS, ButtonAction, ModalKind
from mjapi.midjourney.custom_ids import render_custom_id, render_modal_id
from simulator import constants as C
from simulator.bot import ui
from simulator.bot.grammar import Website, grammar
from simulator.bot.router import Router
from simulator.bot.types import BotFaults, Ctx, JobRequest, PendingIframe, PendingModal
from simulator.cdn import Cdn
from simulator.commands import BotApp
from simulator.config import SimConfig
from simulator.gateway import Hub
from simulator.ids import derive_rng, derive_seed, iso_timestamp, random_uuid
from simulator.images import (
    PREVIEW_SIDE,
    VIDEO_KINDS,
    VIDEO_PREVIEW_SIDE,
    ImageSpec,
    ImageStore,
    image_dims,
    placeholder,
    reduce_ratio,
    result_size,
)
from simulator.interactions import OpenModals
from simulator.state import Account, AttachmentRecord, Channel, Job, MessageRecord, Origin
from simulator.world import World

__all__ = ["BotFaults", "Engine"]

JSON = dict[str, Any]
log = logging.getLogger("simulator.bot")

MODE_TEXT = {"fast": "fast", "relax": "relaxed", "turbo": "turbo"}
WEBSITE_TEXT = "(Open on website for full quality)"
SLUG_LENGTH = 51  # a 2026 capture: "a_small_bird_pixel-art_sprite_single_centered_chara" (51 characters)
PRESSED_STYLE = 1  # a pressed job button turns blurple (style 1) in an edit of the clicked message


def numbered(components: list[JSON]) -> list[JSON]:
    """Components with the numeric `id`s newer Discord payloads carry (1, 2, 3... depth first, rows included)."""
    out = copy.deepcopy(components)
    counter = 0
    for row in out:
        counter += 1
        row["id"] = counter
        for child in row.get("components", []):
            counter += 1
            child["id"] = counter
    return out


class Engine:
    def __init__(self, world: World, hub: Hub, cdn: Cdn, images: ImageStore) -> None:
        self.world = world
        self.hub = hub
        self.cdn = cdn
        self.images = images
        self.config: SimConfig = world.config
        self.faults = BotFaults()
        self.modals = OpenModals()  # Discord's record of the modals the bots opened (checked on submit)
        self.iframes: OrderedDict[str, PendingIframe] = OrderedDict()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.discordsays_base = ""
        self.handlers = Router(self)

    # ----- time and tasks --------------------------------------------------------------------------------------
    def real(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.config.speed

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.real(sim_seconds))

    async def job_sleep(self, job: Job, sim_seconds: float) -> bool:
        """Sleep unless the job is cancelled first; True when the full time elapsed."""
        if job.cancel.is_set():
            return False
        loop = asyncio.get_running_loop()
        sleeper: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(self.real(sim_seconds), _wake, sleeper)
        job.sleepers.add(sleeper)
        try:
            return await sleeper
        finally:
            timer.cancel()
            job.sleepers.discard(sleeper)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("bot task failed", exc_info=task.exception())

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(BaseException):
                await task
        self.tasks.clear()

    # ----- processing ------------------------------------------------------------------------------------------
    def accept(self, ctx: Ctx) -> None:
        self.spawn(self._process(ctx))

    async def _process(self, ctx: Ctx) -> None:
        self.hub.dispatch_interaction(
            ctx.account, ctx.session_id, "INTERACTION_CREATE", {"id": ctx.id, "nonce": ctx.nonce}
        )
        if self.faults.offline or self.faults.drop_interactions > 0:
            if not self.faults.offline:
                self.faults.drop_interactions -= 1
            await self.sleep(self.config.interaction_timeout)
            self.hub.dispatch_interaction(
                ctx.account, ctx.session_id, "INTERACTION_FAILURE", {"id": ctx.id, "nonce": ctx.nonce, "reason_code": 2}
            )
            return
        await self.sleep(self.config.interaction_ack_delay)
        try:
            await self.handlers.route(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("interaction %s failed", ctx.name)
            if not ctx.acked:
                self.hub.dispatch_interaction(
                    ctx.account,
                    ctx.session_id,
                    "INTERACTION_FAILURE",
                    {"id": ctx.id, "nonce": ctx.nonce, "reason_code": 1},
                )

    def ack(self, ctx: Ctx) -> None:
        if not ctx.acked:
            ctx.acked = True
            self.hub.dispatch_interaction(
                ctx.account, ctx.session_id, "INTERACTION_SUCCESS", {"id": ctx.id, "nonce": ctx.nonce}
            )

    # ----- messages --------------------------------------------------------------------------------------------
    def audience(self, record: MessageRecord) -> list[str]:
        if record.ephemeral_user is not None:
            return [record.ephemeral_user]
        return list(self.world.channels[record.channel_id].member_ids)

    def outgoing(self, record: MessageRecord) -> JSON:
        data = dict(record.data)
        guild_id = self.world.channels[record.channel_id].guild_id
        if guild_id:
            data["guild_id"] = guild_id
        return data

    def resign(self, data: JSON) -> JSON:
        """A copy of a stored message with freshly signed CDN URLs (Discord signs URLs per fetch)."""
        out = dict(data)
        attachments = []
        for item in data.get("attachments", []):
            record = self.world.attachments.get(str(item.get("id")))
            if record is not None:
                url = self.cdn.url(record)
                item = {**item, "url": url, "proxy_url": url}
            attachments.append(item)
        out["attachments"] = attachments
        embeds = []
        for item in data.get("embeds", []):
            image = item.get("image")
            if isinstance(image, dict) and isinstance(image.get("url"), str):
                fresh = self.cdn.refresh(image["url"])
                if fresh is not None:
                    item = {**item, "image": {**image, "url": fresh, "proxy_url": fresh}}
            embeds.append(item)
        out["embeds"] = embeds
        if isinstance(data.get("referenced_message"), dict):
            out["referenced_message"] = self.resign(data["referenced_message"])
        return out

    def attachment_json(self, record: AttachmentRecord) -> JSON:
        url = self.cdn.url(record)
        data: JSON = {
            "id": record.id,
            "filename": record.filename,
            "size": record.size,
            "url": url,
            "proxy_url": url,
            "content_type": record.content_type,
        }
        if record.width is not None:
            data["width"] = record.width
            data["height"] = record.height
        if record.spec is not None:
            data["placeholder"] = placeholder(record.spec)
            data["placeholder_version"] = 1
        if record.ephemeral:
            data["ephemeral"] = True
        return data

    async def image_attachment(
        self, channel_id: str, spec: ImageSpec, filename: str, *, ephemeral: bool = False
    ) -> AttachmentRecord:
        data = await self.images.get(spec)
        record = AttachmentRecord(
            id=self.world.snowflakes.next(),
            channel_id=channel_id,
            filename=filename,
            content_type=spec.content_type,
            size=len(data),
            width=spec.width,
            height=spec.height,
            spec=spec,
            ephemeral=ephemeral,
        )
        self.world.add_attachment(record)
        return record

    def post(
        self,
        app: BotApp,
        channel: Channel,
        *,
        content: str = "",
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
        attachments: list[AttachmentRecord] | None = None,
        flags: int = 0,
        msg_type: int | None = None,
        ctx: Ctx | None = None,
        origin: Origin | None = None,
        reference: MessageRecord | None = None,
        job: Job | None = None,
        kind: str = "bot",
        ephemeral_user: str | None = None,
        mention: Account | None = None,
    ) -> MessageRecord:
        """Create a bot message, store it and dispatch MESSAGE_CREATE to everyone who can see it."""
        origin = origin or (ctx.origin if ctx else None)
        if ctx is not None:
            self.ack(ctx)
        message_id = self.world.snowflakes.next()
        if msg_type is None:
            if reference is not None:
                msg_type = C.MSG_REPLY
            elif ctx is not None and ctx.type == C.INTERACTION_APPLICATION_COMMAND:
                msg_type = C.MSG_CHAT_INPUT_COMMAND
            else:
                msg_type = C.MSG_DEFAULT
        data: JSON = {
            "id": message_id,
            "type": msg_type,
            "content": content,
            "channel_id": channel.id,
            "author": app.user_json(),
            "attachments": [self.attachment_json(a) for a in attachments or []],
            "embeds": embeds or [],
            "mentions": [mention.user_json()] if mention is not None else [],
            "mention_roles": [],
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
            "timestamp": iso_timestamp(time.time()),
            "edited_timestamp": None,
            "flags": flags,
            "components": numbered(components or []),
            "application_id": app.id,
        }
        if components:
            data["resolved"] = {"users": {}, "members": {}, "channels": {}, "roles": {}}
        nonce = None
        if ctx is not None and ctx.nonce is not None and not ctx.nonce_used:
            ctx.nonce_used = True
            nonce = ctx.nonce
        if origin is not None:
            data["webhook_id"] = app.id
            interaction = origin.interaction_json()
            if interaction is not None:
                data["interaction"] = interaction
            data["interaction_metadata"] = origin.metadata_json()
        if reference is not None:
            data["message_reference"] = {
                "type": 0,
                "channel_id": reference.channel_id,
                "message_id": reference.id,
                **({"guild_id": channel.guild_id} if channel.guild_id else {}),
            }
            referenced = dict(reference.data)
            referenced.pop("referenced_message", None)
            data["referenced_message"] = referenced
        if flags & C.FLAG_EPHEMERAL and ephemeral_user is None:
            ephemeral_user = ctx.account.user_id if ctx else origin.user.user_id if origin else None
        record = MessageRecord(data=data, channel_id=channel.id, ephemeral_user=ephemeral_user, job=job, kind=kind)
        self.world.store_message(record)
        outgoing = self.outgoing(record)
        if nonce is not None:
            # The nonce is echoed on MESSAGE_CREATE only; Discord does not store it (updates and fetches lack it).
            outgoing["nonce"] = nonce
        self.hub.dispatch(self.audience(record), "MESSAGE_CREATE", outgoing)
        return record

    def update(self, record: MessageRecord, **fields: Any) -> None:
        if record.deleted:
            return
        if "components" in fields:
            fields["components"] = numbered(fields["components"])
        record.data.update(fields)
        record.data["edited_timestamp"] = iso_timestamp(time.time())
        self.hub.dispatch(self.audience(record), "MESSAGE_UPDATE", self.outgoing(record))

    def delete(self, record: MessageRecord) -> None:
        if record.deleted:
            return
        record.deleted = True
        data: JSON = {"id": record.id, "channel_id": record.channel_id}
        guild_id = self.world.channels[record.channel_id].guild_id
        if guild_id:
            data["guild_id"] = guild_id
        self.hub.dispatch(self.audience(record), "MESSAGE_DELETE", data)

    def notice(
        self,
        ctx: Ctx,
        title: str,
        description: str,
        *,
        color: int = C.COLOR_ERROR,
        components: list[JSON] | None = None,
        footer: str | None = None,
        ephemeral: bool = True,
    ) -> MessageRecord:
        return self.post(
            ctx.app,
            ctx.channel,
            embeds=[ui.notice(title, description, color=color, footer=footer)],
            components=components,
            flags=C.FLAG_EPHEMERAL if ephemeral else 0,
            ctx=ctx,
            kind="notice",
        )

    def reply(
        self, ctx: Ctx, content: str, *, ephemeral: bool = True, components: list[JSON] | None = None
    ) -> MessageRecord:
        return self.post(
            ctx.app,
            ctx.channel,
            content=content,
            flags=C.FLAG_EPHEMERAL if ephemeral else 0,
            ctx=ctx,
            components=components,
            kind="reply",
        )

    def thinking(self, ctx: Ctx, *, ephemeral: bool, kind: str = "deferred") -> MessageRecord:
        """A deferred response ("Bot is thinking..."): an empty message with flags 128 (64 too when ephemeral) that
        carries the nonce and the interaction; `fill` later gives it its answer."""
        flags = C.FLAG_LOADING | (C.FLAG_EPHEMERAL if ephemeral else 0)
        return self.post(ctx.app, ctx.channel, flags=flags, ctx=ctx, kind=kind)

    def fill(self, record: MessageRecord, **fields: Any) -> None:
        """Answer a deferred response: a MESSAGE_UPDATE of the same message (never a nonce) with the content, embeds
        or components, and the loading flag cleared (ephemeral stays ephemeral)."""
        self.update(record, flags=int(record.data.get("flags", 0)) & ~C.FLAG_LOADING, **fields)

    def open_modal(
        self,
        ctx: Ctx,
        kind: ModalKind,
        ids: dict[str, str | int | bool],
        *,
        title: str,
        label: str,
        value: str,
        job: Job | None = None,
    ) -> PendingModal:
        """Reply with a modal of `kind` (INTERACTION_MODAL_CREATE to the interaction's session only). Its custom_id is
        the kind's grammar filled with `ids`; its one text input has the id the action table gives the kind."""
        self.ack(ctx)
        custom_id = render_modal_id(kind, **ids)
        input_id = MODAL_SPECS[kind].text_input_id
        assert input_id is not None, f"{kind} modals have no text input"
        modal = PendingModal(
            id=ctx.id,
            custom_id=custom_id,
            account=ctx.account,
            app=ctx.app,
            channel=ctx.channel,
            origin=ctx.origin,
            message=ctx.message,
            job=job,
            inputs=[input_id],
            pressed=ctx.custom_id or None,
        )
        self.modals.add(modal)
        payload = {
            "id": ctx.id,
            "channel_id": ctx.channel.id,
            "custom_id": custom_id,
            "application": ctx.app.modal_application_json(),
            "title": title,
            "components": [ui.text_input(input_id, label, value)],
            "nonce": ctx.nonce,
            "resolved": None,
        }
        if ctx.channel.guild_id:
            payload["guild_id"] = ctx.channel.guild_id
        self.hub.dispatch_interaction(ctx.account, ctx.session_id, "INTERACTION_MODAL_CREATE", payload)
        return modal

    def open_iframe(self, ctx: Ctx, *, kind: str, title: str, job: Job | None, path: str) -> PendingIframe:
        """Reply with an iframe modal (Vary Region editor or captcha)."""
        self.ack(ctx)
        rng = derive_rng(self.config.seed, "iframe", ctx.id)
        token = "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(72)
        )
        iframe = PendingIframe(token, kind, ctx.account, ctx.app, ctx.channel, ctx.origin, job, ctx.message)
        iframe.pressed = ctx.custom_id or None
        self.iframes[token] = iframe
        while len(self.iframes) > 10000:
            self.iframes.popitem(last=False)
        custom_id = render_modal_id(ModalKind.IFRAME, token=token)
        payload = {
            "id": ctx.id,
            "channel_id": ctx.channel.id,
            "custom_id": custom_id,
            "application": ctx.app.modal_application_json(),
            "title": title,
            "iframe_path": path.format(token=token, custom_id=custom_id),
            "modal_size": 2,
            "nonce": ctx.nonce,
        }
        if ctx.channel.guild_id:
            payload["guild_id"] = ctx.channel.guild_id
        self.hub.dispatch_interaction(ctx.account, ctx.session_id, "INTERACTION_IFRAME_MODAL_CREATE", payload)
        return iframe

    # ----- account gates ---------------------------------------------------------------------------------------
    def gate(self, ctx: Ctx, *, jobs: bool = True) -> bool:
        """Send the blocking notice for the account's state, if any; True when the interaction must stop."""
        account = ctx.account
        if account.blocked:
            self.notice(
                ctx,
                C.TITLE_BLOCKED,
                "You have been blocked from accessing Midjourney. If you believe this is a mistake, contact support.",
            )
            return True
        if not jobs:
            return False
        if account.tos_pending:
            self.notice(
                ctx,
                C.TITLE_TOS,
                "Please read and accept the Terms of Service to continue using Midjourney.",
                color=C.COLOR_WARNING,
                components=[
                    ui.row(
                        ui.button(ui.TOS_ACCEPT, "Accept ToS", style=ui.STYLE_SUCCESS),
                        ui.link_button("https://docs.midjourney.com/docs/terms-of-service", "Terms of Service"),
                    )
                ],
            )
            return True
        if account.pending_mod:
            self.notice(
                ctx,
                C.TITLE_PENDING_MOD,
                "A moderator has sent you a message about your recent jobs. "
                "Please read and acknowledge it before you continue.",
                components=[
                    ui.row(ui.button(ui.mod_message_ack_id(account.mj_user_id), "Acknowledge", style=ui.STYLE_SUCCESS))
                ],
            )
            return True
        if account.captcha:
            if account.captcha_variant == "iframe":
                self.open_iframe(
                    ctx, kind="captcha", title=C.TITLE_ACTION_REQUIRED, job=None, path="/captcha/embedded/{token}"
                )
            else:
                self.notice(
                    ctx,
                    C.TITLE_ACTION_NEEDED,
                    "Please verify that you are human to continue using Midjourney.",
                    components=[
                        ui.row(ui.button(ui.captcha_id(account.captcha), "Verify", emoji="🤖", style=ui.STYLE_PRIMARY))
                    ],
                )
            return True
        if not account.subscription_active:
            self.notice(
                ctx,
                C.TITLE_SUBSCRIPTION_REQUIRED,
                "You don't have an active subscription. Use /subscribe to pick a plan and continue creating images.",
                components=[ui.row(ui.link_button("https://www.midjourney.com/account", "Manage Account"))],
            )
            return True
        return False

    # ----- jobs ------------------------------------------------------------------------------------------------
    def job_footer(self, ctx: Ctx, prompt: str) -> str:
        return f"/{(ctx.origin.name or 'imagine').split(' ')[0]} {prompt}"

    def new_job(
        self, ctx_origin: Origin, channel: Channel, app: BotApp, req: JobRequest, mode: str, nonce: str | None
    ) -> Job:
        account = ctx_origin.user
        account.job_counter += 1
        rng = derive_rng(self.config.seed, "job", account.user_id, account.job_counter)
        job_id = random_uuid(rng)
        seed = req.seed if req.seed is not None else rng.randrange(0, 4294967296)
        if req.palette_seed is not None:
            palette_seed = req.palette_seed
        else:
            text = " ".join(sorted(req.words))
            palette_seed = derive_seed(self.config.seed, "palette", text, seed)
        if req.exact_size is not None:
            width, height = req.exact_size
        else:
            width, height = result_size(req.size, req.ar, version=req.version, scale=self.config.image_scale)
        formats = {"grid": grammar(req.version).grid_format, "video": "mp4", "video_grid": "webp"}
        fmt = formats.get(req.image_kind, "png")
        spec = ImageSpec(
            kind=req.image_kind,
            width=width,
            height=height,
            palette_seed=palette_seed,
            tag=rng.getrandbits(32),
            quadrant=req.quadrant,
            zoom=req.zoom,
            pan=req.pan,
            fmt=fmt,
            frames=req.frames,
            motion=req.motion,
        )
        base = {"upsample": 2.0, "upscale": 30.0, "video": 50.0}.get(req.kind, 40.0)
        duration = rng.uniform(base * 0.8, base * 1.25) * req.duration_factor
        start_delay = rng.uniform(1.0, 4.0)
        if mode == "turbo":
            duration *= 0.45
            start_delay = rng.uniform(0.5, 1.5)
        elif mode == "relax":
            duration *= 2.5
            start_delay = rng.uniform(8.0, 30.0)
        if C.MAGIC_SLOW in req.words:
            duration *= 5
        count = rng.randint(4, 6)
        steps = [0] + [max(1, min(99, round(k * 100 / (count + 1)) + rng.randint(-3, 3))) for k in range(1, count + 1)]
        job = Job(
            id=job_id,
            account=account,
            app=app,
            kind=req.kind,
            label=req.label,
            prompt=req.prompt,
            mode=mode,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            origin=ctx_origin,
            nonce=nonce,
            seed=seed,
            ar=req.ar,
            version=req.version,
            palette_seed=palette_seed,
            tag=spec.tag,
            image=spec,
            parent=req.parent,
            parent_message_id=req.parent_message.id if req.parent_message else None,
            index=req.index,
            magic=frozenset(w for w in req.words if w in {C.MAGIC_FAIL, C.MAGIC_FILTER, C.MAGIC_STALL, C.MAGIC_SLOW}),
            start_delay=start_delay,
            duration=duration,
            steps=sorted(set(steps)),
            label_done=req.label_done,
        )
        self.world.add_job(job)
        return job

    def resolve_mode(self, account: Account, override: str | None) -> str:
        return override or account.mode

    async def submit(self, ctx: Ctx, requests: list[JobRequest], *, footer_prompt: str | None = None) -> list[Job]:
        """Gate, check capacity, then start or queue jobs (posting "Job queued" / "Queue full" as needed)."""
        account = ctx.account
        if self.gate(ctx):
            return []
        first = requests[0]
        footer = self.job_footer(ctx, footer_prompt or first.prompt)
        mode = self.resolve_mode(account, first.mode_override)
        if mode == "relax" and not account.relax_allowed:
            self.notice(
                ctx,
                C.TITLE_JOB_ACTION_RESTRICTED,
                "Relax mode is not available on the Basic plan. Use /fast, or upgrade your plan.",
                footer=footer,
            )
            return []
        if mode == "relax" and first.batch:
            self.notice(
                ctx, C.TITLE_JOB_ACTION_RESTRICTED, "You can not submit batch jobs in relax mode.", footer=footer
            )
            return []
        if mode in ("fast", "turbo") and account.fast_remaining_hours <= 0:
            self.notice(
                ctx,
                C.TITLE_CREDITS_EXHAUSTED,
                "You have run out of fast hours. Switch to relax mode with "
                "/relax, or buy more fast hours at https://www.midjourney.com/account",
                footer=footer,
            )
            return []
        if C.MAGIC_DUPLICATE in first.words:
            self.notice(
                ctx,
                C.TITLE_DUPLICATE_IMAGES,
                "This job would create images identical to one of your recent jobs. Please change your prompt.",
                footer=footer,
            )
            return []
        free = max(0, account.concurrency - len(account.running)) + max(0, account.max_queued - len(account.queued))
        if len(requests) > free:
            self.notice(
                ctx,
                C.TITLE_QUEUE_FULL,
                f"You have {len(account.queued)} jobs queued and {len(account.running)} "
                f"running. Please wait for a job to finish before submitting a new one.",
                footer=footer,
            )
            return []
        jobs = [self.new_job(ctx.origin, ctx.channel, ctx.app, req, mode, ctx.nonce) for req in requests]
        pressed = self.pressed_button(ctx)
        if pressed is not None and ctx.message is not None:
            self.press(ctx.message, pressed)
            for job in jobs:
                job.pressed = (ctx.message.id, pressed)
        queued: list[Job] = []
        for job, request in zip(jobs, requests, strict=True):
            if len(account.running) < account.concurrency:
                self.start(job, ctx, request.parent_message)
            else:
                job.status = "queued"
                account.queued.append(job)
                queued.append(job)
        if queued:
            record = self.notice(
                ctx,
                C.TITLE_JOB_QUEUED,
                f"Your job will start as soon as one of your running jobs finishes. You have {len(account.queued)} "
                f"job{'s' if len(account.queued) != 1 else ''} queued.",
                color=C.COLOR_WARNING,
                footer=footer,
            )
            for job in queued:
                job.queued_notice_id = record.id
        return jobs

    @staticmethod
    def pressed_button(ctx: Ctx) -> str | None:
        """The custom_id of the button behind an interaction: the click itself, or what opened its modal/editor."""
        if ctx.type == C.INTERACTION_MESSAGE_COMPONENT:
            return ctx.custom_id or None
        return ctx.modal.pressed if ctx.modal is not None else None

    def press(self, record: MessageRecord | None, custom_id: str | None) -> None:
        """Turn a pressed button blurple (style 1) in an edit of its message, as the bot does after a click; the bot
        may edit the message again later (the job's end repeats it), so clients see several such updates."""
        if record is None or record.deleted or custom_id is None:
            return
        components = copy.deepcopy(record.data.get("components", []))
        for row in components:
            for component in row.get("components", []):
                if component.get("custom_id") == custom_id and component.get("style") == ui.STYLE_SECONDARY:
                    component["style"] = PRESSED_STYLE
        self.update(record, components=components)

    @staticmethod
    def progress_is_ephemeral(job: Job) -> bool:
        """Button jobs of the 2025-26 grammar wait and progress in an ephemeral message of the clicker."""
        return job.parent is not None and job.kind != "upsample" and grammar(job.version).button_jobs_ephemeral

    def content(self, job: Job, status: str, *, done: bool = False) -> str:
        user = f"<@{job.account.user_id}>"
        if job.kind == "upsample":
            return f"**{job.prompt}** - Image #{job.index} {user}"
        label = job.label_done if done else job.label
        if not done and self.progress_is_ephemeral(job):
            label = ""  # imagine-like: the ephemeral progress of a button job names no action
        middle = f" - {label} {user}" if label else f" - {user}"
        website = grammar(job.version).website
        if done and job.kind != "upscale" and website is not Website.NONE:
            link = f"[{WEBSITE_TEXT}](<https://midjourney.com/jobs/{job.id}>)"
            middle += " " + (link if website is Website.LINK else WEBSITE_TEXT)
        return f"**{job.prompt}**{middle} ({status})"

    def mode_text(self, job: Job) -> str:
        text = MODE_TEXT[job.mode]
        return f"{text}, stealth" if job.account.stealth else text

    def start(self, job: Job, ctx: Ctx | None, parent_message: MessageRecord | None) -> None:
        account = job.account
        account.running.append(job)
        job.status = "waiting"
        channel = self.world.channels[job.channel_id]
        if parent_message is None and job.parent_message_id:
            parent_message = self.world.find_message(job.parent_message_id)
        ephemeral = self.progress_is_ephemeral(job)
        cancel = [
            ui.row(
                ui.button(render_custom_id(ButtonAction.CANCEL_JOB, hash=job.id), "Cancel Job", style=ui.STYLE_DANGER)
            )
        ]
        record = self.post(
            job.app,
            channel,
            content=self.content(job, "Waiting to start"),
            components=cancel if ephemeral else None,
            flags=C.FLAG_EPHEMERAL if ephemeral else 0,
            ephemeral_user=account.user_id if ephemeral else None,
            ctx=ctx,
            origin=job.origin,
            reference=parent_message,
            job=job,
            kind="progress",
            mention=account,
        )
        job.progress_message_id = record.id
        self.spawn(self._run(job, record))

    async def _run(self, job: Job, record: MessageRecord) -> None:
        try:
            await self._lifecycle(job, record)
        finally:
            self._finish(job)

    async def _lifecycle(self, job: Job, record: MessageRecord) -> None:
        if not await self.job_sleep(job, job.start_delay):
            self._stopped(job, record)
            return
        job.status = "running"
        job.started_at = time.time()
        step = job.duration / (len(job.steps) + 1)
        real_previews = grammar(job.version).real_previews
        ratio = reduce_ratio(job.image.width, job.image.height)
        if job.image.kind in VIDEO_KINDS:
            preview_w, preview_h = image_dims(*ratio, scale=self.config.image_scale, base=VIDEO_PREVIEW_SIDE)
        elif real_previews:
            preview_w, preview_h = image_dims(*ratio, scale=self.config.image_scale, base=PREVIEW_SIDE)
        else:
            preview_w = max(32, int(job.image.width * self.config.preview_scale))
            preview_h = max(32, int(job.image.height * self.config.preview_scale))
        for number, percent in enumerate(job.steps):
            if not await self.job_sleep(job, step):
                self._stopped(job, record)
                return
            if C.MAGIC_FILTER in job.magic and percent >= 30:
                self._filtered(job, record)
                return
            if C.MAGIC_FAIL in job.magic and percent >= 45:
                self._could_not_complete(job, record)
                return
            if C.MAGIC_STALL in job.magic and percent >= 50:
                await job.cancel.wait()
                self._stopped(job, record)
                return
            job.progress = percent
            attachments: list[JSON] = []
            if percent > 0:  # nothing is drawn yet at 0%, so that update carries no preview
                spec = preview_spec(job.image, preview_w, preview_h, percent)
                name = f"{job.id}_grid_0.webp"
                if job.image.kind in VIDEO_KINDS:  # video jobs stream JPEG step frames (`<uuid>_0_step_<n>.jpeg`)
                    spec, name = replace(spec, fmt="jpeg"), f"{job.id}_0_step_{number}.jpeg"
                preview = await self.image_attachment(job.channel_id, spec, name, ephemeral=not real_previews)
                attachments.append(self.attachment_json(preview))
            if job.cancel.is_set():
                self._stopped(job, record)
                return
            self.update(
                record, content=self.content(job, f"{percent}%) ({self.mode_text(job)}"), attachments=attachments
            )
        if not await self.job_sleep(job, step):
            self._stopped(job, record)
            return
        await self.post_result(job, record)

    async def post_result(self, job: Job, progress: MessageRecord | None, *, ctx: Ctx | None = None) -> MessageRecord:
        channel = self.world.channels[job.channel_id]
        attachment = await self.image_attachment(job.channel_id, job.image, self.filename(job))
        components = self.result_rows(job)
        parent_message = self.world.find_message(job.parent_message_id) if job.parent_message_id else None
        if progress is not None:
            self.delete(progress)
        job.progress = 100
        job.status = "succeeded"
        job.finished_at = time.time()
        job.gpu_seconds = job.duration * (2.0 if job.mode == "turbo" else 1.0)
        result = self.post(
            job.app,
            channel,
            content=self.content(job, self.mode_text(job), done=True),
            attachments=[attachment],
            components=components,
            origin=job.origin,
            ctx=ctx,
            reference=parent_message,
            job=job,
            kind="result",
            mention=job.account,
        )
        job.result_message_id = result.id
        self._charge(job)
        if job.pressed is not None:  # the bot edits the clicked message once more when the job ends
            self.press(self.world.find_message(job.pressed[0]), job.pressed[1])
        return result

    @staticmethod
    def result_rows(job: Job) -> list[JSON]:
        """The buttons under a finished job's file: the grid's U/V rows, a single image's or a video's."""
        return ui.result_rows(job)

    def filename(self, job: Job) -> str:
        """`<username>_<slug>_<uuid>.<ext>` (2026: `u<digits>_<slug>_<uuid>`): the prompt's words keep their case,
        `.` and `-`, other runs become `_`, cut at ~50 characters; a prompt with no latin word (CJK) gives
        `User__<uuid>` (2026: `u<digits>__<uuid>`)."""
        text = re.sub(r"<https?://\S+>|https?://\S+", " ", job.prompt.split(" --")[0])
        slug = re.sub(r"[^A-Za-z0-9.\-]+", "_", text).strip("_")[:SLUG_LENGTH].strip("_")
        uid = grammar(job.version).uid_filenames
        prefix = f"u{job.account.mj_numeric_id}" if uid else job.account.username if slug else "User"
        return f"{prefix}_{slug}_{job.id}.{job.image.extension}"

    def _charge(self, job: Job) -> None:
        account = job.account
        account.lifetime_images += 4 if job.image.kind == "grid" else 1
        account.lifetime_seconds += job.gpu_seconds
        if job.mode == "relax":
            account.relaxed_images += 4 if job.image.kind == "grid" else 1
            account.relaxed_seconds += job.gpu_seconds
        elif job.kind != "upsample":
            account.fast_seconds_used += job.gpu_seconds

    def _stopped(self, job: Job, record: MessageRecord) -> None:
        job.status = "cancelled"
        job.finished_at = time.time()
        if not record.deleted:
            self.update(record, content=self.content(job, "Stopped"), components=[])

    def _filtered(self, job: Job, record: MessageRecord) -> None:
        job.status = "failed"
        job.error = C.TITLE_IMAGE_FILTER
        job.finished_at = time.time()
        self.update(
            record,
            attachments=[],
            components=[],
            embeds=[
                ui.notice(
                    C.TITLE_IMAGE_FILTER,
                    "Sorry, your request was blocked by our image filters while it "
                    "was being generated. You were not charged for this job.",
                    footer=f"/imagine {job.prompt}",
                )
            ],
        )

    def _could_not_complete(self, job: Job, record: MessageRecord) -> None:
        job.status = "failed"
        job.error = C.TITLE_COULD_NOT_COMPLETE
        job.finished_at = time.time()
        self.delete(record)
        parent = self.world.find_message(job.parent_message_id) if job.parent_message_id else None
        self.post(
            job.app,
            self.world.channels[job.channel_id],
            embeds=[
                ui.notice(
                    C.TITLE_COULD_NOT_COMPLETE,
                    "There was an error processing your job. You were not charged for this job. Please try again.",
                    footer=f"/imagine {job.prompt}",
                )
            ],
            origin=job.origin,
            reference=parent,
            job=job,
            kind="notice",
        )

    def _finish(self, job: Job) -> None:
        account = job.account
        if job in account.running:
            account.running.remove(job)
        if not job.finished:
            job.status = "cancelled"
            job.finished_at = time.time()
        while account.queued and len(account.running) < account.concurrency:
            nxt = account.queued.popleft()
            if nxt.cancel.is_set():
                nxt.status = "cancelled"
                continue
            self.start(nxt, None, None)

    def cancel_job(self, job: Job) -> bool:
        """Stop a queued or running job; True if it was still active."""
        if job.finished:
            return False
        job.request_cancel()
        if job in job.account.queued:
            job.account.queued.remove(job)
            job.status = "cancelled"
            job.finished_at = time.time()
        return True


def _wake(sleeper: asyncio.Future[bool]) -> None:
    if not sleeper.done():
        sleeper.set_result(True)


PREVIEW_FAMILIES = 32


def preview_spec(image: ImageSpec, width: int, height: int, percent: int) -> ImageSpec:
    """The progress image of a job: one of 32 palette families at 5 % steps, so previews come from a small cache.

    Rendering a distinct WebP per job and step dominated the cost of many concurrent jobs; a preview's colours
    therefore hint at (but need not match) the final grid. It still changes with progress and is deterministic.
    """
    return ImageSpec(
        kind="preview",
        fmt="webp",
        base="single" if image.kind in VIDEO_KINDS else image.kind,
        width=width,
        height=height,
        palette_seed=image.palette_seed % PREVIEW_FAMILIES,
        progress=min(95, 5 * round(percent / 5)),
        quadrant=image.quadrant,
        zoom=image.zoom,
        pan=image.pan,
    )
