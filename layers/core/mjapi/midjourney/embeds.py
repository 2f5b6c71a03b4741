"""Readers for the text inside Midjourney embeds: numbered prompts (describe/shorten), /info fields, footers.

Facts (protocol notes §3.4-3.5): describe and shorten put prompts in ``embeds[0].description`` as ``1️⃣ ...\\n\\n2️⃣ ...``
(ET ``formatPrompts`` matches ``(\\d️⃣ .+)``); /info is ``**Key**: value`` lines (ET ``formatInfo``, TA
``ParseDiscordData``: split on the first ``:`` and strip ``**``), with ``Fast Time Remaining`` as ``x/y hours (p%)``;
error embeds carry the prompt in a footer starting ``/imagine `` (BK ``parseEmbedFooter``).

Today's bot (issue 8): /info values are padded into a column, a trial account reads ``None (Trial)`` with no Job Mode
line and ``Fast Time Remaining: 25.00 minutes``; 2025 describe prompts have no trailing ``--ar``, are separated by
``" \\n\\n"`` and may link words (``[name](<https://...>)``): prompts are returned with links unwrapped to their text,
ready to imagine.
"""

from __future__ import annotations

import re

from mjapi.midjourney.hashes import UUID_RE
from mjapi.midjourney.models import AccountInfo, JobMode

# A keycap digit: "1️⃣" is "1", optional U+FE0F, U+20E3. Some clients drop the variation selector.
_NUMBERED = re.compile(
    r"(?:^|\n)[ \t]*(?P<n>[1-9])\ufe0f?\u20e3[ \t]*(?P<text>.*?)(?=\n[ \t]*[1-9]\ufe0f?\u20e3|\Z)", re.S
)
_INFO_LINE = re.compile(r"^\s*(?:\*\*)?(?P<key>[^:*\n]{1,80}?)(?:\*\*)?\s*:\s*(?:\*\*)?\s*(?P<value>.*?)\s*$")
# Bounded digit runs: values stay finite and int() never sees a huge string.
_NUM = r"\d[\d,]{0,15}(?:\.\d{1,6})?"
_TIME_LEFT = re.compile(
    rf"(?P<left>{_NUM})\s*(?:/\s*(?P<total>{_NUM})\s*)?(?P<unit>hours?|hrs?|minutes?|mins?)\b", re.I
)
# Padding some clients and bots use to line values up: braille blank, zero-width and Hangul fillers, BOM.
_PADDING = str.maketrans(dict.fromkeys("\u2800\u200b\u3164\ufeff", " "))
_LINK = re.compile(r"\[(?P<text>[^\[\]\n]{1,500})\]\(<?(?P<url>[^()<>\s]{1,2000})>?\)")
_PARAGRAPHS = re.compile(r"\s*\n\s*\n\s*")
_PERCENT = re.compile(rf"\(\s*(?P<pct>{_NUM})\s*%\s*\)")
_USAGE = re.compile(rf"(?P<images>\d[\d,]{{0,15}})\s*images?(?:\s*\(\s*(?P<hours>{_NUM})\s*hours?\s*\))?", re.I)
_INT = re.compile(r"\d[\d,]{0,15}")


def unwrap_links(text: str) -> str:
    """Markdown links ``[text](<url>)`` / ``[text](url)`` -> ``text`` (what a prompt means)."""
    return _LINK.sub(lambda found: found.group("text"), text)


def numbered_prompts(description: object) -> tuple[str, ...]:
    """Prompts numbered with keycap emoji, in order, stripped, links unwrapped; empty when there are none."""
    if not isinstance(description, str):
        return ()
    prompts: list[str] = []
    for found in _NUMBERED.finditer(description):
        text = unwrap_links(found.group("text")).strip()
        if text:
            prompts.append(text)
    return tuple(prompts)


def paragraph_prompts(description: object, *, limit: int = 10) -> tuple[str, ...]:
    """Unnumbered prompts separated by blank lines (``" \\n\\n"``), links unwrapped: only for a message known to be
    a describe answer, where every paragraph is a prompt."""
    if not isinstance(description, str):
        return ()
    parts = (unwrap_links(part).strip() for part in _PARAGRAPHS.split(description.strip()))
    return tuple(part for part in parts if part)[:limit]


def footer_prompt(footer: object) -> str | None:
    """The prompt of a footer like ``/imagine a cat --ar 2:3``; ``None`` for other footers."""
    if not isinstance(footer, str):
        return None
    stripped = footer.strip()
    if stripped.lower().startswith("/imagine "):
        return stripped[len("/imagine ") :].strip() or None
    return None


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _mode(value: str) -> JobMode | None:
    lowered = value.strip().lower()
    if lowered.startswith("fast"):
        return "fast"
    if lowered.startswith("relax"):
        return "relax"
    if lowered.startswith("turbo"):
        return "turbo"
    return None


def info_fields(description: object) -> dict[str, str]:
    """Every ``**Key**: value`` line of an /info description, keys as written (order kept)."""
    fields: dict[str, str] = {}
    if not isinstance(description, str):
        return fields
    for line in description.translate(_PADDING).splitlines():
        found = _INFO_LINE.match(line)
        if found and found.group("key").strip():
            fields[found.group("key").strip()] = found.group("value").replace("**", "").strip()
    return fields


def parse_info(description: object) -> AccountInfo:
    """Typed /info: subscription, job mode, visibility, fast hours left/total/percent, usage, queues, running jobs."""
    fields = info_fields(description)
    values: dict[str, object] = {"fields": fields}
    for key, value in fields.items():
        name = key.lower()
        if name == "subscription":
            values["subscription"] = value
            values["trial"] = "trial" in value.lower()
        elif name == "job mode":
            values["job_mode"] = _mode(value)
        elif name == "visibility mode":
            values["visibility"] = value.lower() or None
        elif name == "fast time remaining":
            values.update(_time_left(value))
            if (pct := _PERCENT.search(value)) is not None:
                values["fast_time_remaining_percent"] = _number(pct.group("pct"))
        elif name in ("lifetime usage", "relaxed usage"):
            prefix = "lifetime" if name.startswith("lifetime") else "relaxed"
            if (usage := _USAGE.search(value)) is not None:
                values[f"{prefix}_images"] = int(usage.group("images").replace(",", ""))
                values[f"{prefix}_hours"] = _number(usage.group("hours")) if usage.group("hours") else None
        elif name.startswith("queued jobs"):
            count = _INT.search(value)
            target = "queued_jobs_relax" if "relax" in name else "queued_jobs_fast"
            values[target] = int(count.group(0).replace(",", "")) if count else None
        elif name == "running jobs":
            values["running_jobs"] = _running(value)
    return AccountInfo.model_validate(values)


def _time_left(value: str) -> dict[str, float | None]:
    """``x/y hours``, ``x hours`` or (trial accounts) ``25.00 minutes``: hours always, minutes when written so."""
    found = _TIME_LEFT.search(value)
    if found is None:
        return {}
    left, total = _number(found.group("left")), found.group("total")
    minutes = found.group("unit").lower().startswith("m")
    scale = 1 / 60 if minutes else 1.0
    times: dict[str, float | None] = {"fast_time_remaining_hours": left * scale if left is not None else None}
    if total is not None and (total_value := _number(total)) is not None:
        times["fast_time_total_hours"] = total_value * scale
    if minutes:
        times["fast_time_remaining_minutes"] = left
    return times


def _running(value: str) -> tuple[str, ...]:
    if value.strip().lower() in ("", "none"):
        return ()
    uuids = [found.lower() for found in UUID_RE.findall(value)]
    if uuids:
        return tuple(uuids)
    return tuple(part.strip() for part in value.split(",") if part.strip())
