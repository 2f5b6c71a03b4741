"""Prompt pre-check: normalise, split into image URLs / text / parameters, validate common parameters.

The API uses this to reject bad prompts with a 4xx *before* spending a Discord job. Rules follow Midjourney's public
parameter documentation (docs.midjourney.com "Parameter List", legacy "Aspect Ratios"; ranges also listed by
third-party guides): ``--ar`` whole numbers ``w:h``; ``--chaos`` 0-100; ``--stylize`` 0-1000; ``--weird`` 0-3000;
``--seed`` 0-4294967295; ``--stop`` 10-100; ``--iw`` 0-3; ``--repeat`` 1-40; ``--quality`` .25/.5/1/2/4;
``--style raw`` (and niji's cute/expressive/original/scenic); unknown parameters are refused by the bot
("Invalid parameter" embeds, protocol notes §3.5), so they are errors here too. Anything this module is unsure
about becomes a *warning*, never an error: a false rejection is worse than letting the bot decide.

Normalisation mirrors what the bot echoes back (seed analysis: Midjourney rewrites ``—`` to ``--`` and collapses
spaces), so normalised prompts also match the bot's content for last-resort correlation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

#: Discord's hard limit for a STRING option of an application command (discord-api-types
#: ``APIApplicationCommandStringOptionBase.max_length``: "maximum of 6000"). /imagine's prompt cannot be longer.
MAX_PROMPT_LENGTH = 6000
#: Discord's limit for a modal text input (``max_length`` up to 4000): prompts sent through Remix/Pan/Zoom modals.
MAX_MODAL_PROMPT_LENGTH = 4000

JobMode = Literal["fast", "relax", "turbo"]
_SPEEDS: tuple[JobMode, ...] = ("fast", "relax", "turbo")

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_WS = re.compile(r"\s+")
_EN_DASH_PARAM = re.compile(r"(?<!\S)\u2013(?=[A-Za-z])")  # "–ar" typed by phone keyboards
_PARAM_START = re.compile(r"(?:^|\s)--(?=[A-Za-z])")
_URL = re.compile(r"^<?(https?://[^\s<>]+)>?$", re.IGNORECASE)
_RATIO = re.compile(r"^(\d{1,5}):(\d{1,5})$")
_INT = re.compile(r"^-?\d{1,12}$")
_FLOAT = re.compile(r"^-?(?:\d{1,6}(?:\.\d{0,6})?|\.\d{1,6})$")


#: Invisible characters that only hide text: zero-width space/non-joiner, word joiner, BOM. (The zero-width joiner
#: stays: it glues emoji sequences together.)
_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff]")
#: Characters a prompt must not carry to Discord: C0/C1 controls other than whitespace, and bidi overrides/isolates
#: that make text display differently from what it says.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def normalize_prompt(text: str) -> str:
    """``—`` -> ``--``, ``–`` before a parameter name -> ``--``, invisible characters dropped, whitespace runs -> one
    space, trimmed. Idempotent."""
    text = _INVISIBLE.sub("", text.replace("\u2014", "--"))
    text = _EN_DASH_PARAM.sub("--", text)
    return _WS.sub(" ", text).strip()


def banned_word(text: str, words: Sequence[str]) -> str | None:
    """The first of ``words`` that ``text`` contains as a whole word (any case), else None."""
    lowered = text.lower()
    for word in words:
        cleaned = word.strip().lower()
        if cleaned and re.search(rf"(?<!\w){re.escape(cleaned)}(?!\w)", lowered):
            return cleaned
    return None


def forbidden_characters(text: str) -> list[str]:
    """The control and bidi-override characters in ``text``, as ``U+XXXX`` (empty when there are none)."""
    return sorted({f"U+{ord(c):04X}" for c in _FORBIDDEN.findall(text)})


class PromptParam(BaseModel):
    """One ``--name value`` parameter. ``name`` is canonical (``ar`` -> ``aspect``); ``alias`` is as written."""

    model_config = _FROZEN

    name: str
    alias: str
    value: str | None = None


class PromptParts(BaseModel):
    model_config = _FROZEN

    image_urls: tuple[str, ...] = ()
    text: str = ""
    params: tuple[PromptParam, ...] = ()

    def get(self, name: str) -> PromptParam | None:
        """The last parameter with canonical ``name`` (the bot keeps the last of duplicates)."""
        found = [param for param in self.params if param.name == name]
        return found[-1] if found else None


class PromptIssue(BaseModel):
    """A structured problem: ``code`` for machines, ``message`` for people."""

    model_config = _FROZEN

    code: str
    message: str
    parameter: str | None = None


class PromptCheck(BaseModel):
    model_config = _FROZEN

    normalized: str
    parts: PromptParts
    errors: tuple[PromptIssue, ...] = ()
    warnings: tuple[PromptIssue, ...] = ()
    aspect_ratio: tuple[int, int] = (1, 1)
    requested_mode: JobMode | None = None
    niji: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------- parameter table

Kind = Literal["flag", "int", "float", "ratio", "choice", "optional_choice", "text", "refs", "optional_text"]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    aliases: tuple[str, ...]
    kind: Kind
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    legacy: bool = False


VERSIONS = ("1", "2", "3", "4", "5", "5.0", "5.1", "5.2", "6", "6.0", "6.1", "7", "7.0", "8", "8.0", "8.1")
NIJI_VERSIONS = ("4", "5", "6", "7")
STYLES = ("raw", "cute", "expressive", "original", "scenic", "4a", "4b", "4c")
QUALITIES = (0.25, 0.5, 1.0, 2.0, 4.0)

_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("aspect", ("ar", "aspect"), "ratio"),
    ParamSpec("version", ("v", "version"), "choice", choices=VERSIONS),
    ParamSpec("niji", ("niji",), "optional_choice", choices=NIJI_VERSIONS),
    ParamSpec("quality", ("q", "quality"), "float", 0.25, 4),
    ParamSpec("stylize", ("s", "stylize"), "int", 0, 1000),
    ParamSpec("chaos", ("c", "chaos"), "int", 0, 100),
    ParamSpec("seed", ("seed", "sameseed"), "int", 0, 4294967295),
    ParamSpec("no", ("no",), "text"),
    ParamSpec("stop", ("stop",), "int", 10, 100),
    ParamSpec("tile", ("tile",), "flag"),
    ParamSpec("weird", ("w", "weird"), "int", 0, 3000),
    ParamSpec("sref", ("sref",), "refs"),
    ParamSpec("cref", ("cref",), "refs"),
    ParamSpec("oref", ("oref",), "refs"),
    ParamSpec("cw", ("cw",), "int", 0, 100),
    ParamSpec("sw", ("sw",), "int", 0, 1000),
    ParamSpec("sv", ("sv",), "int", 1, 6),
    ParamSpec("ow", ("ow",), "int", 1, 1000),
    ParamSpec("iw", ("iw",), "float", 0, 3),
    ParamSpec("exp", ("exp",), "int", 0, 100),
    ParamSpec("style", ("style",), "choice", choices=STYLES),
    ParamSpec("repeat", ("r", "repeat"), "int", 1, 40),
    ParamSpec("personalize", ("p", "personalize"), "optional_text"),
    ParamSpec("relax", ("relax",), "flag"),
    ParamSpec("fast", ("fast",), "flag"),
    ParamSpec("turbo", ("turbo",), "flag"),
    ParamSpec("draft", ("draft",), "flag"),
    ParamSpec("raw", ("raw",), "flag"),
    ParamSpec("public", ("public",), "flag"),
    ParamSpec("stealth", ("stealth",), "flag"),
    ParamSpec("zoom", ("zoom",), "float", 1, 2),
    ParamSpec("video", ("video",), "flag"),
    ParamSpec("motion", ("motion",), "choice", choices=("low", "high")),
    ParamSpec("loop", ("loop",), "flag"),
    ParamSpec("bs", ("bs",), "choice", choices=("1", "2", "4")),
    ParamSpec("end", ("end",), "refs"),
    ParamSpec("hd", ("hd",), "flag", legacy=True),
    ParamSpec("test", ("test",), "flag", legacy=True),
    ParamSpec("testp", ("testp",), "flag", legacy=True),
    ParamSpec("creative", ("creative",), "flag", legacy=True),
    ParamSpec("uplight", ("uplight",), "flag", legacy=True),
    ParamSpec("upbeta", ("upbeta",), "flag", legacy=True),
    ParamSpec("upanime", ("upanime",), "flag", legacy=True),
)
SPECS: dict[str, ParamSpec] = {alias: spec for spec in _SPECS for alias in spec.aliases}


# ---------------------------------------------------------------- splitting


def split_prompt(text: str) -> PromptParts:
    """Split a prompt (normalised first) into leading image URLs, the text, and ``--`` parameters.

    Image prompts must come first (Midjourney docs, "Image Prompts"); parameters go at the end, each ``--name``
    taking the following words as its value until the next ``--name``.
    """
    normalized = normalize_prompt(text)
    start = _PARAM_START.search(normalized)
    head = normalized[: start.start()] if start else normalized
    tail = normalized[start.start() :] if start else ""
    words = head.split(" ") if head else []
    urls: list[str] = []
    while words and (found := _URL.match(words[0])):
        urls.append(found.group(1))
        words.pop(0)
    params: list[PromptParam] = []
    current: list[str] | None = None
    for word in tail.split():
        if word.startswith("--") and len(word) > 2 and word[2].isalpha():
            alias = word[2:]
            current = []
            params.append(PromptParam(name=alias.lower(), alias=alias, value=None))
        elif current is not None:
            current.append(word)
            last = params[-1]
            params[-1] = last.model_copy(update={"value": " ".join(current)})
    canonical = tuple(p.model_copy(update={"name": SPECS[p.name].name}) if p.name in SPECS else p for p in params)
    return PromptParts(image_urls=tuple(urls), text=" ".join(words), params=canonical)


# ---------------------------------------------------------------- validation


def _issue(code: str, message: str, parameter: str | None = None) -> PromptIssue:
    return PromptIssue(code=code, message=message, parameter=parameter)


def _range_text(spec: ParamSpec) -> str:
    def fmt(value: float | None) -> str:
        return "" if value is None else (str(int(value)) if float(value).is_integer() else str(value))

    return f"from {fmt(spec.low)} to {fmt(spec.high)}"


def _check_param(param: PromptParam, spec: ParamSpec) -> tuple[list[PromptIssue], list[PromptIssue]]:
    errors: list[PromptIssue] = []
    warnings: list[PromptIssue] = []
    flag = f"--{param.alias}"
    value = param.value
    if spec.legacy:
        warnings.append(_issue("legacy_parameter", f"{flag} only works with old model versions", spec.name))
    if spec.kind == "flag":
        if value is not None:
            errors.append(_issue("unexpected_value", f"{flag} takes no value (got {value!r})", spec.name))
        return errors, warnings
    if value is None:
        if spec.kind not in ("optional_choice", "optional_text"):
            errors.append(_issue("missing_value", f"{flag} needs a value", spec.name))
        return errors, warnings
    if spec.kind in ("int", "float"):
        pattern = _INT if spec.kind == "int" else _FLOAT
        kind_text = "a whole number" if spec.kind == "int" else "a number"
        if not pattern.match(value):
            errors.append(_issue("invalid_value", f"{flag} must be {kind_text} {_range_text(spec)}", spec.name))
            return errors, warnings
        number = float(value)
        if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
            message = f"{flag} must be {kind_text} {_range_text(spec)} (got {value})"
            errors.append(_issue("out_of_range", message, spec.name))
        elif spec.name == "quality" and number not in QUALITIES:
            warnings.append(_issue("unusual_value", f"{flag} is usually one of .25, .5, 1, 2, 4", spec.name))
    elif spec.kind == "ratio":
        found = _RATIO.match(value)
        if not found or int(found.group(1)) == 0 or int(found.group(2)) == 0:
            message = f"{flag} must be two whole numbers like 16:9 (got {value!r})"
            errors.append(_issue("invalid_value", message, spec.name))
    elif spec.kind in ("choice", "optional_choice"):
        if value.lower() not in spec.choices:
            message = f"{flag} must be one of {', '.join(spec.choices)} (got {value!r})"
            errors.append(_issue("invalid_value", message, spec.name))
    elif spec.kind == "refs":
        for ref in value.split():
            if not (_URL.match(ref) or re.fullmatch(r"(?:\d{1,12}|random)(?:::\d{1,4})?", ref, re.I)):
                errors.append(_issue("invalid_url", f"{flag} needs image URLs or codes (got {ref!r})", spec.name))
    return errors, warnings


def check_prompt(text: str, *, max_length: int = MAX_PROMPT_LENGTH) -> PromptCheck:
    """Normalise and validate a prompt; ``result.ok`` is False when the bot would certainly refuse it."""
    normalized = normalize_prompt(text)
    parts = split_prompt(normalized)
    errors: list[PromptIssue] = []
    warnings: list[PromptIssue] = []
    if forbidden := forbidden_characters(normalized):
        message = f"The prompt contains control or text-direction characters ({', '.join(forbidden[:5])}); remove them."
        errors.append(_issue("control_characters", message))
    if _INVISIBLE.search(text):
        warnings.append(_issue("invisible_characters_removed", "Zero-width characters were removed from the prompt."))
    if not normalized:
        errors.append(_issue("empty_prompt", "The prompt is empty."))
    elif len(normalized) > max_length:
        errors.append(_issue("prompt_too_long", f"The prompt has {len(normalized)} characters; at most {max_length}."))
    if normalized and not parts.text and not parts.image_urls:
        errors.append(_issue("empty_prompt", "The prompt has parameters but no text or image."))
    if len(parts.image_urls) == 1 and not parts.text:
        message = "An image prompt usually needs text or a second image."
        warnings.append(_issue("image_needs_text", message))
    seen: set[str] = set()
    for param in parts.params:
        spec = SPECS.get(param.name)
        if spec is None:
            errors.append(_issue("unknown_parameter", f"Unrecognized parameter --{param.alias}", param.alias))
            continue
        if spec.name in seen:
            warnings.append(_issue("duplicate_parameter", f"--{param.alias} is given more than once", spec.name))
        seen.add(spec.name)
        found_errors, found_warnings = _check_param(param, spec)
        errors += found_errors
        warnings += found_warnings
    if "version" in seen and "niji" in seen:
        errors.append(_issue("conflicting_parameters", "Use either --v or --niji, not both.", "version"))
    speeds = [name for name in _SPEEDS if name in seen]
    if len(speeds) > 1:
        message = f"{' and '.join('--' + s for s in speeds)} conflict: choose one speed."
        errors.append(_issue("conflicting_parameters", message, speeds[0]))
    return PromptCheck(
        normalized=normalized,
        parts=parts,
        errors=tuple(errors),
        warnings=tuple(warnings),
        aspect_ratio=_aspect(parts),
        requested_mode=speeds[0] if len(speeds) == 1 else None,
        niji="niji" in seen,
    )


def _aspect(parts: PromptParts) -> tuple[int, int]:
    param = parts.get("aspect")
    found = _RATIO.match(param.value or "") if param else None
    if not found or int(found.group(1)) == 0 or int(found.group(2)) == 0:
        return 1, 1
    return int(found.group(1)), int(found.group(2))
