"""What the bots do when a button is clicked or a select menu used (job buttons, describe/shorten, settings,
captcha and notice acknowledgements)."""

from __future__ import annotations

import re

from simulator import constants as C
from simulator.bot import ui
from simulator.bot.handler_base import ButtonHandler, H, HandlerBase, default_version
from simulator.bot.types import Ctx
from simulator.images import outpaint_ratio
from simulator.state import BotSettings, Job


class ButtonHandlers(HandlerBase):
    def table(self) -> list[tuple[re.Pattern[str], ButtonHandler]]:
        """custom_id patterns and their handlers; the first match wins."""
        outpaint = "|".join((ui.ZOOM_OUT_2X, ui.ZOOM_OUT_1_5X, ui.MAKE_SQUARE))
        return [
            (re.compile(rf"^MJ::JOB::upsample::([1-4])::{H}$"), self.upsample),
            (re.compile(rf"^MJ::JOB::variation::([1-4])::{H}(?:::SOLO)?$"), self.variation),
            (re.compile(rf"^MJ::JOB::reroll::0::{H}::SOLO$"), self.reroll),
            (re.compile(rf"^MJ::JOB::(low|high)_variation::1::{H}::SOLO$"), self.vary),
            (
                re.compile(rf"^MJ::JOB::upsample_(v5_2x|v5_4x|v\d+(?:r\d)?_2x_(?:subtle|creative))::1::{H}::SOLO$"),
                self.upscale,
            ),
            (re.compile(rf"^MJ::Inpaint::1::{H}::SOLO$"), self.inpaint),
            (re.compile(f"^{ui.outpaint_id(f'({outpaint})', H)}$"), self.zoom),
            (re.compile(rf"^MJ::CustomZoom::{H}$"), self.custom_zoom),
            (re.compile(rf"^MJ::JOB::pan_(left|right|up|down)::1::{H}::SOLO$"), self.pan),
            (re.compile(r"^MJ::Job::PicReader::([1-4]|all)$"), self.picreader),
            (re.compile(r"^MJ::Picread::Retry$"), self.picread_retry),
            (re.compile(r"^MJ::Job::PromptAnalyzer::([1-5])$"), self.prompt_analyzer),
            (re.compile(r"^MJ::Job::PromptAnalyzerExtended$"), self.prompt_details),
            (re.compile(r"^MJ::Settings::(.+)$"), self.settings_click),
            (re.compile(r"^MJ::Captcha::(.+)$"), self.captcha_click),
            (re.compile(r"^MJ::ModMessage::Ack::(.+)$"), self.mod_ack),
            (re.compile(r"^MJ::Tos::Accept$"), self.tos_accept),
        ]

    # ----- job buttons -----------------------------------------------------------------------------------------
    def _remix_on(self, ctx: Ctx) -> bool:
        return self.bot_settings(ctx).remix

    async def upsample(self, ctx: Ctx, match: re.Match[str]) -> None:
        index, job = int(match.group(1)), self.job_for(ctx, match.group(2))
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
        upsampled = self.e.new_job(ctx.origin, ctx.channel, ctx.app, request, ctx.account.mode, ctx.nonce)
        upsampled.status = "running"
        await self.e.sleep(1.0)
        await self.e.post_result(upsampled, None, ctx=ctx)

    async def variation(self, ctx: Ctx, match: re.Match[str]) -> None:
        index, job = int(match.group(1)), self.job_for(ctx, match.group(2))
        if job is None:
            return
        strong = self.bot_settings(ctx).high_variability
        await self._variation(ctx, job, index, strong)

    async def vary(self, ctx: Ctx, match: re.Match[str]) -> None:
        job = self.job_for(ctx, match.group(2))
        if job is None:
            return
        await self._variation(ctx, job, 1, match.group(1) == "high")

    async def _variation(self, ctx: Ctx, job: Job, index: int, strong: bool) -> None:
        if self.e.gate(ctx):
            return
        if self._remix_on(ctx):
            self.e.open_modal(
                ctx,
                kind="remix",
                custom_id=f"MJ::RemixModal::{job.id}::{index}::{int(strong)}",
                title="Remix Prompt",
                job=job,
                extra={"index": index, "strong": strong},
                inputs=[("MJ::RemixModal::new_prompt", f"New prompt for image #{index}", job.prompt)],
            )
            return
        label = f"Variations ({'Strong' if strong else 'Subtle'}) by"
        await self.e.submit(ctx, [self.child(job, "variation", label, index=index, parent_message=ctx.message)])

    async def reroll(self, ctx: Ctx, match: re.Match[str]) -> None:
        job = self.job_for(ctx, match.group(1))
        if job is None or self.e.gate(ctx):
            return
        if self._remix_on(ctx):
            assert ctx.message is not None
            self.e.open_modal(
                ctx,
                kind="imagine",
                custom_id=f"MJ::ImagineModal::{ctx.message.id}",
                title="Imagine This!",
                job=job,
                inputs=[("MJ::ImagineModal::new_prompt", "Prompt", job.prompt)],
            )
            return
        await self.e.submit(ctx, [self.child(job, "reroll", "", palette_seed=None, parent_message=ctx.message)])

    async def upscale(self, ctx: Ctx, match: re.Match[str]) -> None:
        action, job = match.group(1), self.job_for(ctx, match.group(2))
        if job is None or self.e.gate(ctx):
            return
        if action.startswith("v5_"):
            factor = 4 if action.endswith("4x") else 2
            tag = f"({factor}x)"
        else:
            factor = 2
            tag = "(Creative)" if action.endswith("creative") else "(Subtle)"
        request = self.child(
            job,
            "upscale",
            f"Upscaling {tag} by",
            f"Upscaled {tag} by",
            image_kind="single",
            quadrant=job.image.quadrant,
            size=f"upscale_{factor}x",
            palette_seed=job.palette_seed,
            parent_message=ctx.message,
            duration_factor=0.75 if factor == 2 else 1.2,
        )
        await self.e.submit(ctx, [request])

    async def inpaint(self, ctx: Ctx, match: re.Match[str]) -> None:
        job = self.job_for(ctx, match.group(1))
        if job is None or self.e.gate(ctx):
            return
        self.e.open_iframe(
            ctx, kind="inpaint", title="Vary Region", job=job, path="/inpaint/index.html?custom_id={custom_id}"
        )

    async def zoom(self, ctx: Ctx, match: re.Match[str]) -> None:
        """Zoom Out 2x / 1.5x keep the canvas's ratio; Make Square outpaints it to 1:1. Both yield a grid."""
        percent, job = match.group(1), self.job_for(ctx, match.group(2))
        if job is None:
            return
        if percent == ui.MAKE_SQUARE:
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
            factor = 2.0 if percent == ui.ZOOM_OUT_2X else 1.5
            request = self.child(job, "zoom", "Zoom Out by", zoom=factor, parent_message=ctx.message)
        await self.e.submit(ctx, [request])

    async def custom_zoom(self, ctx: Ctx, match: re.Match[str]) -> None:
        job = self.job_for(ctx, match.group(1))
        if job is None or self.e.gate(ctx):
            return
        self.e.open_modal(
            ctx,
            kind="zoom",
            custom_id=f"MJ::OutpaintCustomZoomModal::{job.id}",
            title="Zoom Out",
            job=job,
            inputs=[("MJ::OutpaintCustomZoomModal::prompt", "Prompt", f"{job.prompt} --zoom 2")],
        )

    async def pan(self, ctx: Ctx, match: re.Match[str]) -> None:
        direction, job = match.group(1), self.job_for(ctx, match.group(2))
        if job is None or self.e.gate(ctx):
            return
        if self._remix_on(ctx):
            self.e.open_modal(
                ctx,
                kind="pan",
                custom_id=f"MJ::PanModal::{direction}::{job.id}::1",
                title="Pan",
                job=job,
                extra={"direction": direction},
                inputs=[("MJ::PanModal::prompt", "Prompt", job.prompt)],
            )
            return
        await self.e.submit(ctx, [self.pan_request(job, direction, job.prompt, ctx.message)])

    # ----- describe / shorten buttons ---------------------------------------------------------------------------------
    async def picreader(self, ctx: Ctx, match: re.Match[str]) -> None:
        record = ctx.message
        assert record is not None
        prompts: list[str] = record.extra.get("prompts", [])
        if self.e.gate(ctx) or not prompts:
            return
        if match.group(1) == "all":
            requests = []
            for prompt in prompts:
                parsed = self.parse(ctx, prompt)
                if parsed is None:
                    return
                requests.append(self.request(parsed))
            await self.e.submit(ctx, requests)
            return
        index = int(match.group(1))
        self.e.open_modal(
            ctx,
            kind="picreader",
            custom_id=f"MJ::Picreader::Modal::{index}",
            title="Imagine This!",
            inputs=[("MJ::Picreader::Modal::PromptField", "Prompt", prompts[index - 1])],
        )

    async def picread_retry(self, ctx: Ctx, match: re.Match[str]) -> None:
        record = ctx.message
        assert record is not None
        if self.e.gate(ctx) or "key" not in record.extra:
            return
        message = self.e.thinking(ctx, ephemeral=False)
        message.kind = "describe"
        message.extra = {**record.extra, "retries": int(record.extra.get("retries", 0)) + 1}
        await self.fill_describe(message)

    async def prompt_analyzer(self, ctx: Ctx, match: re.Match[str]) -> None:
        record = ctx.message
        assert record is not None
        shortened: list[str] = record.extra.get("shortened", [])
        if self.e.gate(ctx) or not shortened:
            return
        self.e.open_modal(
            ctx,
            kind="imagine",
            custom_id=f"MJ::ImagineModal::{record.id}",
            title="Imagine This!",
            inputs=[("MJ::ImagineModal::new_prompt", "Prompt", shortened[int(match.group(1)) - 1])],
        )

    async def prompt_details(self, ctx: Ctx, match: re.Match[str]) -> None:
        record = ctx.message
        assert record is not None
        important: list[str] = record.extra.get("important", [])
        weights = ", ".join(f"{word} ({max(0.05, 1.0 - i * 0.08):.2f})" for i, word in enumerate(important))
        self.e.reply(ctx, f"**Token weights**\n{weights or 'none'}")

    # ----- settings, captcha, notices ---------------------------------------------------------------------------------
    async def settings_click(self, ctx: Ctx, match: re.Match[str]) -> None:
        account = ctx.account
        settings = self.bot_settings(ctx)
        action = match.group(1)
        record = ctx.message
        assert record is not None
        if action == "VersionSelector":
            settings.version = str(ctx.data["values"][0])
            settings.raw = settings.raw and not settings.version.startswith("niji")
        elif action == "Style::raw":
            settings.raw = not settings.raw
            settings.niji_style = None
        elif action.startswith("Stylize::"):
            value = int(action.split("::")[1])
            settings.stylize = None if value == 100 or settings.stylize == value else value
        elif action.startswith("NijiStyle::"):
            style = action.split("::")[1]
            settings.niji_style = None if settings.niji_style == style else style
        elif action.startswith("PublicMode::"):
            if action.endswith("0") and account.plan not in ("pro", "mega"):
                self.e.reply(ctx, "Stealth mode is only available on the Pro and Mega plans.")
                return
            account.stealth = action.endswith("0")
        elif action == "RemixMode":
            settings.remix = not settings.remix
        elif action.startswith("HighVariabilityMode::"):
            settings.high_variability = action.endswith("1")
        elif action in ("TurboMode", "FastMode", "RelaxMode"):
            mode = action[: -len("Mode")].lower()
            if mode == "relax" and account.plan == "basic":
                self.e.notice(ctx, C.TITLE_JOB_ACTION_RESTRICTED, "Relax mode is not available on the Basic plan.")
                return
            account.mode = mode
        elif action == "ResetSettings":
            account.settings[ctx.bot_key] = BotSettings(default_version(ctx.bot_key), options=settings.options)
        self.e.ack(ctx)
        self.e.update(
            record,
            content=self.settings_content(ctx),
            components=ui.settings_rows(ctx.bot_key, account, self.bot_settings(ctx)),
        )

    async def captcha_click(self, ctx: Ctx, match: re.Match[str]) -> None:
        if not ctx.account.captcha:
            self.e.reply(ctx, "You are already verified.")
            return
        self.e.open_iframe(
            ctx, kind="captcha", title=C.TITLE_ACTION_REQUIRED, job=None, path="/captcha/embedded/{token}"
        )

    async def mod_ack(self, ctx: Ctx, match: re.Match[str]) -> None:
        ctx.account.pending_mod = False
        self.e.ack(ctx)
        if ctx.message is not None:
            self.e.update(ctx.message, components=[])
        self.e.reply(ctx, "Thanks for acknowledging the message. You can continue using Midjourney.")

    async def tos_accept(self, ctx: Ctx, match: re.Match[str]) -> None:
        ctx.account.tos_pending = False
        self.e.ack(ctx)
        if ctx.message is not None:
            self.e.update(ctx.message, components=[])
        self.e.reply(ctx, "Thank you for accepting the Terms of Service!")
