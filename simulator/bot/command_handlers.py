"""What the bots answer to slash commands and message commands (and to a ✉️ reaction on a job message)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from simulator import constants as C
from simulator.bot import texts, ui
from simulator.bot.grammar import grammar
from simulator.bot.handler_base import CommandHandler, HandlerBase
from simulator.bot.types import Ctx, JobRequest, ResolvedAttachment
from simulator.ids import derive_seed, safe_filename
from simulator.images import probe_image
from simulator.prompts import PromptError, find_banned, is_url, normalise, parse_prompt, short_link
from simulator.state import PLANS, Account, AttachmentRecord, MessageRecord, Upload


class CommandHandlers(HandlerBase):
    def table(self) -> dict[str, CommandHandler]:
        """Handlers by command name (a sub-command falls back to its command's handler)."""
        return {
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

    def upload_attachment(
        self, ctx: Ctx, item: ResolvedAttachment, mime: str, width: int, height: int, *, folder: str | None = None
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
            ephemeral=folder is not None,
            folder=folder,
        )
        self.world.add_attachment(record)
        return record

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
        modern = grammar(self.bot_settings(ctx).version).describe_2025
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
            # 2025: the bot shows the upload from `/ephemeral-attachments/<describe command id>/...`
            folder = ctx.command.id if modern and ctx.command is not None else None
            record = self.upload_attachment(ctx, item, mime, width, height, folder=folder)
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
        message = self.e.thinking(ctx, ephemeral=False, kind="describe")
        message.extra = {
            "image_url": image_url,
            "width": width,
            "height": height,
            "colour": colour,
            "key": key,
            "retries": 0,
            "modern": modern,
        }
        await self.fill_describe(message)

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
        message = self.e.thinking(ctx, ephemeral=False, kind="shorten")
        await self.e.sleep(3.0)
        important, shortened = texts.shorten_analysis(prompt)
        embed = ui.embed(
            None,
            texts.shorten_description(important, shortened),
            C.COLOR_INFO,
            footer="Click on a button to imagine one of the shortened prompts",
        )
        message.extra = {"prompt": prompt, "important": important, "shortened": shortened}
        self.e.fill(message, embeds=[embed], components=ui.shorten_rows())

    async def info(self, ctx: Ctx) -> None:
        if self.e.gate(ctx, jobs=False):
            return
        message = self.e.thinking(ctx, ephemeral=True, kind="info")
        await self.e.sleep(1.0)
        account = ctx.account
        self.e.fill(message, embeds=[ui.embed(f"Your info - {account.username}", info_text(account), C.COLOR_INFO)])

    async def set_mode(self, ctx: Ctx) -> None:
        if self.e.gate(ctx, jobs=False):
            return
        account = ctx.account
        mode = ctx.name
        if mode == "relax" and not account.relax_allowed:
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
        """Deferred (flags 64|128), then the panel as an edit of that message."""
        if self.e.gate(ctx, jobs=False):
            return
        await self.deferred_reply(
            ctx,
            kind="settings",
            content=self.settings_content(ctx),
            components=ui.settings_rows(ctx.bot_key, ctx.account, self.bot_settings(ctx)),
        )

    async def prefer(self, ctx: Ctx) -> None:
        """Deferred (flags 64|128), then the answer as an edit; a refused value gets its notice at once instead."""
        if self.e.gate(ctx, jobs=False):
            return
        answer = self._prefer(ctx)
        if answer is not None:
            await self.deferred_reply(ctx, content=answer)

    def _prefer(self, ctx: Ctx) -> str | None:
        """Apply a /prefer sub-command; its answer, or None when the bot refused (its notice is sent)."""
        settings = self.bot_settings(ctx)
        sub = ctx.name.split(" ", 1)[1] if " " in ctx.name else ""
        if sub == "remix":
            settings.remix = not settings.remix
            if settings.remix:
                return (
                    "Remix mode turned on! Clicking V1-V4, Vary, reroll or a pan button now lets you edit the prompt."
                )
            return "Remix mode turned off!"
        if sub == "variability":
            settings.high_variability = not settings.high_variability
            return f"High variability mode turned {'on' if settings.high_variability else 'off'}!"
        if sub == "auto_dm":
            settings.auto_dm = not settings.auto_dm
            return f"Auto DM turned {'on' if settings.auto_dm else 'off'}!"
        if sub == "suffix":
            value = normalise(str(ctx.options.get("new_value") or ""))
            if not value:
                settings.suffix = ""
                return "Custom suffix removed."
            try:
                parse_prompt("x " + value, bot_key=ctx.bot_key)
            except PromptError as error:
                self.e.notice(ctx, error.title, error.description)
                return None
            settings.suffix = value
            return f"Custom suffix saved: `{value}`"
        if sub == "option set":
            name = str(ctx.options.get("option", "")).strip().lstrip("-").lower()
            value = normalise(str(ctx.options.get("value") or ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                self.e.notice(ctx, C.TITLE_INVALID_PARAMETER, "Option names use letters, digits and `_` only.")
                return None
            if not value:
                settings.options.pop(name, None)
                return f"Custom option `--{name}` deleted."
            settings.options[name] = value
            return f"Custom option `--{name}` set to `{value}`"
        if sub == "option list":
            if not settings.options:
                return "You have no custom options."
            lines = "\n".join(f"`--{k}`: {v}" for k, v in sorted(settings.options.items()))
            return f"Your custom options:\n{lines}"
        return "Please pick a preference to change."

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
        components = self.e.result_rows(job)
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

    async def on_reaction(self, account: Account, record: MessageRecord, emoji: str) -> None:
        """✉️ on a job message: the bot DMs the job id and seed (protocol doc section 1.7)."""
        job = record.job
        if emoji not in ("✉️", "✉") or job is None or job.status != "succeeded":
            return
        if str(record.data.get("author", {}).get("id")) != job.app.id:
            return
        await self.e.sleep(1.0)
        await self.send_dm(account, job, content=f"**Job ID**: {job.id}\n**seed** {job.seed}")


def _colour_from(text: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(text.encode()).digest()
    return digest[0], digest[1], digest[2]


INFO_COLUMN = 32  # the bot pads every `**Key**:` so the values start in one column (2024-26 samples)


def info_text(account: Account) -> str:
    """The /info embed description in the real format: `**Key**:` padded with spaces to column 32, then the value
    (protocol doc section 3.4; samples of 2024 and later). A trial account shows `None (Trial)`, no Job Mode line and
    its fast time in minutes (`25.00 minutes`)."""
    plan_name = PLANS[account.plan][0]
    trial = account.plan == "trial"
    if trial:
        subscription = "None (Trial)"
    elif account.subscription_active:
        subscription = f"{plan_name} (Active monthly, renews next on <t:{account.renews_at}>)"
    else:
        subscription = "None"
    total = account.fast_hours_total
    remaining = account.fast_remaining_hours
    percent = (remaining / total * 100.0) if total > 0 else 0.0
    queued_fast = sum(1 for j in account.queued if j.mode != "relax")
    queued_relax = sum(1 for j in account.queued if j.mode == "relax")
    running = len(account.running)
    fast_time = f"{remaining * 60:.2f} minutes" if trial else f"{remaining:.2f}/{total:.1f} hours ({percent:.2f}%)"
    lines: list[tuple[str, str] | None] = [
        ("Subscription", subscription),
        None if trial else ("Job Mode", account.mode.capitalize()),
        ("Visibility Mode", "Stealth" if account.stealth else "Public"),
        ("Fast Time Remaining", fast_time),
        ("Lifetime Usage", f"{account.lifetime_images} images ({account.lifetime_seconds / 3600:.2f} hours)"),
        ("Relaxed Usage", f"{account.relaxed_images} images ({account.relaxed_seconds / 3600:.2f} hours)"),
        ("", ""),
        ("Queued Jobs (fast)", str(queued_fast)),
        ("Queued Jobs (relax)", str(queued_relax)),
        ("Running Jobs", str(running) if running else "None"),
    ]
    out = []
    for line in lines:
        if line is not None:
            key, value = line
            out.append(f"{f'**{key}**:':<{INFO_COLUMN}}{value}" if key else "")
    return "\n".join(out)
