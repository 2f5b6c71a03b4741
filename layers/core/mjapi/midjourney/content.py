"""The grammar of Midjourney job lines: ``**prompt** - <kind> <@user> (status)...``.

Facts (protocol notes §3.1-3.2; NZ ``ConvertUtils``; TA ``MjMessageParser`` examples; UC ``DiscordMessage_test.ts``):

* imagine/reroll/blend: ``**p** - <@id> (fast)``; blend may have an empty prompt ``**** - <@id> (fast)``;
* progress: ``**p** - <@id> (31%) (relaxed)``; waiting: ``(Waiting to start)``; ``(paused) (relaxed)``; ``(Stopped)``;
* mode: ``fast|relaxed|turbo`` optionally ``, stealth``; noise before it: ``(Open on website for full quality)`` or the
  markdown link ``[(Open on website for full quality)](<https://midjourney.com/jobs/<uuid>>)``;
* kinds: ``Variations|Remix [(Subtle|Strong|Region)] by <@id>``, ``Upscaled|Upscaling [(Subtle|Creative|2x|4x)] by``,
  legacy ``Image #n <@id>``, ``Pan Left|Right|Up|Down by``, ``Zoom Out by``;
* pre-start variants: ``Making variations for image #1 with prompt **p** - <@id> (Waiting to start)`` and
  ``Upscaling image #2 with **p** - <@id> (Waiting to start)``;
* today's bot (v7): ``Upscaled by <@id>`` with no variant is Upscale (Creative); a button job's waiting and progress
  messages are ephemeral replies worded like an imagine (``**p** - <@id> (Waiting to start)``), which the parser tells
  apart by their reference and Cancel Job button, not by the line; pan results carry the rewritten prompt;
* trailing lines (``\\n-# Create, explore...``) are ignored;
* Animate's jobs carry ``--video 1`` (and ``--motion``) in their prompt, worded like an imagine: its result, an
  animated WebP of four videos, is told from an image grid by that parameter (:func:`is_video_prompt`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mjapi.midjourney.actions import PanDirection
from mjapi.midjourney.hashes import UUID_RE

JobMode = Literal["fast", "relax", "turbo"]
LineKind = Literal["imagine", "variation", "upscale", "pan", "zoom"]
LineStatus = Literal["waiting", "progress", "paused", "stopped", "done"]

_HEAD = re.compile(
    r"^\s*(?:(?P<making>Making variations for image #(?P<mv>\d{1,4}) with prompt)"
    r"|(?P<upscaling>Upscaling image #(?P<ui>\d{1,4}) with))?\s*"
    r"\*\*(?P<prompt>.*)\*\*\s+-\s+(?P<rest>.*)$"
)
_KIND_BY = re.compile(
    r"^(?P<word>Variations|Remix|Upscaled|Upscaling|Upscale|Zoom Out|Pan (?P<dir>Left|Right|Up|Down))"
    r"\s*(?:\((?P<variant>[^()]*)\))?\s*by\s*<@!?(?P<user>\d+)>(?P<tail>.*)$",
    re.IGNORECASE,
)
_KIND_IMAGE = re.compile(r"^Image\s*#(?P<index>\d{1,4})\s*<@!?(?P<user>\d+)>(?P<tail>.*)$", re.IGNORECASE)
_KIND_PLAIN = re.compile(r"^<@!?(?P<user>\d+)>(?P<tail>.*)$")
_PAREN = re.compile(r"\(([^()]*)\)")
_PERCENT = re.compile(r"^(\d{1,3})\s*%$")
_MODE = re.compile(r"^(fast|relaxed|relax|turbo)(?:\s*,\s*(stealth|public))?$", re.IGNORECASE)
_JOB_LINK = re.compile(r"midjourney\.com/jobs/([0-9a-fA-F-]{36})")
_VIDEO_PARAM = re.compile(r"(?:^|\s)--video(?:\s|$)")


def is_video_prompt(prompt: str) -> bool:
    """Whether a job line's prompt makes videos (``--video``): Animate and its extensions."""
    return _VIDEO_PARAM.search(prompt) is not None


@dataclass(frozen=True, slots=True)
class JobLine:
    """One parsed job line. ``status`` is the lifecycle the parenthesised groups say."""

    kind: LineKind
    prompt: str
    user_id: str | None
    status: LineStatus
    percent: int | None = None
    mode: JobMode | None = None
    stealth: bool = False
    variant: str | None = None  # subtle/strong/region; subtle/creative/2x/4x/legacy
    remix: bool = False
    direction: PanDirection | None = None
    index: int | None = None
    job_link_hash: str | None = None


def _mode(text: str) -> tuple[JobMode, bool] | None:
    found = _MODE.match(text.strip())
    if not found:
        return None
    word = found.group(1).lower()
    mode: JobMode = "fast" if word == "fast" else "turbo" if word == "turbo" else "relax"
    return mode, (found.group(2) or "").lower() == "stealth"


def _status_of(tail: str) -> tuple[LineStatus, int | None, JobMode | None, bool]:
    """Read the parenthesised groups after the user mention: status, percent, mode, stealth."""
    status: LineStatus = "done"
    percent: int | None = None
    mode: JobMode | None = None
    stealth = False
    for group in _PAREN.findall(tail):
        text = group.strip()
        lowered = text.lower()
        if lowered == "waiting to start":
            status = "waiting"
        elif lowered == "stopped":
            status = "stopped"
        elif lowered == "paused":
            status = "paused"
        elif (pct := _PERCENT.match(text)) is not None:
            percent = min(int(pct.group(1)), 100)
            if status == "done":
                status = "progress"
        elif (found := _mode(text)) is not None:
            mode, stealth = found
    return status, percent, mode, stealth


def _kind_of(word: str) -> LineKind:
    lowered = word.lower()
    if lowered in ("variations", "remix"):
        return "variation"
    if lowered.startswith("upscal"):
        return "upscale"
    if lowered.startswith("pan"):
        return "pan"
    return "zoom"


def parse_job_line(content: object) -> JobLine | None:
    """Parse the first line of a bot message content; ``None`` when it is not a job line."""
    if not isinstance(content, str) or "**" not in content:
        return None
    first = content.strip().split("\n", 1)[0]
    head = _HEAD.match(first)
    if head is None:
        return None
    rest = head.group("rest").strip()
    link = _JOB_LINK.search(first)
    job_link_hash = link.group(1).lower() if link else None
    prompt = head.group("prompt")
    kind: LineKind = "imagine"
    variant: str | None = None
    direction: PanDirection | None = None
    index: int | None = None
    remix = False
    if (by := _KIND_BY.match(rest)) is not None:
        word = by.group("word")
        kind = _kind_of(word)
        user, tail = by.group("user"), by.group("tail")
        variant = (by.group("variant") or "").strip().lower() or None
        remix = word.lower() == "remix"
        if kind == "pan":
            direction = _direction(by.group("dir"))
    elif (image := _KIND_IMAGE.match(rest)) is not None:
        kind, variant, index = "upscale", "legacy", int(image.group("index"))
        user, tail = image.group("user"), image.group("tail")
    elif (plain := _KIND_PLAIN.match(rest)) is not None:
        user, tail = plain.group("user"), plain.group("tail")
    else:
        return None
    if head.group("making"):
        kind, index = "variation", int(head.group("mv"))
    elif head.group("upscaling"):
        kind, index = "upscale", int(head.group("ui"))
    status, percent, mode, stealth = _status_of(tail)
    return JobLine(
        kind=kind,
        prompt=prompt,
        user_id=user,
        status=status,
        percent=percent,
        mode=mode,
        stealth=stealth,
        variant=variant,
        remix=remix,
        direction=direction,
        index=index,
        job_link_hash=job_link_hash,
    )


def _direction(word: str | None) -> PanDirection | None:
    lowered = (word or "").lower()
    if lowered == "left":
        return "left"
    if lowered == "right":
        return "right"
    if lowered == "up":
        return "up"
    if lowered == "down":
        return "down"
    return None


# ------------------------------------------------------------------ other content replies

_SEED = re.compile(r"\*\*Job ID\*\*:?\s*(?P<job>[0-9a-fA-F-]{36})\s*\*\*seed\*\*:?\s*(?P<seed>\d{1,12})", re.IGNORECASE)


def parse_seed(content: object) -> tuple[str, int] | None:
    """``**Job ID**: <uuid>\\n**seed** <n>`` (TA WS l.1291 regex); ``(job hash, seed)`` or ``None``."""
    if not isinstance(content, str):
        return None
    found = _SEED.search(content)
    if found is None:
        return None
    seed = int(found.group("seed"))
    if seed > 4294967295:
        return None
    return found.group("job").lower(), seed


_RATED = re.compile(r"^\s*You have successfully rated\b(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)


def parse_rated(content: object) -> tuple[str | None, str] | None:
    """``You have successfully rated [this job](<https://midjourney.com/jobs/<uuid>>) with 😍`` (the reply to a ❤️
    button) -> ``(rated job's uuid or None, text)``; ``None`` for anything else."""
    if not isinstance(content, str):
        return None
    found = _RATED.match(content)
    if found is None:
        return None
    job = UUID_RE.search(found.group("rest"))
    return (job.group(0).lower() if job else None), content.strip()


def parse_remix_toggle(content: object) -> bool | None:
    """``Remix mode turned on`` / ``... off`` (TA WS l.1036) -> True/False; ``None`` otherwise."""
    if not isinstance(content, str):
        return None
    lowered = content.lower()
    if "remix mode turned on" in lowered:
        return True
    if "remix mode turned off" in lowered:
        return False
    return None


def mode_from_switch_reply(content: str, interaction_name: str | None) -> JobMode | None:
    """Which mode a ``Done!`` reply switched to: the command name first, the wording as a fallback."""
    name = (interaction_name or "").lower()
    if name in ("fast", "relax", "turbo"):
        return "fast" if name == "fast" else "relax" if name == "relax" else "turbo"
    lowered = content.lower()
    if "turbo" in lowered:
        return "turbo"
    if "not consume fast" in lowered or "relax" in lowered:
        return "relax"
    if "fast" in lowered:
        return "fast"
    return None
