"""How the bot writes a job, per model version: each version speaks the grammar of the era the real bot had when that
version was current, so a client can be tested against every shape by choosing `--v` (or the /settings version).

- 5.0, 5.1, niji 5 (2023): the v5 layout (2x/4x upscales), public labelled progress, PNG 1024² grids.
- 5.2 (2023): [Vary (Strong), Vary (Subtle)] [zooms] [pans] [❤️, Web]; otherwise like 5.0.
- 6.0, niji 6 (2024): one row of five (upscales and varies), zooms, pans; PNG 2048² grids.
- 6.1 (2025): ephemeral button-job progress with Cancel Job, `(Open on website for full quality)`, 512² previews.
- 7 (2026, the default): Animate, ❤️ and Web under images, the website text as a link, WebP grids, `u<digits>_` names.

The facts come from captures of the real bot between 2023 and 2026 (issue 8); which era a version gets is our choice
(simulator/README.md, "Model versions and their grammar").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Layout(StrEnum):
    """The buttons under a single image (a U result)."""

    V5 = "v5"  # [Upscale (2x), (4x)] [Vary (Subtle), (Strong), (Region)] [zooms] [pans] [Web]
    V52 = "v5.2"  # [Vary (Strong), (Subtle)] [zooms] [pans] [❤️, Web app/jobs]
    V60 = "v6.0"  # [Upscale (Subtle), (Creative), Vary (Subtle), (Strong), (Region)] [zooms] [pans]
    V61 = "v6.1"  # [Upscale (Subtle), (Creative)] [Vary ×3] [zooms] [pans] [Web]
    V7 = "v7"  # [Upscale ×2, Vary ×3] [zooms] [pans] [Animate ×2, ❤️, Web]


class Website(StrEnum):
    """What a finished result says before its mode."""

    NONE = ""
    TEXT = "text"  # `(Open on website for full quality)`
    LINK = "link"  # `[(Open on website for full quality)](<https://midjourney.com/jobs/<uuid>>)`


@dataclass(frozen=True)
class Grammar:
    era: int
    layout: Layout
    button_jobs_ephemeral: bool  # button jobs' waiting/progress: ephemeral, imagine-like, with a Cancel Job row
    website: Website
    grid_format: str  # "png" | "webp": the format of grid results (imagine, variations, zoom, pan...)
    real_previews: bool  # previews at PREVIEW_SIDE under /attachments/ (else preview_scale, /ephemeral-attachments/)
    uid_filenames: bool  # filenames start with `u<digits>_` instead of the username
    describe_2025: bool  # /describe: sentences without --ar, markdown links, " \n\n" between prompts
    animate: bool  # Animate (video) buttons under single images
    plain_creative_upscale: bool  # Upscale (Creative) results read "Upscaled by" and offer Redo Upscale

    @property
    def upscale_tag(self) -> str | None:
        """The model tag in this layout's upscale custom_ids (None: the v5 2x/4x upscalers)."""
        return {Layout.V60: "v6", Layout.V61: "v6r1", Layout.V7: "v7"}.get(self.layout)


_2023 = Grammar(2023, Layout.V5, False, Website.NONE, "png", False, False, False, False, False)
_2024 = Grammar(2024, Layout.V60, False, Website.NONE, "png", False, False, False, False, False)
_2025 = Grammar(2025, Layout.V61, True, Website.TEXT, "png", True, False, True, False, False)
_2026 = Grammar(2026, Layout.V7, True, Website.LINK, "webp", True, True, True, True, True)

GRAMMARS: dict[str, Grammar] = {
    "5.0": _2023,
    "5.1": _2023,
    "5.2": Grammar(2023, Layout.V52, False, Website.NONE, "png", False, False, False, False, False),
    "niji 5": _2023,
    "6.0": _2024,
    "niji 6": _2024,
    "6.1": _2025,
    "7": _2026,
}


def grammar(version: str) -> Grammar:
    """The grammar of a model version (unknown versions speak today's)."""
    return GRAMMARS.get(version, _2026)
