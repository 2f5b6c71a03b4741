"""Deterministic text the bot writes: /describe prompts, /shorten analyses, /info, notices and help."""

from __future__ import annotations

import random
import re

from simulator.images import reduce_ratio

DIGITS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"]

_SUBJECTS = [
    "a lighthouse on a windswept cliff",
    "a fox curled up in fresh snow",
    "an old tram in a rainy street",
    "a glass greenhouse full of ferns",
    "a lone astronaut in a desert",
    "a koi pond under cherry blossoms",
    "a cozy reading nook with a cat",
    "a mountain village at dawn",
    "a steampunk airship over the sea",
    "a bowl of ramen on a wooden table",
    "a robot tending a garden",
    "a neon-lit alley at night",
]
_STYLES = [
    "in the style of soft watercolor",
    "in the style of bold graphic novels",
    "in the style of muted film photography",
    "in the style of ukiyo-e prints",
    "in the style of dreamy impressionism",
    "in the style of crisp isometric art",
    "in the style of moody chiaroscuro",
    "in the style of pastel anime backgrounds",
]
_DETAILS = [
    "golden hour lighting",
    "volumetric fog",
    "intricate details",
    "vibrant color palette",
    "shallow depth of field",
    "dramatic shadows",
    "high contrast",
    "gentle gradients",
    "rich textures",
    "cinematic composition",
]
_FILLERS = {
    "a",
    "an",
    "the",
    "of",
    "with",
    "and",
    "in",
    "on",
    "very",
    "really",
    "beautiful",
    "amazing",
    "stunning",
    "highly",
    "detailed",
    "ultra",
    "extremely",
    "incredibly",
    "style",
    "by",
    "at",
    "is",
    "to",
    "for",
    "some",
}
_COLOR_NAMES = [
    ((220, 40, 40), "crimson"),
    ((240, 140, 30), "amber"),
    ((230, 210, 50), "golden"),
    ((60, 170, 70), "emerald"),
    ((40, 160, 170), "teal"),
    ((50, 90, 200), "cobalt"),
    ((130, 60, 190), "violet"),
    ((220, 90, 170), "rose"),
    ((240, 240, 240), "ivory"),
    ((30, 30, 30), "charcoal"),
    ((128, 128, 128), "silver"),
    ((120, 80, 50), "umber"),
]


def color_name(rgb: tuple[int, int, int]) -> str:
    return min(_COLOR_NAMES, key=lambda item: sum((a - b) ** 2 for a, b in zip(item[0], rgb, strict=True)))[1]


def aspect_text(width: int, height: int) -> str:
    """`--ar` of an image, snapped to a common ratio when close (like /describe output)."""
    common = [(1, 1), (4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (9, 16), (5, 4), (4, 5), (2, 1), (1, 2), (21, 9)]
    ratio = width / height
    best = min(common, key=lambda r: abs(r[0] / r[1] - ratio))
    if abs(best[0] / best[1] - ratio) < 0.04:
        return f"{best[0]}:{best[1]}"
    w, h = reduce_ratio(width, height)
    return f"{w}:{h}"


def describe_prompts(rng: random.Random, colour: tuple[int, int, int], width: int, height: int) -> list[str]:
    ar = aspect_text(width, height)
    tone = color_name(colour)
    prompts = []
    for subject in rng.sample(_SUBJECTS, 4):
        style = rng.choice(_STYLES)
        details = ", ".join(rng.sample(_DETAILS, 2))
        prompts.append(f"{subject}, {tone} tones, {style}, {details} --ar {ar}")
    return prompts


_ARTISTS = ["Ada Thornbury", "Milo Varga", "Inez Calloway", "Oskar Lind", "Rhea Amadi", "Tomas Ekberg"]
_SCENES = [
    "The scene is lit by {detail}, with {tone} tones throughout",
    "The composition is calm and balanced, with {detail} and a {tone} palette",
    "The colors are mostly {tone}, and the image has {detail}",
]
DESCRIBE_SEPARATOR_2025 = " \n\n"


def describe_prompts_2025(rng: random.Random, colour: tuple[int, int, int]) -> list[str]:
    """Prompts as /describe writes them since 2025: sentences, no trailing `--ar`, and now and then an artist as a
    markdown link (`[Name](https://goo.gl/search?artist%20Name)`, the form seen in 2025 output)."""
    tone = color_name(colour)
    linked = rng.randrange(4)
    prompts = []
    for number, subject in enumerate(rng.sample(_SUBJECTS, 4)):
        style = rng.choice(_STYLES)
        if number == linked:
            artist = rng.choice(_ARTISTS)
            style += f" and [{artist}](https://goo.gl/search?artist%20{artist.replace(' ', '%20')})"
        scene = rng.choice(_SCENES).format(detail=rng.choice(_DETAILS), tone=tone)
        prompts.append(f"{subject[0].upper()}{subject[1:]}, {style}. {scene}.")
    return prompts


def describe_description(prompts: list[str], separator: str = "\n\n") -> str:
    """The numbered prompts (`1️⃣ ...`), joined by `separator` (" \n\n" since 2025)."""
    return separator.join(f"{DIGITS[i]} {prompt}" for i, prompt in enumerate(prompts))


def shorten_analysis(prompt: str) -> tuple[list[str], list[str]]:
    """(important tokens, five shortened prompts from longest to shortest)."""
    body, _, params = prompt.partition(" --")
    params = f" --{params}" if params else ""
    words = re.findall(r"[\w'-]+", body)
    important = [w for w in words if w.lower() not in _FILLERS] or words[:1] or ["image"]
    shortened = []
    for keep in (1.0, 0.8, 0.6, 0.45, 0.3):
        count = max(1, round(len(important) * keep))
        shortened.append(" ".join(important[:count]).lower() + params)
    return important[:12], shortened


def shorten_description(important: list[str], shortened: list[str]) -> str:
    lines = ["**Important tokens**", ", ".join(important), "", "**Shortened prompts**"]
    body = "\n\n".join(f"{DIGITS[i]} {text}" for i, text in enumerate(shortened))
    return "\n".join(lines) + "\n" + body


HELP_TEXT = (
    "**Getting started**\nUse `/imagine` with a prompt to create four images. Click U1-U4 to upscale one image and "
    "V1-V4 to create variations.\n\n**Useful commands**\n`/info` your profile, `/settings` your preferences, "
    "`/fast` `/relax` `/turbo` switch job speed, `/describe` write prompts for an image, `/blend` mix images, "
    "`/shorten` analyse a prompt, `/show` bring back a job.\n\n"
    "This is the mjapi simulator: nothing leaves your machine."
)
