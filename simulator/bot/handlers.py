"""What the bots do for each command, button and modal (and for ✉️ reactions, Vary Region and captcha pages)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from simulator import constants as C
from simulator.bot import texts, ui
from simulator.bot.engine import Ctx, JobRequest, PendingIframe, PendingModal, ResolvedAttachment
from simulator.ids import derive_rng, derive_seed, safe_filename
from simulator.images import probe_image, reduce_ratio
from simulator.prompts import (
    DEFAULT_MJ_VERSION,
    DEFAULT_NIJI_VERSION,
    ParsedPrompt,
    PromptError,
    find_banned,
    is_url,
    normalise,
    parse_prompt,
    short_link,
    words_of,
)
from simulator.state import PLANS, Account, AttachmentRecord, BotSettings, Job, MessageRecord, Upload

if TYPE_CHECKING:
    from simulator.bot.engine import Engine

JSON = dict[str, Any]
H = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
Handler = Callable[[Ctx, re.Match[str]], Awaitable[None]]


def _default_version(bot_key: str) -> str:
    return DEFAULT_NIJI_VERSION if bot_key == "niji" else DEFAULT_MJ_VERSION


class Handlers:
    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.world = engine.world
        self.components: list[tuple[re.Pattern[str], Handler]] = [
            (re.compile(rf"^MJ::JOB::upsample::([1-4])::{H}$"), self.upsample),
            (re.compile(rf"^MJ::JOB::variation::([1-4])::{H}(?:::SOLO)?$"), self.variation),
            (re.compile(rf"^MJ::JOB::reroll::0::{H}::SOLO$"), self.reroll),
            (re.compile(rf"^MJ::JOB::(low|high)_variation::1::{H}::SOLO$"), self.vary),
            (
                re.compile(rf"^MJ::JOB::upsample_(v5_2x|v5_4x|v\d+(?:r\d)?_2x_(?:subtle|creative))::1::{H}::SOLO$"),
                self.upscale,
            ),
            (re.compile(rf"^MJ::Inpaint::1::{H}::SOLO$"), self.inpaint),
            (re.compile(rf"^MJ::Outpaint::(50|75)::1::{H}::SOLO$"), self.zoom),
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
        self.commands: dict[str, Callable[[Ctx], Awaitable[None]]] = {
            "imagine": self.imagine,
            "describe": self.describe,
            "blend": self.blend,
            "shorten": self.shorten,
            "info": self.info,
            "fast": self.set_mode,
            "relax": self.set_mode,
            "turbo": self.set_mode,
            "settings": self.settings,
            "prefer": self.prefer,
            "show": self.show,
            "stealth": self.visibility,
            "public": self.visibility,
            "userid": self.userid,
            "help": self.help,
            "ask": self.ask,
            "subscribe": self.subscribe,
            "Cancel Job": self.cancel_job,
            "DM Results": self.dm_results,
        }
        self.modal_kinds: dict[str, Callable[[Ctx], Awaitable[None]]] = {
            "remix": self.remix_submit,
            "pan": self.pan_submit,
            "zoom": self.zoom_submit,
            "imagine": self.imagine_modal_submit,
            "picreader": self.imagine_modal_submit,
        }

    # ----- routing ---------------------------------------------------------------------------------------------
    async def route(self, ctx: Ctx) -> None:
        if ctx.type == C.INTERACTION_APPLICATION_COMMAND:
            handler = self.commands.get(ctx.name) or self.commands.get(ctx.name.split(" ")[0], self.unavailable)
            await handler(ctx)
        elif ctx.type == C.INTERACTION_MESSAGE_COMPONENT:
            for pattern, component_handler in self.components:
                match = pattern.match(ctx.custom_id)
                if match is not None:
                    await component_handler(ctx, match)
                    return
            self.e.reply(ctx, "This button is not available in the simulator.")
        else:
            assert ctx.modal is not None
            await self.modal_kinds[ctx.modal.kind](ctx)

    # ----- helpers ---------------------------------------------------------------------------------------------
    def bot_settings(self, ctx: Ctx) -> BotSettings:
        return ctx.account.settings[ctx.bot_key]

    def link_ok(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host or host == "invalid" or host.endswith(".invalid"):
            return False
        return self.e.cdn.url_is_live(url)

    def parse(self, ctx: Ctx, raw: str, *, allow_zoom: bool = False) -> ParsedPrompt | None:
        """Parse a prompt with the account's settings; on refusal send the bot's embed and return None."""
        settings = self.bot_settings(ctx)
        footer = f"/imagine {normalise(raw)}"
        try:
            parsed = parse_prompt(
                raw,
                bot_key=ctx.bot_key,
                default_version=settings.version,
                suffix=settings.settings_suffix(_default_version(ctx.bot_key)),
                custom_options=settings.options,
                link_ok=self.link_ok,
                allow_zoom=allow_zoom,
            )
        except PromptError as error:
            self.e.notice(ctx, error.title, error.description, footer=footer)
            return None
        banned = find_banned(parsed.text + " " + parsed.params.get("no", ""), self.world.banned_words)
        if banned is not None:
            self.e.notice(
                ctx,
                C.TITLE_BANNED_PROMPT,
                "Sorry! Our AI moderators feel your prompt might be against our community standards.\n\n"
                f"The word `{banned}` is banned. Circumventing this filter to violate our rules may result in "
                "your access being revoked.",
                footer=footer,
            )
            return None
        return parsed

    @staticmethod
    def request(
        parsed: ParsedPrompt, kind: str = "imagine", label: str = "", label_done: str | None = None
    ) -> JobRequest:
        return JobRequest(
            kind=kind,
            label=label,
            label_done=label if label_done is None else label_done,
            prompt=parsed.display,
            words=parsed.words,
            version=parsed.version,
            ar=parsed.ar,
            seed=parsed.seed,
            mode_override=parsed.mode_override,
            batch=parsed.repeat > 1,
        )

    def job_for(self, ctx: Ctx, job_id: str) -> Job | None:
        job = self.world.jobs.get(job_id)
        if job is None or job.status != "succeeded":
            self.e.notice(ctx, C.TITLE_INVALID_REQUEST, "This job is no longer available.")
            return None
        return job

    def upload_attachment(
        self, ctx: Ctx, item: ResolvedAttachment, mime: str, width: int, height: int
    ) -> AttachmentRecord:
        """Make an uploaded file reachable on the CDN (the bot re-hosts images it reads)."""
        key = item.upload.upload_filename if item.upload is not None else None
        if key is None:
            key = f"inline/{self.world.snowflakes.next()}/{item.filename}"
            upload = Upload(key, item.filename, ctx.channel.id, ctx.account.user_id, len(item.data), "inline")
            self.world.add_upload(upload)
            self.world.complete_upload(upload, item.data)
        record = AttachmentRecord(
            id=self.world.snowflakes.next(),
            channel_id=ctx.channel.id,
            filename=safe_filename(item.filename),
            content_type=mime,
            size=len(item.data),
            width=width,
            height=height,
            upload_key=key,
        )
        self.world.add_attachment(record)
        return record

    # ----- commands --------------------------------------------------------------------------------------------
    async def imagine(self, ctx: Ctx) -> None:
        if self.e.gate(ctx):
            return
        parsed = self.parse(ctx, str(ctx.options["prompt"]))
        if parsed is None:
            return
        await self.e.submit(ctx, [self.request(parsed) for _ in range(parsed.repeat)])

    async def describe(self, ctx: Ctx) -> None:
        if self.e.gate(ctx):
            return
        image_ref = ctx.options.get("image")
        link = ctx.options.get("link")
        if image_ref is None and not link:
            self.e.notice(ctx, C.TITLE_INVALID_PARAMETER, "Please provide an image or a link to describe.")
            return
        if image_ref is not None:
            item = ctx.attachments[str(image_ref)]
            probe = probe_image(item.data)
            if probe is None:
                self.e.notice(ctx, C.TITLE_INVALID_IMAGE, "The file you sent is not an image Midjourney can read.")
                return
            width, height, mime, colour = probe
            record = self.upload_attachment(ctx, item, mime, width, height)
            image_url = self.e.cdn.url(record)
            key = hashlib.sha256(item.data).hexdigest()
        else:
            url = str(link).strip().strip("<>")
            if not is_url(url) or not self.link_ok(url):
                self.e.notice(ctx, C.TITLE_INVALID_LINK, f"The link `{url}` could not be downloaded.")
                return
            image_url = url
            width, height = 1024, 1024
            colour = _colour_from(url)
            key = hashlib.sha256(url.encode()).hexdigest()
            ours = self.e.cdn.record_for_path(urlsplit(url).path) if url.startswith(self.e.cdn.base) else None
            if ours is not None and ours.width and ours.height:
                width, height = ours.width, ours.height
                data = await self.e.cdn.data_for(ours)
                probe = probe_image(data) if data else None
                if probe is not None:
                    colour = probe[3]
        message = self.e.thinking(ctx, ephemeral=False)
        message.kind = "describe"
        message.extra = {
            "image_url": image_url,
            "width": width,
            "height": height,
            "colour": colour,
            "key": key,
            "retries": 0,
        }
        await self._fill_describe(message)

    async def _fill_describe(self, message: MessageRecord) -> None:
        extra = message.extra
        rng = derive_rng(self.e.config.seed, "describe", extra["key"], extra["retries"])
        await self.e.sleep(rng.uniform(4.0, 8.0))
        red, green, blue = extra["colour"]
        prompts = texts.describe_prompts(rng, (red, green, blue), extra["width"], extra["height"])
        extra["prompts"] = prompts
        image = {
            "url": extra["image_url"],
            "proxy_url": extra["image_url"],
            "width": extra["width"],
            "height": extra["height"],
        }
        description = ui.embed(None, texts.describe_description(prompts), C.COLOR_INFO)
        description["image"] = image
        self.e.update(message, flags=0, embeds=[description], components=ui.describe_rows())

    async def blend(self, ctx: Ctx) -> None:
        if self.e.gate(ctx):
            return
        items = [ctx.attachments[str(ctx.options[f"image{i}"])] for i in range(1, 6) if f"image{i}" in ctx.options]
        urls: list[str] = []
        digest = hashlib.sha256()
        for item in items:
            probe = probe_image(item.data)
            if probe is None:
                self.e.notice(ctx, C.TITLE_INVALID_IMAGE, f"`{item.filename}` is not an image Midjourney can read.")
                return
            width, height, mime, _ = probe
            urls.append(self.e.cdn.url(self.upload_attachment(ctx, item, mime, width, height)))
            digest.update(item.data)
        dimensions = str(ctx.options.get("dimensions") or "--ar 1:1")
        ar_w, ar_h = (int(x) for x in dimensions.split()[-1].split(":"))
        prompt = " ".join(f"<{short_link(url)}>" for url in urls)
        if dimensions != "--ar 1:1":
            prompt += f" {dimensions}"
        version = self.bot_settings(ctx).version
        request = JobRequest(
            kind="blend",
            label="",
            label_done="",
            prompt=prompt,
            words=frozenset(),
            version=version,
            ar=(ar_w, ar_h),
            palette_seed=derive_seed(self.e.config.seed, "blend", digest.hexdigest()),
        )
        await self.e.submit(ctx, [request])

    async def shorten(self, ctx: Ctx) -> None:
        if self.e.gate(ctx):
            return
        prompt = normalise(str(ctx.options["prompt"]))
        banned = find_banned(prompt, self.world.banned_words)
        if banned is not None:
            self.e.notice(ctx, C.TITLE_BANNED_PROMPT, f"The word `{banned}` is banned.", footer=f"/shorten {prompt}")
            return
        message = self.e.thinking(ctx, ephemeral=False)
        await self.e.sleep(3.0)
        important, shortened = texts.shorten_analysis(prompt)
        embed = ui.embed(
            None,
            texts.shorten_description(important, shortened),
            C.COLOR_INFO,
            footer="Click on a button to imagine one of the shortened prompts",
        )
        message.kind = "shorten"
        message.extra = {"prompt": prompt, "important": important, "shortened": shortened}
        self.e.update(message, flags=0, embeds=[embed], components=ui.shorten_rows())

    async def info(self, ctx: Ctx) -> None:
        if self.e.gate(ctx, jobs=False):
            return
        message = self.e.thinking(ctx, ephemeral=True)
        await self.e.sleep(1.0)
        account = ctx.account
        self.e.update(
            message,
            flags=C.FLAG_EPHEMERAL,
            embeds=[ui.embed(f"Your info - {account.username}", info_text(account), C.COLOR_INFO)],
        )

    async def set_mode(self, ctx: Ctx) -> None:
        if self.e.gate(ctx, jobs=False):
            return
        account = ctx.account
        mode = ctx.name
        if mode == "relax" and account.plan == "basic":
            self.e.notice(ctx, C.TITLE_JOB_ACTION_RESTRICTED, "Relax mode is not available on the Basic plan.")
            return
        account.mode = mode
        replies = {
            "fast": "Done! Your jobs will now use fast mode and consume fast-hours. "
            "You can always switch back with /relax",
            "relax": "Done! Your jobs now do not consume fast-hours, but might take a little longer. "
            "You can always switch back with /fast",
            "turbo": "Done! Your jobs will now use turbo mode: faster, but consuming twice the fast-hours. "
            "You can always switch back with /fast",
        }
        self.e.reply(ctx, replies[mode])

    async def settings(self, ctx: Ctx) -> None:
        if self.e.gate(ctx, jobs=False):
            return
        self.e.post(
            ctx.app,
            ctx.channel,
            content=self._settings_content(ctx),
            flags=C.FLAG_EPHEMERAL,
            ctx=ctx,
            components=ui.settings_rows(ctx.bot_key, ctx.account, self.bot_settings(ctx)),
            kind="settings",
        )

    def _settings_content(self, ctx: Ctx) -> str:
        suffix = self.bot_settings(ctx).settings_suffix("")
        return f"Adjust your settings here. Current suffix: `  {suffix}`"

    async def prefer(self, ctx: Ctx) -> None:
        if self.e.gate(ctx, jobs=False):
            return
        settings = self.bot_settings(ctx)
        sub = ctx.name.split(" ", 1)[1] if " " in ctx.name else ""
        if sub == "remix":
            settings.remix = not settings.remix
            self.e.reply(
                ctx,
                "Remix mode turned on! Clicking V1-V4, Vary, reroll or a pan button now lets you edit the prompt."
                if settings.remix
                else "Remix mode turned off!",
            )
        elif sub == "variability":
            settings.high_variability = not settings.high_variability
            self.e.reply(ctx, f"High variability mode turned {'on' if settings.high_variability else 'off'}!")
        elif sub == "auto_dm":
            settings.auto_dm = not settings.auto_dm
            self.e.reply(ctx, f"Auto DM turned {'on' if settings.auto_dm else 'off'}!")
        elif sub == "suffix":
            value = normalise(str(ctx.options.get("new_value") or ""))
            if value:
                try:
                    parse_prompt("x " + value, bot_key=ctx.bot_key)
                except PromptError as error:
                    self.e.notice(ctx, error.title, error.description)
                    return
                settings.suffix = value
                self.e.reply(ctx, f"Custom suffix saved: `{value}`")
            else:
                settings.suffix = ""
                self.e.reply(ctx, "Custom suffix removed.")
        elif sub == "option set":
            name = str(ctx.options.get("option", "")).strip().lstrip("-").lower()
            value = normalise(str(ctx.options.get("value") or ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                self.e.notice(ctx, C.TITLE_INVALID_PARAMETER, "Option names use letters, digits and `_` only.")
            elif value:
                settings.options[name] = value
                self.e.reply(ctx, f"Custom option `--{name}` set to `{value}`")
            else:
                settings.options.pop(name, None)
                self.e.reply(ctx, f"Custom option `--{name}` deleted.")
        elif sub == "option list":
            if settings.options:
                lines = "\n".join(f"`--{k}`: {v}" for k, v in sorted(settings.options.items()))
                self.e.reply(ctx, f"Your custom options:\n{lines}")
            else:
                self.e.reply(ctx, "You have no custom options.")
        else:
            self.e.reply(ctx, "Please pick a preference to change.")

    async def show(self, ctx: Ctx) -> None:
        if self.e.gate(ctx):
            return
        job_id = str(ctx.options["job_id"]).strip()
        job = self.world.jobs.get(job_id)
        if job is None or job.account is not ctx.account or job.status != "succeeded":
            self.e.notice(
                ctx,
                C.TITLE_INVALID_PARAMETER,
                f"No finished job `{job_id}` was found for you.",
                footer=f"/show {job_id}",
            )
            return
        attachment = await self.e.image_attachment(ctx.channel.id, job.image, self.e.filename(job))
        components = (
            ui.grid_rows(job.id) if job.image.kind == "grid" else ui.single_rows(job, upscaled=job.kind == "upscale")
        )
        self.e.post(
            ctx.app,
            ctx.channel,
            content=self.e.content(job, self.e.mode_text(job), done=True),
            attachments=[attachment],
            components=components,
            ctx=ctx,
            job=job,
            kind="result",
            mention=ctx.account,
        )

    async def visibility(self, ctx: Ctx) -> None:
        if self.e.gate(ctx, jobs=False):
            return
        account = ctx.account
        if ctx.name == "stealth":
            if account.plan not in ("pro", "mega"):
                self.e.reply(ctx, "Stealth mode is only available on the Pro and Mega plans.")
                return
            account.stealth = True
            self.e.reply(ctx, "Done! Stealth mode turned on: your new images are hidden from the Midjourney website.")
        else:
            account.stealth = False
            self.e.reply(ctx, "Done! Public mode turned on: your new images are visible on the Midjourney website.")

    async def userid(self, ctx: Ctx) -> None:
        self.e.reply(ctx, f"Your Midjourney user ID is `{ctx.account.mj_user_id}`")

    async def help(self, ctx: Ctx) -> None:
        self.e.post(
            ctx.app,
            ctx.channel,
            embeds=[ui.embed(ctx.app.name, texts.HELP_TEXT, C.COLOR_INFO)],
            flags=C.FLAG_EPHEMERAL,
            ctx=ctx,
            kind="reply",
        )

    async def ask(self, ctx: Ctx) -> None:
        self.e.reply(ctx, "I am the simulated Midjourney bot. Try /help for what I can do.")

    async def subscribe(self, ctx: Ctx) -> None:
        self.e.reply(
            ctx,
            "Manage your subscription on the website.",
            components=[ui.row(ui.link_button("https://www.midjourney.com/account", "Manage Account"))],
        )

    async def unavailable(self, ctx: Ctx) -> None:
        self.e.reply(ctx, f"`/{ctx.name}` is not available in the mjapi simulator.")

    async def cancel_job(self, ctx: Ctx) -> None:
        record = ctx.message
        job = record.job if record is not None else None
        if job is None or job.account is not ctx.account or not self.e.cancel_job(job):
            self.e.reply(ctx, "This message has no job of yours that can be cancelled.")
            return
        self.e.reply(ctx, "Your job has been cancelled.")

    async def dm_results(self, ctx: Ctx) -> None:
        record = ctx.message
        job = record.job if record is not None else None
        if job is None or job.status != "succeeded":
            self.e.reply(ctx, "This message has no finished job.")
            return
        await self.send_dm(ctx.account, job, content=self.e.content(job, self.e.mode_text(job), done=True))
        self.e.reply(ctx, "Sent the results to your DMs!")

    async def send_dm(self, account: Account, job: Job, *, content: str) -> MessageRecord:
        channel = self.world.channels[account.dm_channel_ids[job.app.key]]
        attachment = await self.e.image_attachment(channel.id, job.image, self.e.filename(job))
        return self.e.post(job.app, channel, content=content, attachments=[attachment], job=job, kind="dm")

    # ----- job buttons -----------------------------------------------------------------------------------------
    def _child(self, parent: Job, kind: str, label: str, label_done: str | None = None, **changes: Any) -> JobRequest:
        request = JobRequest(
            kind=kind,
            label=label,
            label_done=label if label_done is None else label_done,
            prompt=parent.prompt,
            words=words_of(parent.prompt.split(" --")[0]),
            version=parent.version,
            ar=parent.ar,
            parent=parent,
            palette_seed=derive_seed(self.e.config.seed, kind, parent.palette_seed, parent.account.job_counter),
        )
        for key, value in changes.items():
            setattr(request, key, value)
        return request

    def _remix_on(self, ctx: Ctx) -> bool:
        return self.bot_settings(ctx).remix

    async def upsample(self, ctx: Ctx, match: re.Match[str]) -> None:
        index, job = int(match.group(1)), self.job_for(ctx, match.group(2))
        if job is None or self.e.gate(ctx):
            return
        request = self._child(
            job,
            "upsample",
            "",
            image_kind="single",
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
        await self.e.submit(ctx, [self._child(job, "variation", label, index=index, parent_message=ctx.message)])

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
        await self.e.submit(ctx, [self._child(job, "reroll", "", palette_seed=None, parent_message=ctx.message)])

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
        request = self._child(
            job,
            "upscale",
            f"Upscaling {tag} by",
            f"Upscaled {tag} by",
            image_kind="single",
            quadrant=job.image.quadrant,
            size_factor=factor,
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
        factor = 2.0 if match.group(1) == "50" else 1.5
        job = self.job_for(ctx, match.group(2))
        if job is None:
            return
        await self.e.submit(ctx, [self._child(job, "zoom", "Zoom Out by", zoom=factor, parent_message=ctx.message)])

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
        await self.e.submit(ctx, [self._pan_request(job, direction, job.prompt, ctx.message)])

    def _pan_request(self, job: Job, direction: str, prompt: str, message: MessageRecord | None) -> JobRequest:
        w, h = job.ar
        ar = reduce_ratio(w * 3, h * 2) if direction in ("left", "right") else reduce_ratio(w * 2, h * 3)
        return self._child(
            job,
            "pan",
            f"Pan {direction.capitalize()} by",
            pan=direction,
            ar=ar,
            prompt=prompt,
            words=words_of(prompt.split(" --")[0]),
            parent_message=message,
        )

    # ----- describe / shorten buttons --------------------------------------------------------------------------
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
        await self._fill_describe(message)

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

    # ----- settings, captcha, notices --------------------------------------------------------------------------
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
            account.settings[ctx.bot_key] = BotSettings(_default_version(ctx.bot_key), options=settings.options)
        self.e.ack(ctx)
        self.e.update(
            record,
            content=self._settings_content(ctx),
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

    # ----- modal submits ---------------------------------------------------------------------------------------
    def _modal_prompt(self, ctx: Ctx, *, allow_zoom: bool = False) -> tuple[PendingModal, ParsedPrompt] | None:
        """The submitted modal and its prompt, parsed like a command's; None when the account's state or the prompt
        made the bot refuse (its notice is already sent)."""
        modal = ctx.modal
        assert modal is not None
        if self.e.gate(ctx):
            return None
        parsed = self.parse(ctx, ctx.values.get(modal.inputs[0], ""), allow_zoom=allow_zoom)
        return None if parsed is None else (modal, parsed)

    async def remix_submit(self, ctx: Ctx) -> None:
        submitted = self._modal_prompt(ctx)
        if submitted is None:
            return
        modal, parsed = submitted
        assert modal.job is not None
        strong = bool(modal.extra.get("strong", True))
        word = "Remix" if parsed.display != modal.job.prompt else "Variations"
        label = f"{word} ({'Strong' if strong else 'Subtle'}) by"
        request = self._child(
            modal.job,
            "variation",
            label,
            index=int(modal.extra.get("index", 1)),
            prompt=parsed.display,
            words=parsed.words,
            ar=parsed.ar,
            version=parsed.version,
            parent_message=modal.message,
        )
        await self.e.submit(ctx, [request])

    async def pan_submit(self, ctx: Ctx) -> None:
        submitted = self._modal_prompt(ctx)
        if submitted is None:
            return
        modal, parsed = submitted
        assert modal.job is not None
        await self.e.submit(
            ctx, [self._pan_request(modal.job, str(modal.extra["direction"]), parsed.display, modal.message)]
        )

    async def zoom_submit(self, ctx: Ctx) -> None:
        submitted = self._modal_prompt(ctx, allow_zoom=True)
        if submitted is None:
            return
        modal, parsed = submitted
        assert modal.job is not None
        factor = parsed.zoom or 2.0
        request = self._child(
            modal.job,
            "zoom",
            "Zoom Out by",
            zoom=factor,
            prompt=parsed.display,
            words=parsed.words,
            parent_message=modal.message,
        )
        await self.e.submit(ctx, [request])

    async def imagine_modal_submit(self, ctx: Ctx) -> None:
        submitted = self._modal_prompt(ctx)
        if submitted is None:
            return
        modal, parsed = submitted
        request = self.request(parsed, kind="reroll" if modal.job is not None else "imagine")
        request.parent = modal.job
        request.parent_message = modal.message if modal.job is not None else None
        await self.e.submit(ctx, [request])

    # ----- outside the interactions endpoint -------------------------------------------------------------------
    async def on_reaction(self, account: Account, record: MessageRecord, emoji: str) -> None:
        """✉️ on a job message: the bot DMs the job id and seed (protocol doc section 1.7)."""
        job = record.job
        if emoji not in ("✉️", "✉") or job is None or job.status != "succeeded":
            return
        if str(record.data.get("author", {}).get("id")) != job.app.id:
            return
        await self.e.sleep(1.0)
        await self.send_dm(account, job, content=f"**Job ID**: {job.id}\n**seed** {job.seed}")

    async def inpaint_submit(self, token: str, mask: str, prompt: str) -> tuple[int, JSON]:
        """`POST .../inpaint/api/submit-job`: start a Vary (Region) job for the iframe token."""
        token = token.removeprefix("MJ::iframe::")
        iframe = self.e.iframes.get(token)
        if iframe is None or iframe.kind != "inpaint" or iframe.job is None:
            return 404, {"success": False, "error": "Unknown or expired customId"}
        if iframe.used:
            return 409, {"success": False, "error": "This editor session was already submitted"}
        raw = mask.split("base64,", 1)[-1]
        try:
            blob = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return 400, {"success": False, "error": "mask is not valid base64"}
        if probe_image(blob) is None:
            return 400, {"success": False, "error": "mask is not a PNG/WebP image"}
        iframe.used = True
        ctx = self._iframe_ctx(iframe)
        parent = iframe.job
        label = "Variations (Region) by"
        parsed: ParsedPrompt | None = None
        if prompt and normalise(prompt) != parent.prompt:
            parsed = self.parse(ctx, prompt)
            if parsed is None:
                return 200, {"success": True}
            label = "Remix (Region) by"
        request = self._child(
            parent,
            "inpaint",
            label,
            image_kind="grid",
            parent_message=iframe.message,
            palette_seed=derive_seed(self.e.config.seed, "inpaint", parent.palette_seed, blob[:64]),
        )
        if parsed is not None:
            request.prompt, request.words, request.ar = parsed.display, parsed.words, parsed.ar
        await self.e.submit(ctx, [request])
        return 200, {"success": True}

    def _iframe_ctx(self, iframe: PendingIframe) -> Ctx:
        ctx = Ctx(
            iframe.origin.interaction_id,
            C.INTERACTION_MESSAGE_COMPONENT,
            iframe.account,
            iframe.app,
            iframe.channel,
            iframe.origin.session_id,
            None,
            {},
            iframe.origin,
        )
        ctx.message = iframe.message
        ctx.acked = True
        ctx.nonce_used = True
        return ctx

    def image_info(self, token: str) -> tuple[int, JSON]:
        """`GET .../inpaint/api/get-image-info/0/0/{token}`: what the Vary Region editor shows."""
        iframe = self.e.iframes.get(token.removeprefix("MJ::iframe::"))
        if iframe is None or iframe.kind != "inpaint" or iframe.job is None:
            return 404, {"success": False, "error": "Unknown or expired customId"}
        job = iframe.job
        record = next((a for a in self.world.attachments.values() if a.spec == job.image), None)
        return 200, {
            "success": True,
            "jobId": job.id,
            "imageUrl": self.e.cdn.url(record) if record else None,
            "width": job.image.width,
            "height": job.image.height,
            "prompt": job.prompt,
            "remix": job.account.settings[job.app.key].remix,
        }

    def captcha_ack(self, token: str) -> tuple[int, JSON]:
        iframe = self.e.iframes.get(token.removeprefix("MJ::iframe::"))
        if iframe is None or iframe.kind != "captcha" or not iframe.account.captcha:
            return 404, {"error": "Unknown captcha"}
        return 200, {"hash": iframe.account.captcha, "token": token}

    def captcha_solve(self, captcha_hash: str, token: str) -> bool:
        iframe = self.e.iframes.get(token)
        if iframe is None or iframe.kind != "captcha" or iframe.account.captcha != captcha_hash:
            return False
        iframe.account.captcha = None
        iframe.used = True
        return True


def _colour_from(text: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(text.encode()).digest()
    return digest[0], digest[1], digest[2]


def info_text(account: Account) -> str:
    """The /info embed description in the real format (protocol doc section 3.4)."""
    plan_name = PLANS[account.plan][0]
    if account.subscription_active:
        subscription = f"{plan_name} (Active monthly, renews next on <t:{account.renews_at}>)"
    else:
        subscription = "None"
    total = account.fast_hours_total
    remaining = account.fast_remaining_hours
    percent = (remaining / total * 100.0) if total > 0 else 0.0
    queued_fast = sum(1 for j in account.queued if j.mode != "relax")
    queued_relax = sum(1 for j in account.queued if j.mode == "relax")
    running = len(account.running)
    return (
        f"**Subscription**: {subscription}\n"
        f"**Job Mode**: {account.mode.capitalize()}\n"
        f"**Visibility Mode**: {'Stealth' if account.stealth else 'Public'}\n"
        f"**Fast Time Remaining**: {remaining:.2f}/{total:.1f} hours ({percent:.2f}%)\n"
        f"**Lifetime Usage**: {account.lifetime_images} images ({account.lifetime_seconds / 3600:.2f} hours)\n"
        f"**Relaxed Usage**: {account.relaxed_images} images ({account.relaxed_seconds / 3600:.2f} hours)\n\n"
        f"**Queued Jobs (fast)**: {queued_fast}\n"
        f"**Queued Jobs (relax)**: {queued_relax}\n"
        f"**Running Jobs**: {running if running else 'None'}"
    )
