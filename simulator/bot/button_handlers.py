"""What the bots do when a button is clicked or a select menu used (job buttons, describe/shorten, settings,
captcha and notice acknowledgements).

Clicks are routed by the action the custom_id parses to (`mjapi.midjourney.custom_ids.parse_custom_id`, the action
table's grammar). Discord has already checked that the custom_id is one of the clicked message's components; the
checks below only keep what the table's grammar admits but the real bot never draws (U5, a reroll with index 1...).
"""

from __future__ import annotations

from collections.abc import Callable

from mjapi.midjourney.actions import ButtonAction, ModalKind
from mjapi.midjourney.custom_ids import CustomId, parse_custom_id
from simulator import constants as C
from simulator.bot import ui
from simulator.bot.grammar import grammar
from simulator.bot.handler_base import ButtonHandler, HandlerBase, default_version, replace_param, video_prompt
from simulator.bot.types import BotServices, Ctx, JobRequest
from simulator.images import EXTEND_FRAMES, VIDEO_FRAMES, outpaint_ratio
from simulator.prompts import words_of
from simulator.state import BotSettings, Job

NOT_AVAILABLE = "This button is not available in the simulator."


def _index_in(low: int, high: int) -> Callable[[CustomId], bool]:
    return lambda cid: cid.index is not None and low <= cid.index <= high


def _under_single_image(cid: CustomId) -> bool:
    """Buttons under one image carry index 1 and the ::SOLO suffix."""
    return cid.index == 1 and cid.solo


def _v5_upscale(cid: CustomId) -> bool:
    return _under_single_image(cid) and cid.model == "v5"  # 2x/4x exist only under 5.x images


# What the bots draw, where the grammar admits more; actions missing here need nothing beyond the grammar.
_DRAWN: dict[ButtonAction, Callable[[CustomId], bool]] = {
    ButtonAction.UPSAMPLE: lambda cid: _index_in(1, 4)(cid) and not cid.solo,
    ButtonAction.VARIATION: _index_in(1, 4),
    ButtonAction.REROLL: lambda cid: cid.index == 0 and cid.solo,
    ButtonAction.UPSCALE_SUBTLE: _under_single_image,
    ButtonAction.UPSCALE_CREATIVE: _under_single_image,
    ButtonAction.UPSCALE_2X: _v5_upscale,
    ButtonAction.UPSCALE_4X: _v5_upscale,
    ButtonAction.VARY_SUBTLE: _under_single_image,
    ButtonAction.VARY_STRONG: _under_single_image,
    ButtonAction.VARY_REGION: _under_single_image,
    ButtonAction.ZOOM_OUT: lambda cid: _under_single_image(cid) and cid.outpaint_percent in dict(ui.ZOOM_OUT_PERCENTS),
    ButtonAction.MAKE_SQUARE: _under_single_image,
    ButtonAction.PAN: _under_single_image,
    ButtonAction.ANIMATE: lambda cid: _under_single_image(cid) and cid.variant in ui.MOTIONS,
    ButtonAction.ANIMATE_EXTEND: lambda cid: _index_in(1, 4)(cid) and not cid.solo and cid.variant in ui.MOTIONS,
    ButtonAction.VIDEO_UPSCALE: lambda cid: _index_in(1, 4)(cid) and not cid.solo,
    ButtonAction.DESCRIBE_IMAGINE: _index_in(1, ui.DESCRIBE_PROMPTS),
    ButtonAction.SHORTEN_IMAGINE: _index_in(1, ui.SHORTEN_PROMPTS),
}


def drawn_by_the_bot(cid: CustomId) -> bool:
    """Whether the bot ever draws a button with this parsed custom_id (a stricter test than the grammar's)."""
    drawn = _DRAWN.get(cid.action)
    return drawn is None or drawn(cid)


class ButtonHandlers(HandlerBase):
    def __init__(self, engine: BotServices) -> None:
        super().__init__(engine)
        self._table = self.table()

    def table(self) -> dict[ButtonAction, ButtonHandler]:
        """Handlers by the action a custom_id parses to."""
        return {
            ButtonAction.UPSAMPLE: self.upsample,
            ButtonAction.VARIATION: self.variation,
            ButtonAction.REROLL: self.reroll,
            ButtonAction.VARY_SUBTLE: self.vary,
            ButtonAction.VARY_STRONG: self.vary,
            ButtonAction.UPSCALE_SUBTLE: self.upscale,
            ButtonAction.UPSCALE_CREATIVE: self.upscale,
            ButtonAction.UPSCALE_2X: self.upscale,
            ButtonAction.UPSCALE_4X: self.upscale,
            ButtonAction.VARY_REGION: self.inpaint,
            ButtonAction.ZOOM_OUT: self.zoom,
            ButtonAction.MAKE_SQUARE: self.zoom,
            ButtonAction.CUSTOM_ZOOM: self.custom_zoom,
            ButtonAction.PAN: self.pan,
            ButtonAction.ANIMATE: self.animate,
            ButtonAction.ANIMATE_EXTEND: self.extend,
            ButtonAction.VIDEO_UPSCALE: self.video_upscale,
            ButtonAction.CANCEL_JOB: self.cancel_job,
            ButtonAction.BOOKMARK: self.bookmark,
            ButtonAction.DESCRIBE_IMAGINE: self.picreader,
            ButtonAction.DESCRIBE_IMAGINE_ALL: self.picreader_all,
            ButtonAction.DESCRIBE_RETRY: self.picread_retry,
            ButtonAction.SHORTEN_IMAGINE: self.prompt_analyzer,
            ButtonAction.SHORTEN_DETAILS: self.prompt_details,
            ButtonAction.SETTING: self.settings_click,
            ButtonAction.CAPTCHA: self.captcha_click,
        }

    def notice_handler(self, custom_id: str) -> ButtonHandler | None:
        """The buttons of the bot's notices, which the action table does not know (they parse as UNKNOWN)."""
        if custom_id == ui.TOS_ACCEPT:
            return self.tos_accept
        if custom_id.startswith(ui.MOD_MESSAGE_ACK):
            return self.mod_ack
        return None

    async def click(self, ctx: Ctx) -> None:
        """Route a click by its parsed action; what the bot does not draw gets a polite refusal."""
        cid = parse_custom_id(ctx.custom_id)
        unknown = cid.action is ButtonAction.UNKNOWN
        handler = self.notice_handler(cid.raw) if unknown else self._table.get(cid.action)
        if handler is None or not drawn_by_the_bot(cid):
            self.e.reply(ctx, NOT_AVAILABLE)
            return
        await handler(ctx, cid)

    # ----- job buttons -----------------------------------------------------------------------------------------
    def _remix_on(self, ctx: Ctx) -> bool:
        return self.bot_settings(ctx).remix

    async def upsample(self, ctx: Ctx, cid: CustomId) -> None:
        index, job = cid.index or 1, self.job_for(ctx, cid.job_hash)
        if job is None or self.e.gate(ctx):
            return
        request = self.child(
            job,
            "upsample",
            "",
            image_kind="single",
            size="tile",
            quadrant=index - 1,
            index=index,
            palette_seed=job.palette_seed,
            parent_message=ctx.message,
        )
        await self._post_at_once(ctx, request)

    async def _post_at_once(self, ctx: Ctx, request: JobRequest) -> None:
        """A U of a grid (images or videos): the picture exists already, so its result comes at once, without a
        waiting or progress message, and the pressed button turns blue."""
        picked = self.e.new_job(ctx.origin, ctx.channel, ctx.app, request, ctx.account.mode, ctx.nonce)
        picked.status = "running"
        if ctx.message is not None:
            self.e.press(ctx.message, ctx.custom_id)
            picked.pressed = (ctx.message.id, ctx.custom_id)
        await self.e.sleep(1.0)
        await self.e.post_result(picked, None, ctx=ctx)

    async def variation(self, ctx: Ctx, cid: CustomId) -> None:
        job = self.job_for(ctx, cid.job_hash)
        if job is None:
            return
        strong = self.bot_settings(ctx).high_variability
        await self._variation(ctx, job, cid.index or 1, strong)

    async def vary(self, ctx: Ctx, cid: CustomId) -> None:
        job = self.job_for(ctx, cid.job_hash)
        if job is None:
            return
        await self._variation(ctx, job, 1, cid.action is ButtonAction.VARY_STRONG)

    async def _variation(self, ctx: Ctx, job: Job, index: int, strong: bool) -> None:
        if self.e.gate(ctx):
            return
        if self._remix_on(ctx):
            self.e.open_modal(
                ctx,
                ModalKind.REMIX,
                {"hash": job.id, "index": index, "strong": strong},
                title="Remix Prompt",
                label=f"New prompt for image #{index}",
                value=job.prompt,
                job=job,
            )
            return
        label = f"Variations ({'Strong' if strong else 'Subtle'}) by"
        await self.e.submit(ctx, [self.child(job, "variation", label, index=index, parent_message=ctx.message)])

    async def reroll(self, ctx: Ctx, cid: CustomId) -> None:
        job = self.job_for(ctx, cid.job_hash)
        if job is None or self.e.gate(ctx):
            return
        if job.image.kind == "video_grid":  # 🔄 under Animate's grid: four new videos of the same image
            if not self._no_turbo_video(ctx):
                await self._animate(ctx, job.parent or job, job.image.motion or "high", job.prompt)
            return
        if self._remix_on(ctx):
            assert ctx.message is not None
            self.e.open_modal(
                ctx,
                ModalKind.IMAGINE,
                {"message_id": ctx.message.id},
                title="Imagine This!",
                label="Prompt",
                value=job.prompt,
                job=job,
            )
            return
        await self.e.submit(ctx, [self.child(job, "reroll", "", palette_seed=None, parent_message=ctx.message)])

    async def upscale(self, ctx: Ctx, cid: CustomId) -> None:
        """Upscale a U result; pressed under an upscaled image (Redo Upscale) it upscales that image's source again."""
        clicked = self.job_for(ctx, cid.job_hash)
        if clicked is None or self.e.gate(ctx):
            return
        job = clicked.parent if clicked.kind == "upscale" and clicked.parent is not None else clicked
        factor, tag = {
            ButtonAction.UPSCALE_2X: (2, "(2x)"),
            ButtonAction.UPSCALE_4X: (4, "(4x)"),
            ButtonAction.UPSCALE_CREATIVE: (2, "(Creative)"),
        }.get(cid.action, (2, "(Subtle)"))
        done = f"Upscaled {tag} by"
        if cid.action is ButtonAction.UPSCALE_CREATIVE and grammar(job.version).plain_creative_upscale:
            done = "Upscaled by"  # v7 Upscale (Creative) results name no variant
        request = self.child(
            job,
            "upscale",
            f"Upscaling {tag} by",
            done,
            image_kind="single",
            quadrant=job.image.quadrant,
            size=f"upscale_{factor}x",
            palette_seed=job.palette_seed,
            parent_message=ctx.message,
            duration_factor=0.75 if factor == 2 else 1.2,
        )
        await self.e.submit(ctx, [request])

    async def animate(self, ctx: Ctx, cid: CustomId) -> None:
        """Animate (High/Low motion): a video job of the image, its prompt rewritten like the bot's. Its result is
        the four videos it made, in one animated grid (U1-U4 then give each as an mp4)."""
        job = self.job_for(ctx, cid.job_hash)
        if job is None or self.e.gate(ctx) or self._no_turbo_video(ctx):
            return
        motion = cid.variant or "high"
        await self._animate(ctx, job, motion, video_prompt(job.prompt, motion, job.ar))

    async def _animate(self, ctx: Ctx, source: Job, motion: str, prompt: str) -> None:
        request = self.child(source, "video", "", prompt=prompt, words=words_of(prompt.split(" --")[0]))
        request = self._video_request(request, source, motion, VIDEO_FRAMES, ctx)
        request.image_kind = "video_grid"
        await self.e.submit(ctx, [request])

    async def video_upscale(self, ctx: Ctx, cid: CustomId) -> None:
        """U1-U4 under Animate's grid: that video alone, posted at once like an image grid's U (the four videos
        exist already), under Extend (High/Low motion)."""
        grid, index = self.job_for(ctx, cid.job_hash), cid.index or 1
        if grid is None:
            return
        if grid.image.kind != "video_grid":
            self.e.reply(ctx, NOT_AVAILABLE)
            return
        if self.e.gate(ctx):
            return
        request = self.child(grid, "upsample", "", index=index)
        request = self._video_request(request, grid, grid.image.motion, grid.image.frames, ctx)
        await self._post_at_once(ctx, request)

    async def extend(self, ctx: Ctx, cid: CustomId) -> None:
        """Extend (High/Low motion) under a video: a longer video from that one."""
        job = self.job_for(ctx, cid.job_hash)
        if job is None or self.e.gate(ctx) or self._no_turbo_video(ctx):
            return
        motion = cid.variant or "high"
        prompt = replace_param(job.prompt, "motion", motion)
        request = self.child(job, "video", "", prompt=prompt, words=words_of(prompt.split(" --")[0]))
        await self.e.submit(ctx, [self._video_request(request, job, motion, job.image.frames + EXTEND_FRAMES, ctx)])

    @staticmethod
    def _video_request(request: JobRequest, source: Job, motion: str, frames: int, ctx: Ctx) -> JobRequest:
        request.image_kind = "video"
        request.exact_size = (source.image.width, source.image.height)
        request.frames = frames
        request.motion = motion
        request.quadrant = source.image.quadrant
        request.palette_seed = source.palette_seed
        request.parent_message = ctx.message
        return request

    def _no_turbo_video(self, ctx: Ctx) -> bool:
        """The bot refuses video jobs in turbo mode (seen live in 2026)."""
        if ctx.account.mode != "turbo":
            return False
        self.e.notice(ctx, C.TITLE_JOB_ACTION_RESTRICTED, "Turbo mode isn't supported for video jobs.")
        return True

    async def cancel_job(self, ctx: Ctx, cid: CustomId) -> None:
        """Cancel Job on a button job's ephemeral progress message: the job stops (its message reads "(Stopped)")."""
        job = self.world.jobs.get(cid.job_hash or "")
        if job is None or job.account is not ctx.account or not self.e.cancel_job(job):
            self.e.reply(ctx, "This job has already finished or cannot be cancelled.")
            return
        self.e.ack(ctx)

    async def bookmark(self, ctx: Ctx, cid: CustomId) -> None:
        """❤️: the bot answers "You have successfully rated [this job](<message link>) with 😍", an ephemeral reply
        to the rated message; no job."""
        record = ctx.message
        assert record is not None
        guild = ctx.channel.guild_id or "@me"
        link = f"https://discord.com/channels/{guild}/{ctx.channel.id}/{record.id}"
        self.e.post(
            ctx.app, ctx.channel, content=ui.rated_text(link), flags=C.FLAG_EPHEMERAL, ctx=ctx, reference=record
        )

    async def inpaint(self, ctx: Ctx, cid: CustomId) -> None:
        job = self.job_for(ctx, cid.job_hash)
        if job is None or self.e.gate(ctx):
            return
        self.e.open_iframe(
            ctx, kind="inpaint", title="Vary Region", job=job, path="/inpaint/index.html?custom_id={custom_id}"
        )

    async def zoom(self, ctx: Ctx, cid: CustomId) -> None:
        """Zoom Out 2x / 1.5x keep the canvas's ratio; Make Square outpaints it to 1:1. Both yield a grid."""
        job = self.job_for(ctx, cid.job_hash)
        if job is None:
            return
        if cid.action is ButtonAction.MAKE_SQUARE:
            long_side, short_side = max(job.image.width, job.image.height), min(job.image.width, job.image.height)
            request = self.child(
                job,
                "zoom",
                "Zoom Out by",
                ar=outpaint_ratio(job.ar, square=True),
                zoom=long_side / short_side,  # the picture keeps its long side; the short side is filled in
                parent_message=ctx.message,
            )
        else:
            factor = cid.zoom_factor or 2.0  # 50 % -> 2x, 75 % -> 1.5x
            request = self.child(job, "zoom", "Zoom Out by", zoom=factor, parent_message=ctx.message)
        await self.e.submit(ctx, [request])

    async def custom_zoom(self, ctx: Ctx, cid: CustomId) -> None:
        job = self.job_for(ctx, cid.job_hash)
        if job is None or self.e.gate(ctx):
            return
        self.e.open_modal(
            ctx,
            ModalKind.CUSTOM_ZOOM,
            {"hash": job.id},
            title="Zoom Out",
            label="Prompt",
            value=f"{job.prompt} --zoom 2",
            job=job,
        )

    async def pan(self, ctx: Ctx, cid: CustomId) -> None:
        direction, job = cid.direction or "left", self.job_for(ctx, cid.job_hash)
        if job is None or self.e.gate(ctx):
            return
        if self._remix_on(ctx):
            self.e.open_modal(
                ctx,
                ModalKind.PAN,
                {"direction": direction, "hash": job.id, "index": 1},
                title="Pan",
                label="Prompt",
                value=job.prompt,
                job=job,
            )
            return
        await self.e.submit(ctx, [self.pan_request(job, direction, job.prompt, ctx.message)])

    # ----- describe / shorten buttons ---------------------------------------------------------------------------------
    def _described(self, ctx: Ctx) -> list[str]:
        """The prompts of the clicked /describe answer; empty when the bot refused (its notice is sent)."""
        assert ctx.message is not None
        prompts: list[str] = ctx.message.extra.get("prompts", [])
        if self.e.gate(ctx):
            return []
        return prompts

    async def picreader(self, ctx: Ctx, cid: CustomId) -> None:
        prompts = self._described(ctx)
        if not prompts:
            return
        index = cid.index or 1
        self.e.open_modal(
            ctx,
            ModalKind.PICREADER,
            {"index": index},
            title="Imagine This!",
            label="Prompt",
            value=prompts[index - 1],
        )

    async def picreader_all(self, ctx: Ctx, cid: CustomId) -> None:
        """🎉 imagines every described prompt: one job each."""
        requests = []
        for prompt in self._described(ctx):
            parsed = self.parse(ctx, prompt)
            if parsed is None:
                return
            requests.append(self.request(parsed))
        if requests:
            await self.e.submit(ctx, requests)

    async def picread_retry(self, ctx: Ctx, cid: CustomId) -> None:
        record = ctx.message
        assert record is not None
        if self.e.gate(ctx) or "key" not in record.extra:
            return
        message = self.e.thinking(ctx, ephemeral=False, kind="describe")
        message.extra = {**record.extra, "retries": int(record.extra.get("retries", 0)) + 1}
        await self.fill_describe(message)

    async def prompt_analyzer(self, ctx: Ctx, cid: CustomId) -> None:
        record = ctx.message
        assert record is not None
        shortened: list[str] = record.extra.get("shortened", [])
        if self.e.gate(ctx) or not shortened:
            return
        self.e.open_modal(
            ctx,
            ModalKind.IMAGINE,
            {"message_id": record.id},
            title="Imagine This!",
            label="Prompt",
            value=shortened[(cid.index or 1) - 1],
        )

    async def prompt_details(self, ctx: Ctx, cid: CustomId) -> None:
        record = ctx.message
        assert record is not None
        important: list[str] = record.extra.get("important", [])
        weights = ", ".join(f"{word} ({max(0.05, 1.0 - i * 0.08):.2f})" for i, word in enumerate(important))
        self.e.reply(ctx, f"**Token weights**\n{weights or 'none'}")

    # ----- settings, captcha, notices ---------------------------------------------------------------------------------
    async def settings_click(self, ctx: Ctx, cid: CustomId) -> None:
        account = ctx.account
        settings = self.bot_settings(ctx)
        name, value = ui.split_setting(cid.setting)
        record = ctx.message
        assert record is not None
        if name is ui.Setting.VERSION_SELECTOR:
            settings.version = str(ctx.data["values"][0])
            settings.raw = settings.raw and not settings.version.startswith("niji")
        elif name is ui.Setting.STYLE:
            settings.raw = not settings.raw
            settings.niji_style = None
        elif name is ui.Setting.STYLIZE:
            stylize = int(value)
            settings.stylize = None if stylize == 100 or settings.stylize == stylize else stylize
        elif name is ui.Setting.NIJI_STYLE:
            settings.niji_style = None if settings.niji_style == value else value
        elif name is ui.Setting.PUBLIC_MODE:
            if value == "0" and account.plan not in ("pro", "mega"):
                self.e.reply(ctx, "Stealth mode is only available on the Pro and Mega plans.")
                return
            account.stealth = value == "0"
        elif name is ui.Setting.REMIX_MODE:
            settings.remix = not settings.remix
        elif name is ui.Setting.HIGH_VARIABILITY_MODE:
            settings.high_variability = value == "1"
        elif name in ui.MODE_SETTINGS:
            mode = ui.MODE_SETTINGS[name]
            if mode == "relax" and not account.relax_allowed:
                self.e.notice(ctx, C.TITLE_JOB_ACTION_RESTRICTED, "Relax mode is not available on the Basic plan.")
                return
            account.mode = mode
        elif name is ui.Setting.RESET_SETTINGS:
            account.settings[ctx.bot_key] = BotSettings(default_version(ctx.bot_key), options=settings.options)
        self.e.ack(ctx)
        self.e.update(
            record,
            content=self.settings_content(ctx),
            components=ui.settings_rows(ctx.bot_key, account, self.bot_settings(ctx)),
        )

    async def captcha_click(self, ctx: Ctx, cid: CustomId) -> None:
        if not ctx.account.captcha:
            self.e.reply(ctx, "You are already verified.")
            return
        self.e.open_iframe(
            ctx, kind="captcha", title=C.TITLE_ACTION_REQUIRED, job=None, path="/captcha/embedded/{token}"
        )

    async def mod_ack(self, ctx: Ctx, cid: CustomId) -> None:
        ctx.account.pending_mod = False
        self.e.ack(ctx)
        if ctx.message is not None:
            self.e.update(ctx.message, components=[])
        self.e.reply(ctx, "Thanks for acknowledging the message. You can continue using Midjourney.")

    async def tos_accept(self, ctx: Ctx, cid: CustomId) -> None:
        ctx.account.tos_pending = False
        self.e.ack(ctx)
        if ctx.message is not None:
            self.e.update(ctx.message, components=[])
        self.e.reply(ctx, "Thank you for accepting the Terms of Service!")
