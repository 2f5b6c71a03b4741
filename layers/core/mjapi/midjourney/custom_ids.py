"""The grammar of Midjourney component custom_ids and modal ids: parse, build, and which modal a button opens.

Facts (protocol notes §3.3 and §1.4; TA ``ApiParams/upscale_buttons.json``, TA ``DiscordService.cs`` remix/pan
conversion, ET ``toRemixCustom``, YK ``lib/api/discord.py``):

* grid ``MJ::JOB::upsample::{1-4}::H``, ``MJ::JOB::variation::{1-4}::H``, ``MJ::JOB::reroll::0::H::SOLO``;
* single image ``MJ::JOB::upsample_v6_2x_subtle::1::H::SOLO`` (also ``v6r1``/``v7``, ``_creative``,
  ``v5_2x``/``v5_4x``),
  ``MJ::JOB::low_variation::1::H::SOLO``, ``MJ::JOB::high_variation::1::H::SOLO``, ``MJ::Inpaint::1::H::SOLO``,
  ``MJ::Outpaint::{50|75}::1::H::SOLO``, ``MJ::CustomZoom::H``, ``MJ::JOB::pan_{left,right,up,down}::1::H::SOLO``;
* describe ``MJ::Job::PicReader::{1-4|all}`` and ``MJ::Picread::Retry``; shorten ``MJ::Job::PromptAnalyzer::{n}``;
  settings ``MJ::Settings::...``; noise ``...::RATING::...``, ``MJ::BOOKMARK...``; captcha ``MJ::Captcha...``.
* modals: ``MJ::RemixModal::H::i::{0|1}`` (0 = subtle/low, 1 = strong/high; TA converts ``low_variation`` to 0 and
  ``high_variation`` to 1, and grid V buttons follow the account's High Variability setting),
  ``MJ::PanModal::dir::H::i``,
  ``MJ::OutpaintCustomZoomModal::H``, ``MJ::ImagineModal::<message id>``, ``MJ::Picreader::Modal::n``,
  ``MJ::iframe::<token>`` (Vary Region, delivered as INTERACTION_IFRAME_MODAL_CREATE).

Parsing never raises: anything unknown becomes ``ButtonAction.UNKNOWN`` / ``ModalKind.UNKNOWN`` keeping the raw text,
and ``render()`` of a parsed known id gives back the exact original string.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mjapi.midjourney.hashes import is_job_hash

PanDirection = Literal["left", "right", "up", "down"]
PAN_DIRECTIONS: tuple[PanDirection, ...] = ("left", "right", "up", "down")


class ButtonAction(StrEnum):
    """What a Midjourney button does, normalised across model versions."""

    UPSAMPLE = "upsample"  # U1..U4 on a grid: pick one image
    VARIATION = "variation"  # V1..V4 on a grid, or the solo "Make Variations"
    REROLL = "reroll"
    UPSCALE_SUBTLE = "upscale_subtle"
    UPSCALE_CREATIVE = "upscale_creative"
    UPSCALE_2X = "upscale_2x"
    UPSCALE_4X = "upscale_4x"
    UPSCALE_OTHER = "upscale_other"  # upsample_max, upsample_beta, future variants
    VARY_SUBTLE = "vary_subtle"
    VARY_STRONG = "vary_strong"
    VARY_REGION = "vary_region"
    ZOOM_OUT = "zoom_out"
    CUSTOM_ZOOM = "custom_zoom"
    PAN = "pan"
    DESCRIBE_IMAGINE = "describe_imagine"  # describe result button n -> imagine prompt n
    DESCRIBE_IMAGINE_ALL = "describe_imagine_all"
    DESCRIBE_RETRY = "describe_retry"
    SHORTEN_IMAGINE = "shorten_imagine"  # shorten result button n -> imagine prompt n
    SETTING = "setting"
    RATING = "rating"
    BOOKMARK = "bookmark"
    CAPTCHA = "captcha"
    UNKNOWN = "unknown"


#: Buttons that are feedback/noise rather than job actions (HP filters ``::RATING::``; TA treats ``MJ::BOOKMARK``).
NOISE_ACTIONS = frozenset({ButtonAction.RATING, ButtonAction.BOOKMARK})

UpscaleKind = Literal["subtle", "creative", "2x", "4x"]
VaryStrength = Literal["subtle", "strong", "region"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

_UPSCALE_RE = re.compile(r"^upsample_(?P<model>v\d+(?:r\d+)?)_(?P<scale>\dx)(?:_(?P<style>subtle|creative))?$")
_OUTPAINT_ZOOM = {50: 2.0, 75: 1.5}


class CustomId(BaseModel):
    """A parsed button custom_id. ``raw`` is the original text; ``render()`` rebuilds it from the fields."""

    model_config = _FROZEN

    action: ButtonAction
    raw: str
    job_hash: str | None = None
    index: int | None = None  # image 1..4 (0 for reroll), or prompt number for describe/shorten
    direction: PanDirection | None = None
    outpaint_percent: int | None = None  # Zoom Out: 50 -> 2x, 75 -> 1.5x
    variant: str | None = None  # JOB sub-name for upscales, e.g. "upsample_v6r1_2x_subtle"
    solo: bool = False  # the "::SOLO" suffix of single-image buttons
    setting: str | None = None  # MJ::Settings::<setting>

    @property
    def zoom_factor(self) -> float | None:
        """Zoom Out factor for ``MJ::Outpaint`` buttons: 50% -> 2.0, 75% -> 1.5 (100 / percent otherwise)."""
        if self.outpaint_percent is None or self.outpaint_percent <= 0:
            return None
        return _OUTPAINT_ZOOM.get(self.outpaint_percent, round(100 / self.outpaint_percent, 3))

    @property
    def upscale_model(self) -> str | None:
        """Model tag of a v5+ upscale button (``v6``, ``v6r1``, ``v7``, ``v5``)."""
        found = _UPSCALE_RE.match(self.variant or "")
        return found.group("model") if found else None

    def render(self) -> str:
        """The custom_id text for these fields (equal to ``raw`` for anything parsed from a known form)."""
        return _render(self)


def _solo(parts: list[str], expected_len: int) -> bool | None:
    """``True``/``False`` when ``parts`` has the expected length with/without ``::SOLO``; ``None`` otherwise."""
    if len(parts) == expected_len:
        return False
    if len(parts) == expected_len + 1 and parts[-1] == "SOLO":
        return True
    return None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 6 else None


def _parse_job(raw: str, parts: list[str]) -> CustomId | None:
    """``MJ::JOB::<name>::<index>::<hash>[::SOLO]``."""
    solo = _solo(parts, 5)
    if solo is None or not is_job_hash(parts[4]):
        return None
    name, index, job_hash = parts[2], _int(parts[3]), parts[4]
    if index is None:
        return None
    common: dict[str, Any] = {"raw": raw, "job_hash": job_hash, "index": index, "solo": solo}
    if name == "upsample":
        return CustomId(action=ButtonAction.UPSAMPLE, **common)
    if name == "variation":
        return CustomId(action=ButtonAction.VARIATION, **common)
    if name == "reroll":
        return CustomId(action=ButtonAction.REROLL, **common)
    if name == "low_variation":
        return CustomId(action=ButtonAction.VARY_SUBTLE, **common)
    if name == "high_variation":
        return CustomId(action=ButtonAction.VARY_STRONG, **common)
    if name.startswith("pan_") and name[4:] in PAN_DIRECTIONS:
        return CustomId(action=ButtonAction.PAN, direction=name[4:], **common)
    if name.startswith("upsample_"):
        found = _UPSCALE_RE.match(name)
        if found is None:
            action = ButtonAction.UPSCALE_OTHER
        elif found.group("style") == "subtle":
            action = ButtonAction.UPSCALE_SUBTLE
        elif found.group("style") == "creative":
            action = ButtonAction.UPSCALE_CREATIVE
        else:
            action = ButtonAction.UPSCALE_4X if found.group("scale") == "4x" else ButtonAction.UPSCALE_2X
        return CustomId(action=action, variant=name, **common)
    return None


def _parse_known(raw: str, parts: list[str]) -> CustomId | None:
    head = parts[1] if len(parts) > 1 else ""
    if head == "JOB" and len(parts) >= 5:
        return _parse_job(raw, parts)
    if head == "Inpaint" and len(parts) >= 4:
        solo, index = _solo(parts, 4), _int(parts[2])
        if solo is not None and index is not None and is_job_hash(parts[3]):
            return CustomId(action=ButtonAction.VARY_REGION, raw=raw, index=index, job_hash=parts[3], solo=solo)
    if head == "Outpaint" and len(parts) >= 5:
        solo, percent, index = _solo(parts, 5), _int(parts[2]), _int(parts[3])
        if solo is not None and percent is not None and index is not None and is_job_hash(parts[4]):
            return CustomId(
                action=ButtonAction.ZOOM_OUT,
                raw=raw,
                outpaint_percent=percent,
                index=index,
                job_hash=parts[4],
                solo=solo,
            )
    if head == "CustomZoom" and len(parts) == 3 and is_job_hash(parts[2]):
        return CustomId(action=ButtonAction.CUSTOM_ZOOM, raw=raw, job_hash=parts[2])
    if head == "Job" and len(parts) == 4 and parts[2] == "PicReader":
        if parts[3] == "all":
            return CustomId(action=ButtonAction.DESCRIBE_IMAGINE_ALL, raw=raw)
        if (number := _int(parts[3])) is not None:
            return CustomId(action=ButtonAction.DESCRIBE_IMAGINE, raw=raw, index=number)
    if head == "Job" and len(parts) == 4 and parts[2] == "PromptAnalyzer" and (number := _int(parts[3])) is not None:
        return CustomId(action=ButtonAction.SHORTEN_IMAGINE, raw=raw, index=number)
    if raw == "MJ::Picread::Retry":
        return CustomId(action=ButtonAction.DESCRIBE_RETRY, raw=raw)
    if head == "Settings" and len(parts) >= 3 and all(parts[2:]):
        return CustomId(action=ButtonAction.SETTING, raw=raw, setting="::".join(parts[2:]))
    return None


def parse_custom_id(custom_id: object) -> CustomId:
    """Parse any component custom_id; never raises (unknown or malformed text gives ``ButtonAction.UNKNOWN``)."""
    raw = custom_id if isinstance(custom_id, str) else ""
    parts = raw.split("::")
    if parts[0] == "MJ":
        known = _parse_known(raw, parts)
        if known is not None:
            return known
    upper = raw.upper()
    if "::RATING::" in upper:
        return CustomId(action=ButtonAction.RATING, raw=raw)
    if upper.startswith("MJ::BOOKMARK") or "::BOOKMARK" in upper:
        return CustomId(action=ButtonAction.BOOKMARK, raw=raw)
    if upper.startswith("MJ::CAPTCHA"):
        return CustomId(action=ButtonAction.CAPTCHA, raw=raw)
    return CustomId(action=ButtonAction.UNKNOWN, raw=raw)


def _render(cid: CustomId) -> str:
    solo = "::SOLO" if cid.solo else ""
    h, i = cid.job_hash, cid.index
    match cid.action:
        case ButtonAction.UPSAMPLE:
            return f"MJ::JOB::upsample::{i}::{h}{solo}"
        case ButtonAction.VARIATION:
            return f"MJ::JOB::variation::{i}::{h}{solo}"
        case ButtonAction.REROLL:
            return f"MJ::JOB::reroll::{i}::{h}{solo}"
        case (
            ButtonAction.UPSCALE_SUBTLE
            | ButtonAction.UPSCALE_CREATIVE
            | ButtonAction.UPSCALE_2X
            | ButtonAction.UPSCALE_4X
            | ButtonAction.UPSCALE_OTHER
        ):
            return f"MJ::JOB::{cid.variant}::{i}::{h}{solo}"
        case ButtonAction.VARY_SUBTLE:
            return f"MJ::JOB::low_variation::{i}::{h}{solo}"
        case ButtonAction.VARY_STRONG:
            return f"MJ::JOB::high_variation::{i}::{h}{solo}"
        case ButtonAction.VARY_REGION:
            return f"MJ::Inpaint::{i}::{h}{solo}"
        case ButtonAction.ZOOM_OUT:
            return f"MJ::Outpaint::{cid.outpaint_percent}::{i}::{h}{solo}"
        case ButtonAction.CUSTOM_ZOOM:
            return f"MJ::CustomZoom::{h}"
        case ButtonAction.PAN:
            return f"MJ::JOB::pan_{cid.direction}::{i}::{h}{solo}"
        case ButtonAction.DESCRIBE_IMAGINE:
            return f"MJ::Job::PicReader::{i}"
        case ButtonAction.DESCRIBE_IMAGINE_ALL:
            return "MJ::Job::PicReader::all"
        case ButtonAction.DESCRIBE_RETRY:
            return "MJ::Picread::Retry"
        case ButtonAction.SHORTEN_IMAGINE:
            return f"MJ::Job::PromptAnalyzer::{i}"
        case ButtonAction.SETTING:
            return f"MJ::Settings::{cid.setting}"
        case _:
            return cid.raw


def build_custom_id(
    action: ButtonAction,
    *,
    job_hash: str | None = None,
    index: int | None = None,
    direction: PanDirection | None = None,
    zoom: float | None = None,
    upscale_model: str | None = None,
    setting: str | None = None,
) -> str:
    """Build a button custom_id from its meaning, using the forms Midjourney sends today.

    ``index`` defaults to 1 for single-image buttons (and 0 for reroll); ``zoom`` is 2 or 1.5 for ZOOM_OUT;
    ``upscale_model`` picks the model tag of v5+ upscales (default ``v6`` for Subtle/Creative, ``v5`` for 2x/4x).
    Raises ``ValueError`` when a required piece is missing or malformed.
    """
    needs_hash = action not in {
        ButtonAction.DESCRIBE_IMAGINE,
        ButtonAction.DESCRIBE_IMAGINE_ALL,
        ButtonAction.DESCRIBE_RETRY,
        ButtonAction.SHORTEN_IMAGINE,
        ButtonAction.SETTING,
    }
    if upscale_model is not None and not re.fullmatch(r"v\d+(?:r\d+)?", upscale_model):
        raise ValueError(f"upscale_model must look like v6, v6r1 or v7, got {upscale_model!r}")
    if needs_hash and not is_job_hash(job_hash):
        raise ValueError(f"{action.value} needs a job hash (UUID), got {job_hash!r}")
    fields: dict[str, Any] = {"action": action, "raw": "", "job_hash": job_hash if needs_hash else None}
    if action in {ButtonAction.UPSAMPLE, ButtonAction.VARIATION}:
        if index is None or not 1 <= index <= 4:
            raise ValueError(f"{action.value} needs an image index 1..4")
        fields["index"] = index
    elif action is ButtonAction.REROLL:
        fields.update(index=0 if index is None else index, solo=True)
    elif action in {ButtonAction.UPSCALE_SUBTLE, ButtonAction.UPSCALE_CREATIVE}:
        style = "subtle" if action is ButtonAction.UPSCALE_SUBTLE else "creative"
        fields.update(index=index or 1, solo=True, variant=f"upsample_{upscale_model or 'v6'}_2x_{style}")
    elif action in {ButtonAction.UPSCALE_2X, ButtonAction.UPSCALE_4X}:
        scale = "2x" if action is ButtonAction.UPSCALE_2X else "4x"
        fields.update(index=index or 1, solo=True, variant=f"upsample_{upscale_model or 'v5'}_{scale}")
    elif action in {ButtonAction.VARY_SUBTLE, ButtonAction.VARY_STRONG, ButtonAction.VARY_REGION}:
        fields.update(index=index or 1, solo=True)
    elif action is ButtonAction.ZOOM_OUT:
        percent = {2.0: 50, 1.5: 75}.get(float(zoom or 0))
        if percent is None:
            raise ValueError("zoom_out needs zoom=2 or zoom=1.5")
        fields.update(index=index or 1, solo=True, outpaint_percent=percent)
    elif action is ButtonAction.PAN:
        if direction not in PAN_DIRECTIONS:
            raise ValueError("pan needs a direction: left, right, up or down")
        fields.update(index=index or 1, solo=True, direction=direction)
    elif action in {ButtonAction.DESCRIBE_IMAGINE, ButtonAction.SHORTEN_IMAGINE}:
        if index is None or index < 1:
            raise ValueError(f"{action.value} needs a prompt number >= 1")
        fields["index"] = index
    elif action is ButtonAction.SETTING:
        if not setting:
            raise ValueError("setting needs a setting name")
        fields["setting"] = setting
    elif action in {ButtonAction.RATING, ButtonAction.BOOKMARK, ButtonAction.CAPTCHA, ButtonAction.UNKNOWN}:
        raise ValueError(f"{action.value} custom_ids are not built by clients")
    return _render(CustomId(**fields))


# ---------------------------------------------------------------- modals


class ModalKind(StrEnum):
    """The modal (or iframe) a button opens."""

    REMIX = "remix"  # MJ::RemixModal::H::i::0|1  -> text input MJ::RemixModal::new_prompt
    PAN = "pan"  # MJ::PanModal::dir::H::i     -> MJ::PanModal::prompt
    CUSTOM_ZOOM = "custom_zoom"  # MJ::OutpaintCustomZoomModal::H -> MJ::OutpaintCustomZoomModal::prompt
    IMAGINE = "imagine"  # MJ::ImagineModal::<message id> -> MJ::ImagineModal::new_prompt (reroll, shorten)
    PICREADER = "picreader"  # MJ::Picreader::Modal::n  -> MJ::Picreader::Modal::PromptField (describe)
    IFRAME = "iframe"  # MJ::iframe::<token> (Vary Region editor, captcha)
    UNKNOWN = "unknown"


#: Text-input custom_id of each modal (TA ApiParams remix/zoom/picreader.json; ET ModalSubmitID constants).
TEXT_INPUT_IDS: dict[ModalKind, str] = {
    ModalKind.REMIX: "MJ::RemixModal::new_prompt",
    ModalKind.PAN: "MJ::PanModal::prompt",
    ModalKind.CUSTOM_ZOOM: "MJ::OutpaintCustomZoomModal::prompt",
    ModalKind.IMAGINE: "MJ::ImagineModal::new_prompt",
    ModalKind.PICREADER: "MJ::Picreader::Modal::PromptField",
}


class ModalId(BaseModel):
    """A parsed modal custom_id."""

    model_config = _FROZEN

    kind: ModalKind
    raw: str
    job_hash: str | None = None
    index: int | None = None
    direction: PanDirection | None = None
    strong: bool | None = None  # RemixModal suffix: True = ::1 (strong/high), False = ::0, None = legacy (absent)
    message_id: str | None = None  # ImagineModal target message
    token: str | None = None  # iframe token

    @property
    def text_input_id(self) -> str | None:
        """custom_id of the modal's text input, needed in the modal-submit payload."""
        return TEXT_INPUT_IDS.get(self.kind)

    def render(self) -> str:
        """The modal custom_id for these fields (equal to ``raw`` for anything parsed from a known form)."""
        match self.kind:
            case ModalKind.REMIX:
                suffix = "" if self.strong is None else f"::{int(self.strong)}"
                return f"MJ::RemixModal::{self.job_hash}::{self.index}{suffix}"
            case ModalKind.PAN:
                return f"MJ::PanModal::{self.direction}::{self.job_hash}::{self.index}"
            case ModalKind.CUSTOM_ZOOM:
                return f"MJ::OutpaintCustomZoomModal::{self.job_hash}"
            case ModalKind.IMAGINE:
                return f"MJ::ImagineModal::{self.message_id}"
            case ModalKind.PICREADER:
                return f"MJ::Picreader::Modal::{self.index}"
            case ModalKind.IFRAME:
                return f"MJ::iframe::{self.token}"
            case _:
                return self.raw


def parse_modal_id(custom_id: object) -> ModalId:
    """Parse a modal custom_id (from INTERACTION_MODAL_CREATE / IFRAME_MODAL_CREATE); never raises."""
    raw = custom_id if isinstance(custom_id, str) else ""
    p = raw.split("::")
    head = p[1] if len(p) > 1 and p[0] == "MJ" else ""
    if head == "RemixModal" and len(p) in (4, 5) and is_job_hash(p[2]) and (index := _int(p[3])) is not None:
        if len(p) == 4:
            return ModalId(kind=ModalKind.REMIX, raw=raw, job_hash=p[2], index=index)
        if p[4] in ("0", "1"):
            return ModalId(kind=ModalKind.REMIX, raw=raw, job_hash=p[2], index=index, strong=p[4] == "1")
    pan_ok = head == "PanModal" and len(p) == 5 and p[2] in PAN_DIRECTIONS and is_job_hash(p[3])
    if pan_ok and (index := _int(p[4])) is not None:
        return ModalId(kind=ModalKind.PAN, raw=raw, direction=p[2], job_hash=p[3], index=index)
    if head == "OutpaintCustomZoomModal" and len(p) == 3 and is_job_hash(p[2]):
        return ModalId(kind=ModalKind.CUSTOM_ZOOM, raw=raw, job_hash=p[2])
    if head == "ImagineModal" and len(p) == 3 and p[2].isdigit():
        return ModalId(kind=ModalKind.IMAGINE, raw=raw, message_id=p[2])
    if head == "Picreader" and len(p) == 4 and p[2] == "Modal" and (index := _int(p[3])) is not None:
        return ModalId(kind=ModalKind.PICREADER, raw=raw, index=index)
    if head == "iframe" and len(p) >= 3 and "::".join(p[2:]):
        return ModalId(kind=ModalKind.IFRAME, raw=raw, token="::".join(p[2:]))
    return ModalId(kind=ModalKind.UNKNOWN, raw=raw)


class ModalSpec(BaseModel):
    """What clicking a button will open, predicted from its custom_id.

    ``custom_id`` is ``None`` for iframes: their token only arrives with INTERACTION_IFRAME_MODAL_CREATE.
    """

    model_config = _FROZEN

    kind: ModalKind
    custom_id: str | None
    text_input_id: str | None


def modal_for_button(
    custom_id: str | CustomId,
    *,
    remix: bool,
    message_id: str | None = None,
    high_variability: bool = False,
) -> ModalSpec | None:
    """The modal a button opens, or ``None`` when the click starts a job directly.

    ``remix`` is the account's Remix mode (``/prefer remix``, or the ``MJ::Settings::RemixMode`` button being green):
    with it on, V buttons, Vary (Subtle/Strong), pans and reroll open an edit-prompt modal. Custom Zoom, describe and
    shorten number buttons always open one; Vary (Region) always opens the inpainting iframe. ``message_id`` (the
    message carrying the button) is needed for the reroll and shorten ``ImagineModal``; ``high_variability`` (the
    ``MJ::Settings::HighVariabilityMode::1`` state) picks the suffix of grid V buttons, as TA does.
    """
    cid = custom_id if isinstance(custom_id, CustomId) else parse_custom_id(custom_id)
    action, h, index = cid.action, cid.job_hash, cid.index

    def spec(modal: ModalId) -> ModalSpec:
        return ModalSpec(kind=modal.kind, custom_id=modal.render(), text_input_id=modal.text_input_id)

    def imagine_modal() -> ModalSpec:
        if not message_id:
            raise ValueError(f"{action.value} opens MJ::ImagineModal::<message id>: pass message_id")
        return spec(ModalId(kind=ModalKind.IMAGINE, raw="", message_id=message_id))

    if action is ButtonAction.CUSTOM_ZOOM:
        return spec(ModalId(kind=ModalKind.CUSTOM_ZOOM, raw="", job_hash=h))
    if action is ButtonAction.VARY_REGION:
        return ModalSpec(kind=ModalKind.IFRAME, custom_id=None, text_input_id=None)
    if action is ButtonAction.DESCRIBE_IMAGINE:
        return spec(ModalId(kind=ModalKind.PICREADER, raw="", index=index))
    if action is ButtonAction.SHORTEN_IMAGINE:
        return imagine_modal()
    if not remix:
        return None
    if action in {ButtonAction.VARIATION, ButtonAction.VARY_SUBTLE, ButtonAction.VARY_STRONG}:
        strong = high_variability if action is ButtonAction.VARIATION else action is ButtonAction.VARY_STRONG
        return spec(ModalId(kind=ModalKind.REMIX, raw="", job_hash=h, index=index, strong=strong))
    if action is ButtonAction.PAN:
        return spec(ModalId(kind=ModalKind.PAN, raw="", direction=cid.direction, job_hash=h, index=index))
    if action is ButtonAction.REROLL:
        return imagine_modal()
    return None


def build_modal_submit_data(
    modal_interaction_id: str, modal_custom_id: str, text_input_id: str, value: str
) -> dict[str, Any]:
    """The ``data`` object of a type-5 (modal submit) interaction (TA ``remix.json``/``zoom.json``; ET ModalSubmitApi).

    ``modal_interaction_id`` is the id of the INTERACTION_MODAL_CREATE / INTERACTION_SUCCESS that opened the modal.
    """
    return {
        "id": modal_interaction_id,
        "custom_id": modal_custom_id,
        "components": [{"type": 1, "components": [{"type": 4, "custom_id": text_input_id, "value": value}]}],
    }
