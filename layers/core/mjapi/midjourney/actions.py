"""Every Midjourney button, defined once: its custom_id grammar, what pressing it produces, whether it opens a form,
and its names in both APIs. The parser, the correlator, the applier, the API views and the simulator's buttons all
derive from :data:`ACTIONS`; no other module spells a custom_id.

Facts (docs/PROTOCOL.md §3.3 and §1.4, source key in docs/SOURCES.md; TA ``ApiParams/upscale_buttons.json``, TA
``DiscordService.cs``, ET ``toRemixCustom``, YK ``lib/api/discord.py``; the midjourney-proxy names from
docs/MIDJOURNEY_PROXY_API.md §6).

A grammar is a template: ``{index}``, ``{hash}``, ``{solo}`` (the optional ``::SOLO`` suffix of single-image buttons),
``{model}`` (``v6``, ``v6r1``, ``v7``...), ``{direction}``, ``{percent}``, ``{variant}``, ``{setting}``; modal
templates add ``{strong}``, ``{message_id}`` and ``{token}``. The first entry whose template matches wins, so the
specific forms come before the catch-alls (Make Square before Zoom Out, the named upscales before other upscales).

To add an action: one :class:`ActionSpec` below, the simulator's behaviour for it, and tests (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Literal

PanDirection = Literal["left", "right", "up", "down"]
PAN_DIRECTIONS: tuple[PanDirection, ...] = ("left", "right", "up", "down")


class ButtonAction(StrEnum):
    """What a Midjourney button does, normalised across model versions. The value is the action's name in
    mjapi's own API."""

    UPSAMPLE = "upsample"  # U1..U4 on a grid: pick one image
    VARIATION = "variation"  # V1..V4 on a grid
    REROLL = "reroll"
    UPSCALE_SUBTLE = "upscale_subtle"
    UPSCALE_CREATIVE = "upscale_creative"
    UPSCALE_2X = "upscale_2x"
    UPSCALE_4X = "upscale_4x"
    UPSCALE_OTHER = "upscale_other"  # upsample_max, upsample_beta, future variants
    VARY_SUBTLE = "vary_subtle"
    VARY_STRONG = "vary_strong"
    VARY_REGION = "vary_region"
    MAKE_SQUARE = "make_square"
    ZOOM_OUT = "zoom_out"
    CUSTOM_ZOOM = "custom_zoom"
    PAN = "pan"
    ANIMATE = "animate"
    ANIMATE_EXTEND = "animate_extend"  # Extend (High/Low motion) under a finished video
    VIDEO_UPSCALE = "video_upscale"  # U1..U4 under Animate's video grid: one of the four videos, as an mp4
    DESCRIBE_IMAGINE = "describe_imagine"  # describe result button n -> imagine prompt n
    DESCRIBE_IMAGINE_ALL = "describe_imagine_all"
    DESCRIBE_RETRY = "describe_retry"
    SHORTEN_IMAGINE = "shorten_imagine"  # shorten result button n -> imagine prompt n
    SHORTEN_DETAILS = "shorten_details"
    CANCEL_JOB = "cancel_job"
    SETTING = "setting"
    RATING = "rating"
    BOOKMARK = "bookmark"
    CAPTCHA = "captcha"
    UNKNOWN = "unknown"


class JobAction(StrEnum):
    """Which kind of job a bot message is about (its job line, ``content.py``), and what a button's job produces."""

    IMAGINE = "imagine"  # a 2x2 grid from /imagine, reroll, or a described/shortened prompt
    BLEND = "blend"
    VARIATION = "variation"
    UPSCALE = "upscale"
    PAN = "pan"
    ZOOM = "zoom"
    DESCRIBE = "describe"
    SHORTEN = "shorten"
    VIDEO = "video"


class Opens(StrEnum):
    """What Discord shows before the job starts."""

    NOTHING = "nothing"  # the click starts the job
    FORM_IF_REMIX = "form_if_remix"  # with Remix mode on, an edit-prompt modal first
    FORM = "form"  # always a modal (custom zoom, describe/shorten prompts)
    EDITOR = "editor"  # the Vary (Region) iframe: mask + prompt go to the activity host


class ModalKind(StrEnum):
    """The modal (or iframe) a button opens."""

    REMIX = "remix"
    PAN = "pan"
    CUSTOM_ZOOM = "custom_zoom"
    IMAGINE = "imagine"  # reroll with remix, shorten prompts
    PICREADER = "picreader"  # describe prompts
    IFRAME = "iframe"  # Vary Region editor, captcha
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ModalSpec:
    """A modal's custom_id grammar and the custom_id of its text input (TA ApiParams remix/zoom/picreader.json; ET
    ModalSubmitID constants)."""

    kind: ModalKind
    template: str
    text_input_id: str | None

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return compile_template(self.template)


MODALS: tuple[ModalSpec, ...] = (
    # {strong}: 0 = subtle/low, 1 = strong/high (TA: low_variation -> 0, high_variation -> 1); older bots omit it
    ModalSpec(ModalKind.REMIX, "MJ::RemixModal::{hash}::{index}::{strong}", "MJ::RemixModal::new_prompt"),
    ModalSpec(ModalKind.REMIX, "MJ::RemixModal::{hash}::{index}", "MJ::RemixModal::new_prompt"),
    ModalSpec(ModalKind.PAN, "MJ::PanModal::{direction}::{hash}::{index}", "MJ::PanModal::prompt"),
    ModalSpec(ModalKind.CUSTOM_ZOOM, "MJ::OutpaintCustomZoomModal::{hash}", "MJ::OutpaintCustomZoomModal::prompt"),
    ModalSpec(ModalKind.IMAGINE, "MJ::ImagineModal::{message_id}", "MJ::ImagineModal::new_prompt"),
    ModalSpec(ModalKind.PICREADER, "MJ::Picreader::Modal::{index}", "MJ::Picreader::Modal::PromptField"),
    ModalSpec(ModalKind.IFRAME, "MJ::iframe::{token}", None),
)


@dataclass(frozen=True)
class ActionSpec:
    """One button of the bot.

    ``result`` is the kind of job line its result carries (``None``: the click makes no job); ``upscaled`` says the
    result is one upscaled image; ``proxy_action`` is the midjourney-proxy ``TaskAction`` of the job it makes;
    ``modal`` is the form it opens when it opens one; ``charged`` says the job costs the caller one use.
    """

    action: ButtonAction
    templates: tuple[str, ...]
    result: JobAction | None = None
    proxy_action: str | None = None
    upscaled: bool = False
    opens: Opens = Opens.NOTHING
    modal: ModalKind | None = None
    charged: bool = True
    noise: bool = False  # feedback buttons (rating, bookmark): not actions a client presses
    matcher: str | None = None  # a substring test for buttons without a fixed grammar (rating, bookmark, captcha)
    fixed: dict[str, str | int] = field(default_factory=dict)  # values a template spells literally (Zoom: percent)

    @cached_property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(compile_template(t) for t in self.templates)

    @property
    def makes_job(self) -> bool:
        return self.result is not None

    def opens_form(self, *, remix: bool) -> bool:
        """Whether pressing it shows a modal or the region editor before a job starts."""
        return self.opens in (Opens.FORM, Opens.EDITOR) or (self.opens is Opens.FORM_IF_REMIX and remix)


_SOLO_JOB = "::{index}::{hash}{solo}"

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        ButtonAction.UPSAMPLE,
        ("MJ::JOB::upsample" + _SOLO_JOB,),
        result=JobAction.UPSCALE,
        proxy_action="UPSCALE",
        upscaled=True,
    ),
    ActionSpec(
        ButtonAction.VARIATION,
        ("MJ::JOB::variation" + _SOLO_JOB,),
        result=JobAction.VARIATION,
        proxy_action="VARIATION",
        opens=Opens.FORM_IF_REMIX,
        modal=ModalKind.REMIX,
    ),
    ActionSpec(
        ButtonAction.REROLL,
        ("MJ::JOB::reroll" + _SOLO_JOB,),
        result=JobAction.IMAGINE,
        proxy_action="REROLL",
        opens=Opens.FORM_IF_REMIX,
        modal=ModalKind.IMAGINE,
    ),
    ActionSpec(
        ButtonAction.UPSCALE_SUBTLE,
        ("MJ::JOB::upsample_{model}_2x_subtle" + _SOLO_JOB,),
        result=JobAction.UPSCALE,
        proxy_action="UPSCALE",
        upscaled=True,
    ),
    ActionSpec(
        ButtonAction.UPSCALE_CREATIVE,
        ("MJ::JOB::upsample_{model}_2x_creative" + _SOLO_JOB,),
        result=JobAction.UPSCALE,
        proxy_action="UPSCALE",
        upscaled=True,
    ),
    ActionSpec(
        ButtonAction.UPSCALE_2X,
        ("MJ::JOB::upsample_{model}_2x" + _SOLO_JOB,),
        result=JobAction.UPSCALE,
        proxy_action="UPSCALE",
        upscaled=True,
    ),
    ActionSpec(
        ButtonAction.UPSCALE_4X,
        ("MJ::JOB::upsample_{model}_4x" + _SOLO_JOB,),
        result=JobAction.UPSCALE,
        proxy_action="UPSCALE",
        upscaled=True,
    ),
    ActionSpec(
        ButtonAction.UPSCALE_OTHER,
        ("MJ::JOB::upsample_{variant}" + _SOLO_JOB,),
        result=JobAction.UPSCALE,
        proxy_action="UPSCALE",
        upscaled=True,
    ),
    ActionSpec(
        ButtonAction.VARY_SUBTLE,
        ("MJ::JOB::low_variation" + _SOLO_JOB,),
        result=JobAction.VARIATION,
        proxy_action="VARIATION",
        opens=Opens.FORM_IF_REMIX,
        modal=ModalKind.REMIX,
    ),
    ActionSpec(
        ButtonAction.VARY_STRONG,
        ("MJ::JOB::high_variation" + _SOLO_JOB,),
        result=JobAction.VARIATION,
        proxy_action="VARIATION",
        opens=Opens.FORM_IF_REMIX,
        modal=ModalKind.REMIX,
    ),
    ActionSpec(
        ButtonAction.VARY_REGION,
        ("MJ::Inpaint" + _SOLO_JOB,),
        result=JobAction.VARIATION,
        proxy_action="INPAINT",
        opens=Opens.EDITOR,
        modal=ModalKind.IFRAME,
    ),
    ActionSpec(
        ButtonAction.MAKE_SQUARE,  # an outpaint to 1:1: "Zoom Out" at 100 %
        ("MJ::Outpaint::100" + _SOLO_JOB,),
        result=JobAction.ZOOM,
        proxy_action="ZOOM",
        fixed={"percent": 100},
    ),
    ActionSpec(
        ButtonAction.ZOOM_OUT,  # percent 50 -> Zoom Out 2x, 75 -> 1.5x
        ("MJ::Outpaint::{percent}" + _SOLO_JOB,),
        result=JobAction.ZOOM,
        proxy_action="ZOOM",
    ),
    ActionSpec(
        ButtonAction.CUSTOM_ZOOM,
        ("MJ::CustomZoom::{hash}",),
        result=JobAction.ZOOM,
        proxy_action="CUSTOM_ZOOM",
        opens=Opens.FORM,
        modal=ModalKind.CUSTOM_ZOOM,
    ),
    ActionSpec(
        ButtonAction.PAN,
        ("MJ::JOB::pan_{direction}" + _SOLO_JOB,),
        result=JobAction.PAN,
        proxy_action="PAN",
        opens=Opens.FORM_IF_REMIX,
        modal=ModalKind.PAN,
    ),
    ActionSpec(
        # Extend (High motion) / (Low motion) under a finished video: `MJ::JOB::animate_high_extend::1::<video uuid>`,
        # no ::SOLO (TA SetVideoExtendButtons; live captures of 2026). Before Animate, whose {variant} would take it.
        ButtonAction.ANIMATE_EXTEND,
        ("MJ::JOB::animate_{variant}_extend" + _SOLO_JOB,),
        result=JobAction.VIDEO,
        proxy_action="VIDEO_EXTEND",
    ),
    ActionSpec(
        # U1..U4 under Animate's result, an animated WebP grid of four videos:
        # `MJ::JOB::video_virtual_upscale::2::<uuid>` (TA SetVideoUpscaleButtons, labels U1-U4, beside a reroll; live
        # captures of 2026 described by public clients). Its result is that video alone, an mp4 under Extend.
        ButtonAction.VIDEO_UPSCALE,
        ("MJ::JOB::video_virtual_upscale" + _SOLO_JOB,),
        result=JobAction.VIDEO,
        proxy_action="UPSCALE",
        upscaled=True,
    ),
    ActionSpec(
        ButtonAction.ANIMATE,  # v7 Animate (High motion) / (Low motion): `MJ::JOB::animate_high::1::<uuid>::SOLO`
        ("MJ::JOB::animate_{variant}" + _SOLO_JOB,),
        result=JobAction.VIDEO,
        proxy_action="VIDEO",
    ),
    ActionSpec(
        ButtonAction.DESCRIBE_IMAGINE,
        ("MJ::Job::PicReader::{index}",),
        result=JobAction.IMAGINE,
        proxy_action="IMAGINE",
        opens=Opens.FORM,
        modal=ModalKind.PICREADER,
    ),
    ActionSpec(
        ButtonAction.DESCRIBE_IMAGINE_ALL,  # one imagine per described prompt: four jobs, not one
        ("MJ::Job::PicReader::all",),
        proxy_action="IMAGINE",
    ),
    ActionSpec(
        ButtonAction.DESCRIBE_RETRY,
        ("MJ::Picread::Retry",),
        result=JobAction.DESCRIBE,
        proxy_action="DESCRIBE",
    ),
    ActionSpec(
        ButtonAction.SHORTEN_IMAGINE,
        ("MJ::Job::PromptAnalyzer::{index}",),
        result=JobAction.IMAGINE,
        proxy_action="IMAGINE",
        opens=Opens.FORM,
        modal=ModalKind.IMAGINE,
    ),
    ActionSpec(ButtonAction.SHORTEN_DETAILS, ("MJ::Job::PromptAnalyzerExtended",), charged=False),
    ActionSpec(ButtonAction.CANCEL_JOB, ("MJ::CancelJob::ByJobid::{hash}",), charged=False),
    ActionSpec(ButtonAction.SETTING, ("MJ::Settings::{setting}",), charged=False),
    ActionSpec(ButtonAction.RATING, (), charged=False, noise=True, matcher="::RATING::"),
    ActionSpec(ButtonAction.BOOKMARK, ("MJ::BOOKMARK::{hash}",), charged=False, noise=True, matcher="MJ::BOOKMARK"),
    ActionSpec(ButtonAction.CAPTCHA, (), charged=False, matcher="MJ::CAPTCHA"),
    ActionSpec(ButtonAction.UNKNOWN, (), charged=False),
)

SPECS: dict[ButtonAction, ActionSpec] = {spec.action: spec for spec in ACTIONS}
MODAL_SPECS: dict[ModalKind, ModalSpec] = {}
for _modal in MODALS:
    MODAL_SPECS.setdefault(_modal.kind, _modal)

#: Buttons that are feedback rather than actions (HP filters ``::RATING::``; TA skips ``MJ::BOOKMARK``).
NOISE_ACTIONS = frozenset(spec.action for spec in ACTIONS if spec.noise)

_HASH = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PLACEHOLDERS: dict[str, str] = {
    "index": r"(?P<index>\d{1,6})",
    "hash": rf"(?P<hash>{_HASH})",
    "solo": r"(?P<solo>::SOLO)?",
    "model": r"(?P<model>v\d+(?:r\d+)?)",
    "direction": r"(?P<direction>left|right|up|down)",
    "percent": r"(?P<percent>\d{1,3})",
    "variant": r"(?P<variant>[A-Za-z0-9_]+)",
    "setting": r"(?P<setting>[^:]+(?:::[^:]+)*)",
    "strong": r"(?P<strong>[01])",
    "message_id": r"(?P<message_id>\d{1,25})",
    "token": r"(?P<token>.+)",
}
_FIELD = re.compile(r"\{(\w+)\}")


def compile_template(template: str) -> re.Pattern[str]:
    """The regular expression of a custom_id template (literal text escaped, placeholders typed)."""
    pieces: list[str] = []
    last = 0
    for found in _FIELD.finditer(template):
        pieces.append(re.escape(template[last : found.start()]))
        pieces.append(_PLACEHOLDERS[found.group(1)])
        last = found.end()
    pieces.append(re.escape(template[last:]))
    return re.compile("^" + "".join(pieces) + r"\Z")


def fill_template(template: str, values: dict[str, str | int | bool | None]) -> str:
    """A template with its placeholders replaced (``solo`` is a flag: ``::SOLO`` or nothing)."""

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name == "solo":
            return "::SOLO" if values.get("solo") else ""
        item = values.get(name)
        if item is None:
            raise ValueError(f"{template} needs a value for {{{name}}}")
        return str(int(item)) if isinstance(item, bool) else str(item)

    return _FIELD.sub(value, template)
