"""Prompt normalisation and parameter validation, shaped after the real bot's behaviour.

The bot echoes the prompt between `**...**`: whitespace collapsed, an em dash turned into `--`, leading image URLs
shortened to `<https://s.mj.run/...>`, and (only when /settings or /prefer changed them) the settings suffix appended.
Unknown flags and bad values raise `PromptError`, which the bot turns into an "Invalid parameter" embed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from simulator.constants import TITLE_EMPTY_PROMPT, TITLE_INVALID_LINK, TITLE_INVALID_PARAMETER

MJ_VERSIONS = {"5": "5.0", "5.0": "5.0", "5.1": "5.1", "5.2": "5.2", "6": "6.0", "6.0": "6.0", "6.1": "6.1", "7": "7"}
NIJI_VERSIONS = {"5": "niji 5", "6": "niji 6"}
DEFAULT_MJ_VERSION = "7"
DEFAULT_NIJI_VERSION = "niji 6"
NIJI_STYLES = {"cute", "expressive", "scenic", "original", "raw"}
MAX_ASPECT_RATIO = 8.0


class PromptError(Exception):
    """A prompt the bot refuses; `title` is the embed title, `description` its text."""

    def __init__(self, title: str, description: str) -> None:
        super().__init__(f"{title}: {description}")
        self.title = title
        self.description = description


@dataclass(frozen=True)
class _ParamSpec:
    name: str
    aliases: tuple[str, ...]
    kind: str  # "flag" | "one" | "optional" | "text" | "many"


_PARAMS = [
    _ParamSpec("aspect", ("ar", "aspect"), "one"),
    _ParamSpec("version", ("v", "version"), "one"),
    _ParamSpec("niji", ("niji",), "optional"),
    _ParamSpec("quality", ("q", "quality"), "one"),
    _ParamSpec("stylize", ("s", "stylize"), "one"),
    _ParamSpec("chaos", ("c", "chaos"), "one"),
    _ParamSpec("seed", ("seed", "sameseed"), "one"),
    _ParamSpec("no", ("no",), "text"),
    _ParamSpec("stop", ("stop",), "one"),
    _ParamSpec("tile", ("tile",), "flag"),
    _ParamSpec("weird", ("w", "weird"), "one"),
    _ParamSpec("sref", ("sref",), "many"),
    _ParamSpec("cref", ("cref",), "many"),
    _ParamSpec("cw", ("cw",), "one"),
    _ParamSpec("sw", ("sw",), "one"),
    _ParamSpec("sv", ("sv",), "one"),
    _ParamSpec("iw", ("iw",), "one"),
    _ParamSpec("style", ("style",), "one"),
    _ParamSpec("repeat", ("r", "repeat"), "one"),
    _ParamSpec("personalize", ("p", "personalize"), "optional"),
    _ParamSpec("fast", ("fast",), "flag"),
    _ParamSpec("relax", ("relax",), "flag"),
    _ParamSpec("turbo", ("turbo",), "flag"),
    _ParamSpec("zoom", ("zoom",), "one"),
]
_BY_ALIAS = {alias: spec for spec in _PARAMS for alias in spec.aliases}

LinkCheck = Callable[[str], bool]


@dataclass
class ParsedPrompt:
    text: str
    image_urls: list[str]
    params: dict[str, str]
    display: str
    ar: tuple[int, int] = (1, 1)
    version: str = DEFAULT_MJ_VERSION
    seed: int | None = None
    mode_override: str | None = None
    repeat: int = 1
    zoom: float | None = None
    words: frozenset[str] = field(default_factory=frozenset)


def short_link(url: str) -> str:
    """The `https://s.mj.run/<code>` form the bot shows for an image URL (deterministic per URL)."""
    digest = hashlib.sha256(url.encode()).digest()
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(digest[:8], "big")
    code = ""
    for _ in range(11):
        number, rest = divmod(number, 62)
        code += alphabet[rest]
    return f"https://s.mj.run/{code}"


def normalise(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.replace("\u2014", "--")).strip()


def is_url(token: str) -> bool:
    token = token.strip("<>")
    if not token.lower().startswith(("http://", "https://")):
        return False
    parts = urlsplit(token)
    return bool(parts.netloc)


def words_of(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9_]+", text.lower()))


def find_banned(text: str, banned: list[str]) -> str | None:
    lowered = text.lower()
    for word in banned:
        if re.search(rf"(?<![a-z0-9]){re.escape(word.lower())}(?![a-z0-9])", lowered):
            return word
    return None


def _invalid(description: str) -> PromptError:
    return PromptError(TITLE_INVALID_PARAMETER, description)


def _number(value: str, name: str, low: float, high: float, *, integer: bool = True) -> float:
    try:
        number = float(int(value)) if integer else float(value)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise _invalid(f"Invalid value `{value}` for `--{name}`: must be {kind} between {low:g} and {high:g}") from None
    if not low <= number <= high:
        raise _invalid(f"Invalid value `{value}` for `--{name}`: must be between {low:g} and {high:g}")
    return number


def _split_params(body: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Prompt text and [(alias, canonical name, value)] from a normalised prompt."""
    match = re.search(r"(^|\s)--", body)
    if match is None:
        return body, []
    text = body[: match.start()].strip()
    chunks = [c.strip() for c in re.split(r"(?:^|\s)--", body[match.start() :].strip()) if c.strip()]
    unknown = [f"`--{c.partition(' ')[0]}`" for c in chunks if c.partition(" ")[0].lower() not in _BY_ALIAS]
    if unknown:
        raise _invalid(f"Unrecognized parameter(s): {', '.join(unknown)}")
    out: list[tuple[str, str, str]] = []
    for chunk in chunks:
        alias, _, value = chunk.partition(" ")
        alias = alias.lower()
        spec = _BY_ALIAS[alias]
        value = value.strip()
        if spec.kind == "flag" and value:
            raise _invalid(f"Unexpected text `{value}` after `--{alias}`")
        if spec.kind in ("one", "optional") and " " in value:
            first, _, extra = value.partition(" ")
            raise _invalid(f"Unexpected text `{extra}` after `--{alias} {first}`")
        if spec.kind in ("one", "text", "many") and not value:
            raise _invalid(f"Missing value for `--{alias}`")
        out.append((alias, spec.name, value))
    return text, out


def parse_prompt(
    raw: str,
    *,
    bot_key: str = "midjourney",
    default_version: str | None = None,
    suffix: str = "",
    custom_options: dict[str, str] | None = None,
    link_ok: LinkCheck | None = None,
    allow_zoom: bool = False,
    require_text: bool = True,
) -> ParsedPrompt:
    """Validate and normalise a prompt; raises PromptError with the bot's embed title on refusal."""
    body = normalise(raw)
    for name, value in (custom_options or {}).items():
        body = re.sub(rf"(^|\s)--{re.escape(name)}(?=\s|$)", rf"\1{value}", body)
    body = normalise(body)
    tokens = body.split(" ") if body else []
    image_urls: list[str] = []
    while tokens and is_url(tokens[0]):
        image_urls.append(tokens.pop(0).strip("<>"))
    text, params = _split_params(" ".join(tokens))
    given = {name for _, name, _ in params}
    exclusive = {"version": "niji", "niji": "version"}
    for alias, name, value in _split_params(normalise(suffix))[1] if suffix.strip() else []:
        if name not in given and exclusive.get(name) not in given:
            params.append((alias, name, value))
            given.add(name)
    if not text and not image_urls and require_text:
        raise PromptError(TITLE_EMPTY_PROMPT, "Your prompt is empty. Please add some text describing the image.")
    for url in image_urls:
        if link_ok is not None and not link_ok(url):
            raise PromptError(TITLE_INVALID_LINK, f"The image link `{url}` could not be downloaded.")

    values = {name: value for _, name, value in params}
    parsed = ParsedPrompt(text=text, image_urls=image_urls, params=values, display="")
    default = default_version or (DEFAULT_NIJI_VERSION if bot_key == "niji" else DEFAULT_MJ_VERSION)

    if "version" in values and "niji" in values:
        raise _invalid("`--version` and `--niji` cannot be used together")
    if "version" in values:
        if bot_key == "niji":
            raise _invalid("`--version` is not available with the niji bot; use `--niji 5` or `--niji 6`")
        version = MJ_VERSIONS.get(values["version"])
        if version is None:
            allowed = ", ".join(sorted(set(MJ_VERSIONS)))
            raise _invalid(f"Invalid value `{values['version']}` for `--version`, expected one of {allowed}")
        parsed.version = version
    elif "niji" in values:
        niji = NIJI_VERSIONS.get(values["niji"] or "6")
        if niji is None:
            raise _invalid(f"Invalid value `{values['niji']}` for `--niji`, expected 5 or 6")
        parsed.version = niji
    else:
        parsed.version = default

    if "aspect" in values:
        match = re.fullmatch(r"(\d{1,4}):(\d{1,4})", values["aspect"])
        if match is None or int(match.group(1)) == 0 or int(match.group(2)) == 0:
            raise _invalid(
                f"Invalid aspect ratio `{values['aspect']}`: use the form `W:H` with whole numbers, e.g. `16:9`"
            )
        width, height = int(match.group(1)), int(match.group(2))
        if max(width / height, height / width) > MAX_ASPECT_RATIO:
            raise _invalid(f"Aspect ratio `{values['aspect']}` is too extreme (at most 1:8 or 8:1)")
        parsed.ar = (width, height)
    if "quality" in values and values["quality"] not in {".25", "0.25", ".5", "0.5", "1", "2"}:
        raise _invalid(f"Invalid value `{values['quality']}` for `--quality`: must be .25, .5, 1 or 2")
    if "stylize" in values:
        _number(values["stylize"], "stylize", 0, 1000)
    if "chaos" in values:
        _number(values["chaos"], "chaos", 0, 100)
    if "seed" in values:
        parsed.seed = int(_number(values["seed"], "seed", 0, 4294967295))
    if "stop" in values:
        _number(values["stop"], "stop", 10, 100)
    if "weird" in values:
        _number(values["weird"], "weird", 0, 3000)
    if "cw" in values:
        _number(values["cw"], "cw", 0, 100)
    if "sw" in values:
        _number(values["sw"], "sw", 0, 1000)
    if "sv" in values:
        _number(values["sv"], "sv", 1, 4)
    if "iw" in values:
        _number(values["iw"], "iw", 0, 3, integer=False)
    if "repeat" in values:
        parsed.repeat = int(_number(values["repeat"], "repeat", 1, 40))
    if "style" in values:
        style = values["style"].lower()
        allowed_styles = NIJI_STYLES if parsed.version.startswith("niji") else {"raw"}
        if style not in allowed_styles:
            raise _invalid(
                f"Invalid value `{values['style']}` for `--style`, expected one of {', '.join(sorted(allowed_styles))}"
            )
    if "zoom" in values:
        if not allow_zoom:
            raise _invalid("`--zoom` can only be used with Custom Zoom")
        parsed.zoom = _number(values["zoom"], "zoom", 1.0, 2.0, integer=False)
    modern = parsed.version in {"6.0", "6.1", "7", "niji 6"}
    for key in ("cref", "sref"):
        if key not in values:
            continue
        if key == "cref" and not modern:
            raise _invalid("`--cref` is only supported by `--v 6` / `--niji 6` and newer")
        for item in values[key].split(" "):
            item = item.strip("<>")
            if is_url(item):
                if link_ok is not None and not link_ok(item):
                    raise PromptError(TITLE_INVALID_LINK, f"The image link `{item}` could not be downloaded.")
            elif key == "cref" or not (item.isdigit() or item == "random"):
                raise _invalid(f"Invalid value `{item}` for `--{key}`: expected an image URL")
    modes = [m for m in ("fast", "relax", "turbo") if m in values]
    if len(modes) > 1:
        raise _invalid("Only one of `--fast`, `--relax` and `--turbo` can be used")
    parsed.mode_override = modes[0] if modes else None

    parts = [f"<{short_link(url)}>" for url in image_urls]
    if text:
        parts.append(text)
    for alias, _, value in params:
        parts.append(f"--{alias} {value}" if value else f"--{alias}")
    parsed.display = " ".join(parts)
    parsed.words = words_of(text)
    return parsed
