"""Turn gateway dispatches and REST message objects into typed events. Pure, total: never raises.

Order of recognition for a bot message (protocol notes §3-4): seed DM; embeds (a known error/notice title first,
whatever command it answers, then /info, shorten, describe, then other error/warning-coloured embeds); the /settings
panel; ``Done!`` mode replies; the remix toggle; the job line grammar; ``Failed...`` content; anything else is
:class:`Unrecognized`. Messages whose author is a known non-bot user are ``Unrecognized("not_from_bot")``
(peers drop events whose author is not the bot: ET, NZ ``UserMessageListener``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mjapi.midjourney import content as lines
from mjapi.midjourney._json import as_int, as_list, as_map, as_str, as_text, walk_components
from mjapi.midjourney.actions import NOISE_ACTIONS, ButtonAction, JobAction
from mjapi.midjourney.constants import DEFAULT_BOT_IDS, LOADING_FLAG, bot_kind
from mjapi.midjourney.custom_ids import parse_custom_id, parse_modal_id
from mjapi.midjourney.embeds import footer_prompt, numbered_prompts, paragraph_prompts, parse_info
from mjapi.midjourney.hashes import hash_from_custom_id, hash_from_url
from mjapi.midjourney.models import (
    Button,
    Correlation,
    Deferred,
    DescribeResult,
    Event,
    IframeModalCreated,
    Image,
    InfoResult,
    InteractionCreated,
    InteractionFailed,
    InteractionSucceeded,
    JobMode,
    JobPaused,
    JobProgress,
    JobResult,
    JobStarted,
    JobStopped,
    MessageDeleted,
    ModalCreated,
    ModeSwitched,
    Notice,
    Rated,
    RemixToggled,
    SeedResult,
    Select,
    SelectOption,
    SettingsResult,
    ShortenResult,
    TextInput,
    Unrecognized,
)
from mjapi.midjourney.notices import (
    FAILED_CONTENT_RULE,
    AccountIssue,
    NoticeKind,
    NoticeRule,
    classify_title,
    severity_of,
)

MESSAGE_EVENTS = frozenset({"MESSAGE_CREATE", "MESSAGE_UPDATE"})
#: Every dispatch type the parser turns into an event; anything else is ``Unrecognized("unhandled_dispatch")``.
HANDLED_DISPATCHES = MESSAGE_EVENTS | frozenset(
    {
        "MESSAGE_DELETE",
        "INTERACTION_CREATE",
        "INTERACTION_SUCCESS",
        "INTERACTION_FAILURE",
        "INTERACTION_MODAL_CREATE",
        "INTERACTION_IFRAME_MODAL_CREATE",
    }
)
_EXCERPT = 300
_SHORTEN_FOOTER = "click on a button to imagine"
_MODES: tuple[JobMode, ...] = ("fast", "relax", "turbo")


def parse_dispatch(t: object, d: object, *, bot_ids: frozenset[str] = DEFAULT_BOT_IDS) -> Event:
    """One gateway dispatch (``t``, ``d``) -> one event."""
    source = t if isinstance(t, str) and t else "UNKNOWN"
    try:
        return _dispatch(source, d, bot_ids)
    except Exception as exc:  # pragma: no cover - defensive net; the property tests keep this unreachable
        return Unrecognized(correlation=Correlation(source=source), reason=f"parser_error:{type(exc).__name__}")


def parse_message(message: object, *, source: str = "REST", bot_ids: frozenset[str] = DEFAULT_BOT_IDS) -> Event:
    """A Discord message object (REST ``GET /messages`` item, or a MESSAGE_CREATE/UPDATE ``d``) -> one event."""
    try:
        return _message(source, message, bot_ids)
    except Exception as exc:  # pragma: no cover - defensive net
        return Unrecognized(correlation=Correlation(source=source), reason=f"parser_error:{type(exc).__name__}")


def parse_payload(payload: object, *, bot_ids: frozenset[str] = DEFAULT_BOT_IDS) -> Event:
    """Either a gateway frame ``{"op":0,"t":...,"d":...}`` / ``{"t":...,"d":...}`` or a bare message object."""
    data = as_map(payload)
    if "t" in data and "d" in data:
        if data.get("op", 0) != 0:
            return Unrecognized(correlation=Correlation(source="UNKNOWN"), reason="not_a_dispatch")
        return parse_dispatch(data.get("t"), data.get("d"), bot_ids=bot_ids)
    return parse_message(payload, bot_ids=bot_ids)


# ---------------------------------------------------------------- dispatch


def _dispatch(source: str, d: object, bot_ids: frozenset[str]) -> Event:
    if source in MESSAGE_EVENTS:
        return _message(source, d, bot_ids)
    data = as_map(d)
    app_id = as_str(data.get("application_id")) or as_str(as_map(data.get("application")).get("id"))
    corr = Correlation(
        source=source,
        channel_id=as_str(data.get("channel_id")),
        guild_id=as_str(data.get("guild_id")),
        nonce=as_str(data.get("nonce")),
        interaction_id=as_str(data.get("id")) if source.startswith("INTERACTION_") else None,
        message_id=as_str(data.get("id")) if source == "MESSAGE_DELETE" else None,
        application_id=app_id,
        bot=bot_kind(app_id),
    )
    ident, nonce = as_str(data.get("id")), as_str(data.get("nonce"))
    if source == "MESSAGE_DELETE":
        return MessageDeleted(correlation=corr, id=ident)
    if source == "INTERACTION_CREATE":
        return InteractionCreated(correlation=corr, id=ident, nonce=nonce)
    if source == "INTERACTION_SUCCESS":
        return InteractionSucceeded(correlation=corr, id=ident, nonce=nonce)
    if source == "INTERACTION_FAILURE":
        return InteractionFailed(correlation=corr, id=ident, nonce=nonce, reason_code=as_int(data.get("reason_code")))
    if source == "INTERACTION_MODAL_CREATE":
        return _modal(corr, data)
    if source == "INTERACTION_IFRAME_MODAL_CREATE":
        return _iframe(corr, data)
    return Unrecognized(correlation=corr, reason="unhandled_dispatch")


def _modal(corr: Correlation, data: Mapping[str, Any]) -> ModalCreated:
    custom_id = as_str(data.get("custom_id"))
    inputs = tuple(
        TextInput(
            custom_id=as_text(c.get("custom_id")),
            label=as_str(c.get("label")),
            value=as_str(c.get("value")),
            required=c.get("required") if isinstance(c.get("required"), bool) else None,
        )
        for c in walk_components(data.get("components"))
        if as_int(c.get("type")) == 4 and as_str(c.get("custom_id"))
    )
    components = tuple(c for c in as_list(data.get("components")) if _is_json(c))
    modal = parse_modal_id(custom_id)
    return ModalCreated(
        correlation=corr.model_copy(update={"job_hash": modal.job_hash}),
        id=as_str(data.get("id")),
        nonce=as_str(data.get("nonce")),
        custom_id=custom_id,
        title=as_str(data.get("title")),
        modal=modal,
        text_inputs=inputs,
        components=components,
    )


def _iframe(corr: Correlation, data: Mapping[str, Any]) -> IframeModalCreated:
    custom_id = as_str(data.get("custom_id"))
    path, title = as_str(data.get("iframe_path")), as_str(data.get("title"))
    purpose: Any = "unknown"
    if "captcha" in (path or "").lower() or "action required" in (title or "").lower():
        purpose = "captcha"  # NZ CaptchaEmbeddedHandler; TA "Action required to continue"
    elif (custom_id or "").startswith("MJ::iframe::"):
        purpose = "inpaint"
    return IframeModalCreated(
        correlation=corr,
        id=as_str(data.get("id")),
        nonce=as_str(data.get("nonce")),
        custom_id=custom_id,
        title=title,
        iframe_path=path,
        modal_size=as_int(data.get("modal_size")),
        modal=parse_modal_id(custom_id),
        purpose=purpose,
    )


def _is_json(value: object, depth: int = 0) -> bool:
    """True for plain JSON values (the only thing a ``JsonValue`` field accepts), with bounded depth."""
    if depth > 20:
        return False
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_is_json(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v, depth + 1) for k, v in value.items())
    return False


# ---------------------------------------------------------------- messages


def _correlation(source: str, msg: Mapping[str, Any]) -> dict[str, Any]:
    """The message's correlation keys, as ``Correlation`` fields (the model is built once, with the job hash)."""
    interaction = as_map(msg.get("interaction"))
    metadata = as_map(msg.get("interaction_metadata"))
    reference = as_map(msg.get("message_reference"))
    referenced = as_map(msg.get("referenced_message"))
    author = as_map(msg.get("author"))
    author_id = as_str(author.get("id"))
    app_id = as_str(msg.get("application_id")) or (author_id if bot_kind(author_id) else None)
    user_id = (
        as_str(as_map(metadata.get("user")).get("id"))
        or as_str(metadata.get("user_id"))
        or as_str(as_map(interaction.get("user")).get("id"))
    )
    return {
        "source": source,
        "channel_id": as_str(msg.get("channel_id")),
        "guild_id": as_str(msg.get("guild_id")),
        "message_id": as_str(msg.get("id")),
        "nonce": as_str(msg.get("nonce")),
        "interaction_id": as_str(metadata.get("id")) or as_str(interaction.get("id")),
        "interaction_name": as_str(metadata.get("name")) or as_str(interaction.get("name")),
        "interaction_type": as_int(metadata.get("type")) or as_int(interaction.get("type")),
        "user_id": user_id,
        "referenced_message_id": (
            as_str(reference.get("message_id"))
            or as_str(referenced.get("id"))
            or as_str(metadata.get("interacted_message_id"))  # a button's job: the message the button was on
        ),
        "referenced_job_hash": _message_hash(referenced),
        "flags": as_int(msg.get("flags")) or 0,
        "author_id": author_id,
        "application_id": app_id,
        "bot": bot_kind(app_id),
        "webhook_id": as_str(msg.get("webhook_id")),
    }


def _message_hash(msg: Mapping[str, Any]) -> str | None:
    """Job UUID of a (referenced) message: from its custom_ids, else its attachment names."""
    for comp in walk_components(msg.get("components")):
        found = hash_from_custom_id(comp.get("custom_id"))
        if found:
            return found
    for attachment in map(as_map, as_list(msg.get("attachments"))):
        found = hash_from_url(as_str(attachment.get("filename"))) or hash_from_url(as_str(attachment.get("url")))
        if found:
            return found
    return None


def _image(raw: object, *, url_key: str = "url") -> Image | None:
    data = as_map(raw)
    url = as_str(data.get(url_key))
    if not url:
        return None
    filename = as_str(data.get("filename"))
    return Image(
        url=url,
        proxy_url=as_str(data.get("proxy_url")),
        filename=filename,
        width=as_int(data.get("width")),
        height=as_int(data.get("height")),
        content_type=as_str(data.get("content_type")),
        size=as_int(data.get("size")),
        attachment_id=as_str(data.get("id")),
        job_hash=hash_from_url(filename) or hash_from_url(url),
    )


def _components(msg: Mapping[str, Any]) -> tuple[list[Button], list[Select]]:
    """Buttons (with the row they sit in) and selects. Link buttons (style 5: the "Web" button to midjourney.com)
    carry a url and no custom_id: they are not actions and are left out. Unknown component fields (``id``...) are
    ignored."""
    buttons: list[Button] = []
    selects: list[Select] = []
    leaves = ((row, comp) for row, top in enumerate(as_list(msg.get("components"))) for comp in walk_components([top]))
    for row, comp in leaves:
        kind, custom_id = as_int(comp.get("type")), as_str(comp.get("custom_id"))
        if custom_id is None:
            continue  # link buttons (style 5) carry a url, not an action
        if kind == 2:
            parsed = parse_custom_id(custom_id)
            emoji = as_map(comp.get("emoji"))
            buttons.append(
                Button(
                    custom_id=custom_id,
                    label=as_str(comp.get("label")),
                    emoji=as_str(emoji.get("name")),
                    style=as_int(comp.get("style")),
                    disabled=comp.get("disabled") is True,
                    row=row,
                    action=parsed.action,
                    parsed=parsed,
                )
            )
        elif kind in (3, 4, 5, 6, 7, 8):
            options = tuple(
                SelectOption(
                    label=as_str(o.get("label")),
                    value=as_text(o.get("value")),
                    description=as_str(o.get("description")),
                    default=o.get("default") is True,
                )
                for o in map(as_map, as_list(comp.get("options")))
                if as_str(o.get("value"))
            )
            selects.append(Select(custom_id=custom_id, placeholder=as_str(comp.get("placeholder")), options=options))
    return buttons, selects


def _message(source: str, message: object, bot_ids: frozenset[str]) -> Event:
    msg = as_map(message)
    if not msg:
        return Unrecognized(correlation=Correlation(source=source), reason="not_a_message")
    fields = _correlation(source, msg)
    if fields["author_id"] is not None and fields["author_id"] not in bot_ids:
        return Unrecognized(
            correlation=Correlation(**fields), reason="not_from_bot", content=as_text(msg.get("content"))[:_EXCERPT]
        )
    all_buttons, selects = _components(msg)
    buttons = tuple(b for b in all_buttons if b.action not in NOISE_ACTIONS)
    attachments = tuple(img for img in map(_image, as_list(msg.get("attachments"))) if img is not None)
    images = tuple(a for a in attachments if not a.is_video)
    videos = tuple(a for a in attachments if a.is_video)
    text = as_text(msg.get("content"))
    job_line = lines.parse_job_line(text)
    job_hash = (
        next((b.parsed.job_hash.lower() for b in buttons if b.parsed.job_hash), None)
        or next((img.job_hash for img in attachments if img.job_hash), None)
        or (job_line.job_link_hash if job_line else None)
    )
    fields["user_id"] = fields["user_id"] or (job_line.user_id if job_line else None)
    corr = Correlation(**fields, job_hash=job_hash)
    ctx = _Ctx(corr=corr, msg=msg, text=text, buttons=buttons, selects=tuple(selects), images=images, videos=videos)
    if corr.flags & LOADING_FLAG and not text.strip() and not as_list(msg.get("embeds")):
        return Deferred(correlation=corr, command=corr.interaction_name)
    for recognise in (_seed, _rated, _embed_event, _settings, _content_reply):
        event = recognise(ctx)
        if event is not None:
            return event
    if job_line is not None:
        return _job_event(ctx, job_line)
    if text.lstrip().startswith("Failed"):
        return _notice(ctx, FAILED_CONTENT_RULE, title=None, description=text, color=None, footer=None)
    if (corr.interaction_name or "").lower() == "describe":
        return JobStarted(correlation=corr, action=JobAction.DESCRIBE)
    return Unrecognized(correlation=corr, reason="unknown_message", content=text[:_EXCERPT] or None)


class _Ctx:
    """What the recognisers share about one message."""

    __slots__ = ("buttons", "corr", "images", "msg", "name", "selects", "text", "videos")

    def __init__(
        self,
        *,
        corr: Correlation,
        msg: Mapping[str, Any],
        text: str,
        buttons: tuple[Button, ...],
        selects: tuple[Select, ...],
        images: tuple[Image, ...],
        videos: tuple[Image, ...] = (),
    ) -> None:
        self.corr, self.msg, self.text = corr, msg, text
        self.buttons, self.selects, self.images, self.videos = buttons, selects, images, videos
        self.name = (corr.interaction_name or "").lower()


def _seed(ctx: _Ctx) -> Event | None:
    found = lines.parse_seed(ctx.text)
    if found is None:
        return None
    job_hash, seed = found
    return SeedResult(correlation=ctx.corr.model_copy(update={"job_hash": job_hash}), job_hash=job_hash, seed=seed)


def _rated(ctx: _Ctx) -> Event | None:
    """The reply to a ❤️ (bookmark/rating) button: feedback on a finished job, not a result."""
    found = lines.parse_rated(ctx.text)
    if found is None:
        return None
    job_hash, text = found
    corr = ctx.corr.model_copy(update={"job_hash": job_hash or ctx.corr.job_hash})
    return Rated(correlation=corr, job_hash=job_hash, text=text)


def _embed_event(ctx: _Ctx) -> Event | None:
    embeds = [as_map(e) for e in as_list(ctx.msg.get("embeds")) if as_map(e)]
    if not embeds:
        return None
    embed = embeds[0]
    title, description = as_str(embed.get("title")), as_str(embed.get("description"))
    color = as_int(embed.get("color"))
    footer = as_str(as_map(embed.get("footer")).get("text"))
    rule = classify_title(title, color)
    known_notice = rule is not None and rule.kind not in (NoticeKind.UNKNOWN_ERROR, NoticeKind.UNKNOWN_WARNING)
    if rule is not None and known_notice:  # an explicit error title wins whatever command it answers
        return _notice(ctx, rule, title=title, description=description, color=color, footer=footer)
    if "your info" in (title or "").lower() or (ctx.name == "info" and description and "**" in description):
        return InfoResult(correlation=ctx.corr, title=title, info=parse_info(description))
    prompts = numbered_prompts(description)
    if ctx.name == "shorten" or _SHORTEN_FOOTER in (footer or "").lower():
        return ShortenResult(correlation=ctx.corr, prompts=prompts, description=description, buttons=ctx.buttons)
    image = _image(embed.get("image"))
    if not prompts and any(b.action is ButtonAction.DESCRIBE_IMAGINE for b in ctx.buttons):
        prompts = paragraph_prompts(description)  # unnumbered prompts under the describe buttons
    if ctx.name == "describe" or (image is not None and prompts and rule is None):
        if not prompts:
            return JobStarted(correlation=ctx.corr, action=JobAction.DESCRIBE)
        return DescribeResult(correlation=ctx.corr, prompts=prompts, image=image, buttons=ctx.buttons)
    if rule is not None:
        return _notice(ctx, rule, title=title, description=description, color=color, footer=footer)
    return None


def _notice(
    ctx: _Ctx,
    rule: NoticeRule,
    *,
    title: str | None,
    description: str | None,
    color: int | None,
    footer: str | None,
) -> Notice:
    severity = severity_of(color)
    if severity == "info" and color is None:
        severity = "error" if rule.fails_job else "info"
    if rule.kind is NoticeKind.MODERATION and any(b.action is ButtonAction.CAPTCHA for b in ctx.buttons):
        # "Action needed to continue" is both the moderation appeal and the human check; the MJ::Captcha button
        # tells them apart (BK checkAction treats MJ::Captcha buttons as a captcha).
        rule = NoticeRule(NoticeKind.CAPTCHA, fails_job=True, account_issue=AccountIssue.CAPTCHA)
    return Notice(
        correlation=ctx.corr,
        notice=rule.kind,
        severity=severity,
        fails_job=rule.fails_job,
        account_issue=rule.account_issue,
        title=title,
        description=description,
        color=color,
        footer=footer,
        prompt=footer_prompt(footer),
        buttons=ctx.buttons,
    )


def _settings(ctx: _Ctx) -> Event | None:
    setting_buttons = [b for b in ctx.buttons if b.action is ButtonAction.SETTING]
    if ctx.name != "settings" and not setting_buttons:
        return None

    def state(*fragments: str) -> bool | None:
        for button in setting_buttons:
            name = (button.parsed.setting or "").lower()
            if any(fragment in name for fragment in fragments):
                return button.style == 3
        return None

    mode: JobMode | None = None
    for candidate in _MODES:
        if state(f"{candidate}mode", f"{candidate}_mode") is True:
            mode = candidate
    return SettingsResult(
        correlation=ctx.corr,
        buttons=ctx.buttons,
        selects=ctx.selects,
        enabled=tuple(b.label or b.custom_id for b in setting_buttons if b.style == 3),
        remix=state("remixmode", "remix"),
        mode=mode,
        high_variability=state("highvariabilitymode"),
        raw_style=state("style::raw"),
    )


def _content_reply(ctx: _Ctx) -> Event | None:
    stripped = ctx.text.strip()
    if stripped.startswith("Done!"):
        return ModeSwitched(
            correlation=ctx.corr, mode=lines.mode_from_switch_reply(stripped, ctx.corr.interaction_name), text=stripped
        )
    toggled = lines.parse_remix_toggle(stripped)
    if toggled is not None:
        return RemixToggled(correlation=ctx.corr, enabled=toggled, text=stripped)
    return None


def _button_job(corr: Correlation, buttons: tuple[Button, ...]) -> bool:
    """A message about the job of a button pressed on another message: it replies to that message (type 19 with
    ``message_reference``), a button interaction made it, or it is an ephemeral message offering Cancel Job."""
    if corr.referenced_message_id is not None or corr.interaction_type == 3:
        return True
    return corr.ephemeral and any(b.action is ButtonAction.CANCEL_JOB for b in buttons)


def _job_event(ctx: _Ctx, line: lines.JobLine) -> Event:
    action: JobAction | None = JobAction(line.kind)
    if action is JobAction.IMAGINE and ctx.name == "blend":
        action = JobAction.BLEND
    finished = line.status == "done" and (ctx.images or ctx.videos)
    if ctx.videos and finished:
        action = JobAction.VIDEO  # an Animate result: whatever its wording, the mp4 says what it is
    elif finished and action is JobAction.IMAGINE and lines.is_video_prompt(line.prompt):
        action = JobAction.VIDEO  # Animate's grid: one animated WebP of four videos, worded like an imagine
    elif action is JobAction.IMAGINE and not finished and _button_job(ctx.corr, ctx.buttons):
        # Today's bot words a button job's waiting/progress message like an imagine; which button it was is for the
        # correlator to find under the referenced message (a reroll is the only imagine-worded button result).
        action = None
    common: dict[str, Any] = {
        "correlation": ctx.corr,
        "action": action,
        "prompt": line.prompt,
        "mode": line.mode,
        "stealth": line.stealth,
        "variant": line.variant,
        "direction": line.direction,
        "index": line.index,
        "remix": line.remix,
        "buttons": ctx.buttons,
    }
    if line.status == "waiting":
        return JobStarted(**common)
    if line.status == "stopped":
        return JobStopped(**common)
    if line.status == "paused":
        return JobPaused(**common)
    if not finished:
        # A finished-looking line without an image is not a result a job could succeed on: report it as progress.
        preview = ctx.images[0] if ctx.images else None
        return JobProgress(**common, percent=line.percent, preview=preview)
    return JobResult(**common, images=ctx.images, videos=ctx.videos)
