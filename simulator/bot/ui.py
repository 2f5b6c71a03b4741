"""Buttons, select menus, modals and embeds the bots send.

Every Midjourney button's custom_id is rendered from the action table (`mjapi.midjourney.actions`, protocol doc
section 3.3) with `render_custom_id`, so the simulator cannot drift from the grammar mjapi parses. The few ids the table
does not cover (notice acknowledgements, the captcha button) and the names of the settings are spelled here, once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from mjapi.midjourney.actions import PAN_DIRECTIONS, ButtonAction
from mjapi.midjourney.custom_ids import render_custom_id
from simulator import constants as C
from simulator.bot.grammar import Layout, grammar
from simulator.bot.texts import DIGITS
from simulator.state import Account, BotSettings, Job

JSON = dict[str, Any]

STYLE_PRIMARY = 1
STYLE_SECONDARY = 2
STYLE_SUCCESS = 3
STYLE_DANGER = 4
STYLE_LINK = 5

# Buttons of the bot's notices, outside the action table (they make no job and mjapi never presses them blindly).
TOS_ACCEPT = "MJ::Tos::Accept"
MOD_MESSAGE_ACK = "MJ::ModMessage::Ack::"  # + the Midjourney user id
CAPTCHA = "MJ::Captcha::"  # + the captcha hash (the table only recognises it, by substring)


def mod_message_ack_id(mj_user_id: str) -> str:
    return MOD_MESSAGE_ACK + mj_user_id


def captcha_id(captcha_hash: str) -> str:
    return CAPTCHA + captcha_hash


def button(custom_id: str, label: str = "", *, emoji: str | JSON | None = None, style: int = STYLE_SECONDARY) -> JSON:
    """A button; `emoji` is a unicode emoji or a custom one (`{"name", "id"}`)."""
    data: JSON = {"type": 2, "style": style, "custom_id": custom_id}
    if label:
        data["label"] = label
    if isinstance(emoji, dict):
        data["emoji"] = dict(emoji)
    elif emoji:
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
            *(button(render_custom_id(ButtonAction.UPSAMPLE, index=i, hash=job_id), f"U{i}") for i in range(1, 5)),
            button(render_custom_id(ButtonAction.REROLL, index=0, hash=job_id, solo=True), emoji="🔄"),
        ),
        row(*(button(render_custom_id(ButtonAction.VARIATION, index=i, hash=job_id), f"V{i}") for i in range(1, 5))),
    ]


# Zoom Out buttons are outpaints, `MJ::Outpaint::<percent>::1::H::SOLO`: 50 is "Zoom Out 2x", 75 "Zoom Out 1.5x";
# Make Square is the same form at 100 (ET `midjourney.ts` ZoomOut "square"), which outpaints a non-square image to 1:1.
ZOOM_OUT_PERCENTS = ((50, "Zoom Out 2x"), (75, "Zoom Out 1.5x"))
# Models before 5.2 had no outpainting buttons on the real bot, hence no Make Square.
_NO_MAKE_SQUARE = frozenset({"5.0", "5.1"})
_PAN_EMOJI = {"left": "⬅️", "right": "➡️", "up": "⬆️", "down": "⬇️"}
MOTIONS = ("high", "low")  # Animate / Extend (High motion), (Low motion)


def single(action: ButtonAction, job_id: str, **values: str | int) -> str:
    """The custom_id of a button under one image (index 1 and the `::SOLO` suffix)."""
    return render_custom_id(action, index=1, hash=job_id, solo=True, **values)


def offers_make_square(job: Job) -> bool:
    """The real bot offers Make Square under single images (v5.2 and later) that are not square."""
    return job.image.width != job.image.height and job.version not in _NO_MAKE_SQUARE


# The upscale buttons of v6 and later carry Midjourney's custom emoji `upscale_1` (its id is the simulator's own).
UPSCALE_EMOJI: JSON = {"name": "upscale_1", "id": "1229145391519436860"}


def upscale_buttons(version: str, job_id: str, *, redo: bool = False) -> list[JSON]:
    """The upscale buttons of a model version. Redo Upscale (under an upscaled image of the 2026 grammar) has the
    upscale's own custom_id form, with the upscaled image's uuid: pressing it upscales that image's source again."""
    tag = grammar(version).upscale_tag
    if tag is None:
        pairs = [(ButtonAction.UPSCALE_2X, "Upscale (2x)"), (ButtonAction.UPSCALE_4X, "Upscale (4x)")]
        return [button(single(action, job_id, model="v5"), label, emoji="🔼") for action, label in pairs]
    pairs = [(ButtonAction.UPSCALE_SUBTLE, "Upscale (Subtle)"), (ButtonAction.UPSCALE_CREATIVE, "Upscale (Creative)")]
    prefix = "Redo " if redo else ""
    return [button(single(action, job_id, model=tag), prefix + label, emoji=UPSCALE_EMOJI) for action, label in pairs]


def web_button(job: Job) -> JSON:
    """The "Web" link: the 2023 site's `/app/jobs/<uuid>/` under v5.2 images, `/jobs/<uuid>?index=0` later."""
    if grammar(job.version).layout is Layout.V52:
        return link_button(f"https://www.midjourney.com/app/jobs/{job.id}/", "Web", "🌐")
    return link_button(f"https://www.midjourney.com/jobs/{job.id}?index=0", "Web", "🌐")


def bookmark_button(job_id: str) -> JSON:
    return button(render_custom_id(ButtonAction.BOOKMARK, hash=job_id), emoji="❤️")


def animate_buttons(job_id: str) -> list[JSON]:
    return [
        button(
            single(ButtonAction.ANIMATE, job_id, variant=motion), f"Animate ({motion.capitalize()} motion)", emoji="🎞️"
        )
        for motion in MOTIONS
    ]


def single_rows(job: Job, *, upscaled: bool = False) -> list[JSON]:
    """Buttons under one image (a U result) in its version's layout; an upscaled image gets its layout's reduced set
    (2026: Redo Upscale, Vary, Animate, ❤️, Web; earlier: the same rows without upscaling)."""
    job_id = job.id
    layout = grammar(job.version).layout
    subtle = button(single(ButtonAction.VARY_SUBTLE, job_id), "Vary (Subtle)", emoji="🪄")
    strong = button(single(ButtonAction.VARY_STRONG, job_id), "Vary (Strong)", emoji="🪄")
    region = button(single(ButtonAction.VARY_REGION, job_id), "Vary (Region)", emoji="🖌️")
    upscales = upscale_buttons(job.version, job_id)
    if layout is Layout.V7 and upscaled:
        redo = upscale_buttons(job.version, job_id, redo=True)
        return [row(*redo, subtle, strong), row(*animate_buttons(job_id), bookmark_button(job_id), web_button(job))]
    zoom_row = [
        *(
            button(single(ButtonAction.ZOOM_OUT, job_id, percent=percent), label, emoji="🔍")
            for percent, label in ZOOM_OUT_PERCENTS
        ),
        button(render_custom_id(ButtonAction.CUSTOM_ZOOM, hash=job_id), "Custom Zoom", emoji="🔍"),
    ]
    if offers_make_square(job):
        zoom_row.append(button(single(ButtonAction.MAKE_SQUARE, job_id), "Make Square", emoji="↔️"))
    pan_row = row(*(button(single(ButtonAction.PAN, job_id, direction=d), emoji=_PAN_EMOJI[d]) for d in PAN_DIRECTIONS))
    if layout is Layout.V52:
        return [row(strong, subtle), row(*zoom_row), pan_row, row(bookmark_button(job_id), web_button(job))]
    if layout in (Layout.V60, Layout.V7):
        first = [subtle, strong, region] if upscaled else [*upscales, subtle, strong, region]
        rows = [row(*first), row(*zoom_row), pan_row]
        if layout is Layout.V7:
            rows.append(row(*animate_buttons(job_id), bookmark_button(job_id), web_button(job)))
        return rows
    rows = [] if upscaled else [row(*upscales)]
    rows += [row(subtle, strong, region), row(*zoom_row), pan_row, row(web_button(job))]
    return rows


def video_grid_rows(job: Job) -> list[JSON]:
    """Under Animate's grid of four videos: U1-U4 (`video_virtual_upscale`: that video alone) and a reroll."""
    return [
        row(
            *(button(render_custom_id(ButtonAction.VIDEO_UPSCALE, index=i, hash=job.id), f"U{i}") for i in range(1, 5)),
            button(render_custom_id(ButtonAction.REROLL, index=0, hash=job.id, solo=True), emoji="🔄"),
        )
    ]


def video_rows(job: Job) -> list[JSON]:
    """Under a finished video: Extend (High motion) / (Low motion) (their index is the video's place in its grid),
    ❤️ and Web."""
    extend = [
        button(
            render_custom_id(ButtonAction.ANIMATE_EXTEND, index=job.index or 1, hash=job.id, variant=motion),
            f"Extend ({motion.capitalize()} motion)",
            emoji="🎞️",
        )
        for motion in MOTIONS
    ]
    return [row(*extend, bookmark_button(job.id), web_button(job))]


def result_rows(job: Job) -> list[JSON]:
    """The buttons under a finished job's file: the grid's U/V rows, a single image's or a video's."""
    if job.image.kind == "grid":
        return grid_rows(job.id)
    if job.image.kind == "video":
        return video_rows(job)
    if job.image.kind == "video_grid":
        return video_grid_rows(job)
    return single_rows(job, upscaled=job.kind == "upscale")


def rated_text(record_link: str) -> str:
    """The bot's answer to ❤️ (a reply to the rated message)."""
    return f"You have successfully rated [this job]({record_link}) with 😍"


DESCRIBE_PROMPTS = 4  # 1️⃣-4️⃣ under a /describe answer
SHORTEN_PROMPTS = 5  # 1️⃣-5️⃣ under a /shorten answer


def describe_rows() -> list[JSON]:
    return [
        row(
            *(
                button(render_custom_id(ButtonAction.DESCRIBE_IMAGINE, index=i), emoji=DIGITS[i - 1])
                for i in range(1, DESCRIBE_PROMPTS + 1)
            ),
            button(render_custom_id(ButtonAction.DESCRIBE_RETRY), emoji="🔄"),
        ),
        row(button(render_custom_id(ButtonAction.DESCRIBE_IMAGINE_ALL), "Imagine all", emoji="🎉")),
    ]


def shorten_rows() -> list[JSON]:
    return [
        row(
            *(
                button(render_custom_id(ButtonAction.SHORTEN_IMAGINE, index=i), emoji=DIGITS[i - 1])
                for i in range(1, SHORTEN_PROMPTS + 1)
            )
        ),
        row(button(render_custom_id(ButtonAction.SHORTEN_DETAILS), "Show Details", emoji="🔍")),
    ]


class Setting(StrEnum):
    """What follows `MJ::Settings::` on the /settings panel (a name, sometimes `::value`)."""

    VERSION_SELECTOR = "VersionSelector"  # the select menu
    STYLE = "Style"  # ::raw
    STYLIZE = "Stylize"  # ::50|100|250|750
    NIJI_STYLE = "NijiStyle"  # ::expressive|cute|scenic|original
    PUBLIC_MODE = "PublicMode"  # ::1 public, ::0 stealth
    REMIX_MODE = "RemixMode"
    HIGH_VARIABILITY_MODE = "HighVariabilityMode"  # ::1|0
    TURBO_MODE = "TurboMode"
    FAST_MODE = "FastMode"
    RELAX_MODE = "RelaxMode"
    RESET_SETTINGS = "ResetSettings"


MODE_SETTINGS = {Setting.TURBO_MODE: "turbo", Setting.FAST_MODE: "fast", Setting.RELAX_MODE: "relax"}


def setting_id(name: Setting, value: str | int | None = None) -> str:
    setting = name.value if value is None else f"{name.value}::{value}"
    return render_custom_id(ButtonAction.SETTING, setting=setting)


def split_setting(setting: str | None) -> tuple[Setting | None, str]:
    """(name, value) of a parsed `MJ::Settings::...` id; name None when it is not one the panel shows."""
    name, _, value = (setting or "").partition("::")
    try:
        return Setting(name), value
    except ValueError:
        return None, value


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
        "custom_id": setting_id(Setting.VERSION_SELECTOR),
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
            button(setting_id(Setting.NIJI_STYLE, value), label, emoji="🎨", style=_on(settings.niji_style == value))
            for value, label in _NIJI_STYLES
        ]
    else:
        style_row = [button(setting_id(Setting.STYLE, "raw"), "RAW Mode", emoji="🔧", style=_on(settings.raw))]
        style_row += [
            button(setting_id(Setting.STYLIZE, value), label, emoji="🖌️", style=_on((settings.stylize or 100) == value))
            for value, label in stylize
        ]
    modes = [
        (Setting.FAST_MODE, "Fast mode", "🐇"),
        (Setting.RELAX_MODE, "Relax mode", "🐢"),
    ]
    if bot_key != "niji":
        modes.insert(0, (Setting.TURBO_MODE, "Turbo mode", "⚡"))
    return [
        row(select),
        row(*style_row),
        row(
            button(setting_id(Setting.PUBLIC_MODE, 1), "Public mode", emoji="🧍‍♂️", style=_on(not account.stealth)),
            button(setting_id(Setting.PUBLIC_MODE, 0), "Stealth mode", emoji="🕵️", style=_on(account.stealth)),
            button(setting_id(Setting.REMIX_MODE), "Remix mode", emoji="🎛️", style=_on(settings.remix)),
            button(
                setting_id(Setting.HIGH_VARIABILITY_MODE, 1),
                "High Variation Mode",
                emoji="🎨",
                style=_on(settings.high_variability),
            ),
            button(
                setting_id(Setting.HIGH_VARIABILITY_MODE, 0),
                "Low Variation Mode",
                emoji="🎨",
                style=_on(not settings.high_variability),
            ),
        ),
        row(
            *(
                button(setting_id(name), label, emoji=emoji, style=_on(account.mode == MODE_SETTINGS[name]))
                for name, label, emoji in modes
            ),
            button(setting_id(Setting.RESET_SETTINGS), "Reset Settings", emoji="🔄"),
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
