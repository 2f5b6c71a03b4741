"""Parse and render component custom_ids and modal ids with the grammar of the action table (``actions.py``).

Parsing never raises: anything unknown becomes ``ButtonAction.UNKNOWN`` / ``ModalKind.UNKNOWN`` keeping the raw text,
and ``render()`` of a parsed known id gives back the exact original string.
"""

from __future__ import annotations

import functools
from typing import cast

from pydantic import BaseModel, ConfigDict

from mjapi.midjourney.actions import (
    ACTIONS,
    MODAL_SPECS,
    MODALS,
    SPECS,
    ActionSpec,
    ButtonAction,
    ModalKind,
    PanDirection,
    fill_template,
)

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_OUTPAINT_ZOOM = {50: 2.0, 75: 1.5, 100: 1.0}


class CustomId(BaseModel):
    """A parsed button custom_id. ``raw`` is the original text; ``render()`` rebuilds it from the fields."""

    model_config = _FROZEN

    action: ButtonAction
    raw: str
    job_hash: str | None = None
    index: int | None = None  # image 1..4 (0 for reroll), or prompt number for describe/shorten
    direction: PanDirection | None = None
    outpaint_percent: int | None = None  # Zoom Out: 50 -> 2x, 75 -> 1.5x, 100 -> Make Square
    model: str | None = None  # model tag of v5+ upscales: v5, v6, v6r1, v7
    variant: str | None = None  # free part of other upscales and animate (high, low)
    solo: bool = False  # the "::SOLO" suffix of single-image buttons
    setting: str | None = None  # MJ::Settings::<setting>
    template: str | None = None  # the grammar it matched

    @property
    def spec(self) -> ActionSpec:
        return SPECS[self.action]

    @property
    def zoom_factor(self) -> float | None:
        """Zoom factor of ``MJ::Outpaint`` buttons: 50% -> 2.0, 75% -> 1.5, 100% -> 1.0 (100 / percent otherwise)."""
        if self.outpaint_percent is None or self.outpaint_percent <= 0:
            return None
        return _OUTPAINT_ZOOM.get(self.outpaint_percent, round(100 / self.outpaint_percent, 3))

    def render(self) -> str:
        """The custom_id text for these fields (equal to ``raw`` for anything parsed from a known form)."""
        if self.template is None:
            return self.raw
        return fill_template(
            self.template,
            {
                "index": self.index,
                "hash": self.job_hash,
                "solo": self.solo,
                "model": self.model,
                "direction": self.direction,
                "percent": self.outpaint_percent,
                "variant": self.variant,
                "setting": self.setting,
            },
        )


def _parse_with(spec: ActionSpec, raw: str) -> CustomId | None:
    for template, pattern in zip(spec.templates, spec.patterns, strict=True):
        found = pattern.match(raw)
        if found is None:
            continue
        groups = {k: v for k, v in found.groupdict().items() if v is not None}
        percent = groups.get("percent", spec.fixed.get("percent"))
        return CustomId(
            action=spec.action,
            raw=raw,
            job_hash=groups.get("hash"),
            index=int(groups["index"]) if "index" in groups else None,
            direction=cast("PanDirection | None", groups.get("direction")),  # the pattern admits only the four
            outpaint_percent=int(percent) if percent is not None else None,
            model=groups.get("model"),
            variant=groups.get("variant"),
            solo="solo" in groups,
            setting=groups.get("setting"),
            template=template,
        )
    return None


def parse_custom_id(custom_id: object) -> CustomId:
    """Parse any component custom_id; never raises (unknown or malformed text gives ``ButtonAction.UNKNOWN``).

    Parsed ids are immutable and remembered: every progress edit of a message repeats its buttons, and a result's
    buttons come back with each restyle, so the relay parses most custom_ids many times."""
    raw = custom_id if isinstance(custom_id, str) else ""
    return _parse_remembered(raw) if len(raw) <= _MAX_ID else _parse(raw)


_MAX_ID = 400


@functools.lru_cache(maxsize=4096)
def _parse_remembered(raw: str) -> CustomId:
    return _parse(raw)


def _parse(raw: str) -> CustomId:
    if raw.startswith("MJ::") and len(raw) <= _MAX_ID:
        for spec in ACTIONS:
            parsed = _parse_with(spec, raw)
            if parsed is not None:
                return parsed
    upper = raw.upper()
    for spec in ACTIONS:
        if spec.matcher and spec.matcher in upper:
            return CustomId(action=spec.action, raw=raw)
    return CustomId(action=ButtonAction.UNKNOWN, raw=raw)


def render_custom_id(action: ButtonAction, **values: str | int | bool | None) -> str:
    """The custom_id of ``action`` with these values (``hash``, ``index``, ``solo``, ``model``...): how the simulator
    draws its buttons. Raises ``ValueError`` when the action has no grammar or a value is missing."""
    spec = SPECS[action]
    if not spec.templates:
        raise ValueError(f"{action.value} has no custom_id grammar")
    merged: dict[str, str | int | bool | None] = {**spec.fixed, **values}
    rendered = fill_template(spec.templates[0], merged)
    if parse_custom_id(rendered).action is not action:
        raise ValueError(f"{rendered!r} does not parse back as {action.value}")
    return rendered


# ---------------------------------------------------------------- modals


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
    template: str | None = None

    @property
    def text_input_id(self) -> str | None:
        """custom_id of the modal's text input, needed in the modal-submit payload."""
        spec = MODAL_SPECS.get(self.kind)
        return spec.text_input_id if spec else None

    def render(self) -> str:
        """The modal custom_id for these fields (equal to ``raw`` for anything parsed from a known form)."""
        if self.template is None:
            return self.raw
        return fill_template(
            self.template,
            {
                "hash": self.job_hash,
                "index": self.index,
                "direction": self.direction,
                "strong": self.strong,
                "message_id": self.message_id,
                "token": self.token,
            },
        )


def parse_modal_id(custom_id: object) -> ModalId:
    """Parse a modal custom_id (from INTERACTION_MODAL_CREATE / IFRAME_MODAL_CREATE); never raises."""
    raw = custom_id if isinstance(custom_id, str) else ""
    if raw.startswith("MJ::") and len(raw) <= 400:
        for spec in MODALS:
            found = spec.pattern.match(raw)
            if found is None:
                continue
            groups = {k: v for k, v in found.groupdict().items() if v is not None}
            return ModalId(
                kind=spec.kind,
                raw=raw,
                job_hash=groups.get("hash"),
                index=int(groups["index"]) if "index" in groups else None,
                direction=cast("PanDirection | None", groups.get("direction")),
                strong=groups["strong"] == "1" if "strong" in groups else None,
                message_id=groups.get("message_id"),
                token=groups.get("token"),
                template=spec.template,
            )
    return ModalId(kind=ModalKind.UNKNOWN, raw=raw)


def render_modal_id(kind: ModalKind, **values: str | int | bool | None) -> str:
    """The custom_id of a modal of ``kind`` (the simulator's modals; the first grammar of that kind)."""
    spec = MODAL_SPECS[kind]
    return fill_template(spec.template, values)
