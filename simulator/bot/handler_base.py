"""What command, button and modal handlers share: prompt parsing with the bot's refusals, job requests derived from a
finished job, the describe fill-in, the settings text and DMs."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from mjapi.midjourney.custom_ids import CustomId, ModalId
from simulator import constants as C
from simulator.bot import texts, ui
from simulator.bot.grammar import grammar
from simulator.bot.types import BotServices, Ctx, JobRequest
from simulator.ids import derive_rng, derive_seed
from simulator.images import outpaint_ratio, reduce_ratio
from simulator.prompts import (
    DEFAULT_MJ_VERSION,
    DEFAULT_NIJI_VERSION,
    ParsedPrompt,
    PromptError,
    find_banned,
    normalise,
    parse_prompt,
    words_of,
)
from simulator.state import Account, BotSettings, Job, MessageRecord

JSON = dict[str, Any]
CommandHandler = Callable[[Ctx], Awaitable[None]]
ButtonHandler = Callable[[Ctx, CustomId], Awaitable[None]]  # gets the clicked custom_id, parsed
ModalHandler = Callable[[Ctx, ModalId], Awaitable[None]]  # gets the submitted modal's custom_id, parsed

# Simulated seconds between a deferred reply's "thinking" message and its answer, for answers that need no work.
DEFER_SECONDS = 0.5


def default_version(bot_key: str) -> str:
    return DEFAULT_NIJI_VERSION if bot_key == "niji" else DEFAULT_MJ_VERSION


def split_display(prompt: str) -> tuple[str, list[tuple[str, str]]]:
    """(text, [(alias, value)]) of an echoed prompt (`a fox --ar 3:2 --raw` -> `a fox`, [(ar, 3:2), (raw, "")])."""
    found = re.search(r"(^|\s)--", prompt)
    if found is None:
        return prompt, []
    params = []
    for chunk in re.split(r"(?:^|\s)--", prompt[found.start() :].strip()):
        if chunk.strip():
            alias, _, value = chunk.strip().partition(" ")
            params.append((alias, value.strip()))
    return prompt[: found.start()].strip(), params


def join_display(text: str, params: list[tuple[str, str]]) -> str:
    return " ".join([text, *(f"--{alias} {value}" if value else f"--{alias}" for alias, value in params)]).strip()


def rewrite_ratio(prompt: str, ratio: tuple[int, int]) -> str:
    """The prompt a pan echoes: its `--ar` dropped and the new canvas's appended (`--ar 1:1` -> `... --ar 3:2`)."""
    text, params = split_display(prompt)
    kept = [(alias, value) for alias, value in params if alias.lower() not in ("ar", "aspect")]
    return join_display(text, [*kept, ("ar", f"{ratio[0]}:{ratio[1]}")])


def video_prompt(prompt: str, motion: str, ratio: tuple[int, int]) -> str:
    """The prompt an Animate job echoes (2026 capture): version, `--ar` and `--no` dropped, then `--motion high|low
    --video 1 --aspect W:H` appended (`a bird --ar 1:1 --v 7 --raw` -> `a bird --raw --motion high --video 1
    --aspect 1:1`)."""
    text, params = split_display(prompt)
    dropped = {"ar", "aspect", "v", "version", "no", "niji", "motion", "video"}
    kept = [(alias, value) for alias, value in params if alias.lower() not in dropped]
    w, h = reduce_ratio(*ratio)
    return join_display(text, [*kept, ("motion", motion), ("video", "1"), ("aspect", f"{w}:{h}")])


def replace_param(prompt: str, name: str, value: str) -> str:
    """The prompt with `--name`'s value replaced (appended when absent)."""
    text, params = split_display(prompt)
    if any(alias == name for alias, _ in params):
        return join_display(text, [(alias, value if alias == name else old) for alias, old in params])
    return join_display(text, [*params, (name, value)])


class HandlerBase:
    def __init__(self, engine: BotServices) -> None:
        self.e = engine
        self.world = engine.world

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
                suffix=settings.settings_suffix(default_version(ctx.bot_key)),
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

    def job_for(self, ctx: Ctx, job_id: str | None) -> Job | None:
        job = self.world.jobs.get(job_id or "")
        if job is None or job.status != "succeeded":
            self.e.notice(ctx, C.TITLE_INVALID_REQUEST, "This job is no longer available.")
            return None
        return job

    def child(self, parent: Job, kind: str, label: str, label_done: str | None = None, **changes: Any) -> JobRequest:
        """A job made from a finished one (same prompt, ratio and version unless `changes` say otherwise)."""
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

    def pan_request(self, job: Job, direction: str, prompt: str, message: MessageRecord | None) -> JobRequest:
        """A pan; from the 2025 grammar on, the echoed prompt carries the panned canvas's `--ar` (2026 capture)."""
        ratio = outpaint_ratio(job.ar, pan=direction)
        if grammar(job.version).era >= 2025:
            prompt = rewrite_ratio(prompt, ratio)
        return self.child(
            job,
            "pan",
            f"Pan {direction.capitalize()} by",
            pan=direction,
            ar=ratio,
            prompt=prompt,
            words=words_of(prompt.split(" --")[0]),
            parent_message=message,
        )

    async def fill_describe(self, message: MessageRecord) -> None:
        """Turn a deferred describe message into its four prompts (deterministic per image and retry)."""
        extra = message.extra
        rng = derive_rng(self.e.config.seed, "describe", extra["key"], extra["retries"])
        await self.e.sleep(rng.uniform(4.0, 8.0))
        red, green, blue = extra["colour"]
        if extra.get("modern"):
            prompts = texts.describe_prompts_2025(rng, (red, green, blue))
            separator = texts.DESCRIBE_SEPARATOR_2025
        else:
            prompts = texts.describe_prompts(rng, (red, green, blue), extra["width"], extra["height"])
            separator = "\n\n"
        extra["prompts"] = prompts
        image = {
            "url": extra["image_url"],
            "proxy_url": extra["image_url"],
            "width": extra["width"],
            "height": extra["height"],
        }
        description = ui.embed(None, texts.describe_description(prompts, separator), C.COLOR_INFO)
        description["image"] = image
        self.e.fill(message, embeds=[description], components=ui.describe_rows())

    async def deferred_reply(
        self,
        ctx: Ctx,
        *,
        ephemeral: bool = True,
        kind: str = "reply",
        content: str = "",
        components: list[JSON] | None = None,
    ) -> MessageRecord:
        """Answer the way the bot answers /settings and /prefer: "thinking" first, then the answer as an edit of that
        message (see `BotServices.thinking` and `fill`)."""
        message = self.e.thinking(ctx, ephemeral=ephemeral, kind=kind)
        await self.e.sleep(DEFER_SECONDS)
        self.e.fill(message, content=content, components=components or [])
        return message

    def settings_content(self, ctx: Ctx) -> str:
        suffix = self.bot_settings(ctx).settings_suffix("")
        return f"Adjust your settings here. Current suffix: `  {suffix}`"

    async def send_dm(self, account: Account, job: Job, *, content: str) -> MessageRecord:
        channel = self.world.channels[account.dm_channel_ids[job.app.key]]
        attachment = await self.e.image_attachment(channel.id, job.image, self.e.filename(job))
        return self.e.post(job.app, channel, content=content, attachments=[attachment], job=job, kind="dm")
