"""Buttons, select menus, modals and embeds the bots send (custom_ids as in protocol doc section 3.3)."""

from __future__ import annotations

from typing import Any

from simulator import constants as C
from simulator.bot.texts import DIGITS
from simulator.state import Account, BotSettings, Job

JSON = dict[str, Any]

STYLE_PRIMARY = 1
STYLE_SECONDARY = 2
STYLE_SUCCESS = 3
STYLE_DANGER = 4
STYLE_LINK = 5


def button(custom_id: str, label: str = "", *, emoji: str | None = None, style: int = STYLE_SECONDARY) -> JSON:
    data: JSON = {"type": 2, "style": style, "custom_id": custom_id}
    if label:
        data["label"] = label
    if emoji:
        data["emoji"] = {"name": emoji}
    return data


def link_button(url: str, label: str, emoji: str | None = None) -> JSON:
    data: JSON = {"type": 2, "style": STYLE_LINK, "label": label, "url": url}
    if emoji:
        data["emoji"] = {"name": emoji}
    return data


def row(*components: JSON) -> JSON:
    return {"type": 1, "components": list(components)}


def grid_rows(job_id: str) -> list[JSON]:
    """U1-U4 + reroll, V1-V4 (under every 2x2 grid)."""
    return [
        row(
            *(button(f"MJ::JOB::upsample::{i}::{job_id}", f"U{i}") for i in range(1, 5)),
            button(f"MJ::JOB::reroll::0::{job_id}::SOLO", emoji="🔄"),
        ),
        row(*(button(f"MJ::JOB::variation::{i}::{job_id}", f"V{i}") for i in range(1, 5))),
    ]


# Zoom Out buttons share one custom_id form, `MJ::Outpaint::<percent>::1::H::SOLO` (protocol section 3.3): 50 is
# "Zoom Out 2x", 75 "Zoom Out 1.5x" and 100 "Make Square" (ET `midjourney.ts` ZoomOut "square"; also used by other
# clients), which outpaints a non-square image to 1:1.
ZOOM_OUT_2X = "50"
ZOOM_OUT_1_5X = "75"
MAKE_SQUARE = "100"
# Models before 5.2 had no outpainting buttons on the real bot, hence no Make Square.
_NO_MAKE_SQUARE = frozenset({"5.0", "5.1"})


def outpaint_id(percent: str, job_id: str) -> str:
    return f"MJ::Outpaint::{percent}::1::{job_id}::SOLO"


def offers_make_square(job: Job) -> bool:
    """The real bot offers Make Square under single images (v5.2 and later) that are not square."""
    return job.image.width != job.image.height and job.version not in _NO_MAKE_SQUARE


def upscale_ids(version: str) -> list[tuple[str, str]]:
    """(custom_id action, label) of the upscale buttons for a model version."""
    if version in {"6.1"}:
        tag = "v6r1"
    elif version in {"6.0", "niji 6"}:
        tag = "v6"
    elif version == "7":
        tag = "v7"
    else:
        return [("upsample_v5_2x", "Upscale (2x)"), ("upsample_v5_4x", "Upscale (4x)")]
    return [(f"upsample_{tag}_2x_subtle", "Upscale (Subtle)"), (f"upsample_{tag}_2x_creative", "Upscale (Creative)")]


def single_rows(job: Job, *, upscaled: bool = False) -> list[JSON]:
    """Buttons under one image (a U result); an upscaled (2x/4x) image gets the same rows minus upscaling."""
    job_id = job.id
    rows: list[JSON] = []
    if not upscaled:
        rows.append(
            row(
                *(
                    button(f"MJ::JOB::{action}::1::{job_id}::SOLO", label, emoji="🔼")
                    for action, label in upscale_ids(job.version)
                )
            )
        )
    rows.append(
        row(
            button(f"MJ::JOB::low_variation::1::{job_id}::SOLO", "Vary (Subtle)", emoji="🪄"),
            button(f"MJ::JOB::high_variation::1::{job_id}::SOLO", "Vary (Strong)", emoji="🪄"),
            button(f"MJ::Inpaint::1::{job_id}::SOLO", "Vary (Region)", emoji="🖌️"),
        )
    )
    zoom_row = [
        button(outpaint_id(ZOOM_OUT_2X, job_id), "Zoom Out 2x", emoji="🔍"),
        button(outpaint_id(ZOOM_OUT_1_5X, job_id), "Zoom Out 1.5x", emoji="🔍"),
        button(f"MJ::CustomZoom::{job_id}", "Custom Zoom", emoji="🔍"),
    ]
    if offers_make_square(job):
        zoom_row.append(button(outpaint_id(MAKE_SQUARE, job_id), "Make Square", emoji="↔️"))
    rows.append(row(*zoom_row))
    rows.append(
        row(
            *(
                button(f"MJ::JOB::pan_{d}::1::{job_id}::SOLO", emoji=e)
                for d, e in (("left", "⬅️"), ("right", "➡️"), ("up", "⬆️"), ("down", "⬇️"))
            )
        )
    )
    rows.append(row(link_button(f"https://www.midjourney.com/jobs/{job_id}?index=0", "Web", "🌐")))
    return rows


def describe_rows() -> list[JSON]:
    return [
        row(
            *(button(f"MJ::Job::PicReader::{i}", emoji=DIGITS[i - 1]) for i in range(1, 5)),
            button("MJ::Picread::Retry", emoji="🔄"),
        ),
        row(button("MJ::Job::PicReader::all", "Imagine all", emoji="🎉")),
    ]


def shorten_rows() -> list[JSON]:
    return [
        row(*(button(f"MJ::Job::PromptAnalyzer::{i}", emoji=DIGITS[i - 1]) for i in range(1, 6))),
        row(button("MJ::Job::PromptAnalyzerExtended", "Show Details", emoji="🔍")),
    ]


_MJ_VERSIONS = [
    ("7", "Midjourney Model V7"),
    ("6.1", "Midjourney Model V6.1"),
    ("6.0", "Midjourney Model V6.0"),
    ("5.2", "Midjourney Model V5.2"),
    ("5.1", "Midjourney Model V5.1"),
    ("5.0", "Midjourney Model V5.0"),
    ("niji 6", "Niji Model V6"),
    ("niji 5", "Niji Model V5"),
]
_NIJI_VERSIONS = [("niji 6", "Niji Model V6"), ("niji 5", "Niji Model V5")]
_NIJI_STYLES = [
    ("expressive", "Expressive Style"),
    ("cute", "Cute Style"),
    ("scenic", "Scenic Style"),
    ("original", "Original Style"),
]


def _on(active: bool) -> int:
    return STYLE_SUCCESS if active else STYLE_SECONDARY


def settings_rows(bot_key: str, account: Account, settings: BotSettings) -> list[JSON]:
    versions = _NIJI_VERSIONS if bot_key == "niji" else _MJ_VERSIONS
    select = {
        "type": 3,
        "custom_id": "MJ::Settings::VersionSelector",
        "options": [
            {"label": label, "value": value, "default": settings.version == value, "emoji": {"name": "⚙️"}}
            for value, label in versions
        ],
        "placeholder": "Select a version",
        "min_values": 1,
        "max_values": 1,
    }
    stylize = [(50, "Stylize low"), (100, "Stylize med"), (250, "Stylize high"), (750, "Stylize very high")]
    style_row: list[JSON]
    if bot_key == "niji":
        style_row = [
            button(f"MJ::Settings::NijiStyle::{value}", label, emoji="🎨", style=_on(settings.niji_style == value))
            for value, label in _NIJI_STYLES
        ]
    else:
        style_row = [button("MJ::Settings::Style::raw", "RAW Mode", emoji="🔧", style=_on(settings.raw))]
        style_row += [
            button(f"MJ::Settings::Stylize::{value}", label, emoji="🖌️", style=_on((settings.stylize or 100) == value))
            for value, label in stylize
        ]
    modes = [
        ("fast", "Fast mode", "🐇", "MJ::Settings::FastMode"),
        ("relax", "Relax mode", "🐢", "MJ::Settings::RelaxMode"),
    ]
    if bot_key != "niji":
        modes.insert(0, ("turbo", "Turbo mode", "⚡", "MJ::Settings::TurboMode"))
    return [
        row(select),
        row(*style_row),
        row(
            button("MJ::Settings::PublicMode::1", "Public mode", emoji="🧍‍♂️", style=_on(not account.stealth)),
            button("MJ::Settings::PublicMode::0", "Stealth mode", emoji="🕵️", style=_on(account.stealth)),
            button("MJ::Settings::RemixMode", "Remix mode", emoji="🎛️", style=_on(settings.remix)),
            button(
                "MJ::Settings::HighVariabilityMode::1",
                "High Variation Mode",
                emoji="🎨",
                style=_on(settings.high_variability),
            ),
            button(
                "MJ::Settings::HighVariabilityMode::0",
                "Low Variation Mode",
                emoji="🎨",
                style=_on(not settings.high_variability),
            ),
        ),
        row(
            *(button(cid, label, emoji=emoji, style=_on(account.mode == mode)) for mode, label, emoji, cid in modes),
            button("MJ::Settings::ResetSettings", "Reset Settings", emoji="🔄"),
        ),
    ]


def text_input(custom_id: str, label: str, value: str, *, style: int = 2, required: bool = True) -> JSON:
    return row(
        {
            "type": 4,
            "custom_id": custom_id,
            "style": style,
            "label": label,
            "value": value,
            "required": required,
            "min_length": 1,
            "max_length": 6000,
        }
    )


def embed(title: str | None, description: str, color: int, *, footer: str | None = None) -> JSON:
    data: JSON = {"type": "rich", "description": description, "color": color}
    if title is not None:
        data["title"] = title
    if footer is not None:
        data["footer"] = {"text": footer}
    return data


def notice(title: str, description: str, *, color: int = C.COLOR_ERROR, footer: str | None = None) -> JSON:
    return embed(title, description, color, footer=footer)
