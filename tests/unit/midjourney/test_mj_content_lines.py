"""Job line grammar on the content strings peers test against (UC DiscordMessage_test.ts, TA MjMessageParser)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mjapi.midjourney.content import (
    mode_from_switch_reply,
    parse_job_line,
    parse_rated,
    parse_remix_toggle,
    parse_seed,
)

U = "1097074882203303911"
H = "350fb24a-dd72-45f2-ade8-048379a2ed5a"

CASES: list[tuple[str, dict[str, Any]]] = [
    (f"**a view of Paris --v 5** - <@{U}> (Waiting to start)", {"kind": "imagine", "status": "waiting", "user_id": U}),
    (f"**a view of Paris --v 5** - <@{U}> (62%) (relaxed)", {"status": "progress", "percent": 62, "mode": "relax"}),
    (f"**p** - <@{U}> (0%) (fast)", {"status": "progress", "percent": 0, "mode": "fast"}),
    (f"**p** - <@{U}> (relaxed)", {"status": "done", "mode": "relax", "percent": None}),
    (f"**p** - <@{U}> (paused) (relaxed)", {"status": "paused", "mode": "relax"}),
    (f"**p** - <@{U}> (Stopped)", {"status": "stopped"}),
    (f"**p** - <@{U}> (turbo, stealth)", {"mode": "turbo", "stealth": True}),
    (f"**p** - <@{U}> (fast, public)", {"mode": "fast", "stealth": False}),
    (f"**p** - <@{U}> (Open on website for full quality) (relaxed)", {"status": "done", "mode": "relax"}),
    (
        f"**p --video 1** - <@{U}> [(Open on website for full quality)](<https://midjourney.com/jobs/{H}>) (fast)",
        {"status": "done", "mode": "fast", "job_link_hash": H, "prompt": "p --video 1"},
    ),
    (f"**** - <@{U}> (fast)", {"kind": "imagine", "prompt": "", "mode": "fast"}),  # blend without prompt (TA)
    (
        f"**<https://s.mj.run/abc> <https://s.mj.run/def> --ar 2:3 --v 5.1** - <@{U}> (relaxed)",
        {"prompt": "<https://s.mj.run/abc> <https://s.mj.run/def> --ar 2:3 --v 5.1"},
    ),
    (f"**p --v 5** - Variations by <@{U}> (fast)", {"kind": "variation", "variant": None, "remix": False}),
    (f"**p** - Variations (Strong) by <@{U}> (Waiting to start)", {"kind": "variation", "status": "waiting"}),
    (f"**p** - Variations (Subtle) by <@{U}> (turbo)", {"variant": "subtle", "mode": "turbo"}),
    (f"**p** - Variations (Region) by <@{U}> (31%) (fast)", {"variant": "region", "percent": 31}),
    (f"**p** - Remix (Subtle) by <@{U}> (fast)", {"kind": "variation", "variant": "subtle", "remix": True}),
    (f"**p** - Remix by <@{U}> (fast)", {"kind": "variation", "variant": None, "remix": True}),
    (f"**p --v 5** - Image #4 <@{U}>", {"kind": "upscale", "variant": "legacy", "index": 4, "mode": None}),
    (f"**p --seed 6894** - Upscaled by <@{U}> (fast, stealth)", {"kind": "upscale", "variant": None, "stealth": True}),
    (f"**p** - Upscaled (Subtle) by <@{U}> (relaxed)", {"kind": "upscale", "variant": "subtle"}),
    (f"**p** - Upscaled (Creative) by <@{U}> (fast)", {"variant": "creative"}),
    (f"**car** - Upscaled (4x) by <@{U}> (Open on website for full quality) (fast)", {"variant": "4x", "mode": "fast"}),
    (f"**p** - Upscaling by <@{U}> (31%) (fast)\n-# Create, explore...", {"kind": "upscale", "percent": 31}),
    (f"**p --ar 5:4** - Pan Right by <@{U}> (relaxed)", {"kind": "pan", "direction": "right"}),
    (f"**p** - Pan Up by <@{U}> (fast)", {"kind": "pan", "direction": "up"}),
    (f"**p** - Zoom Out by <@{U}> (relaxed)", {"kind": "zoom"}),
    (
        f"Making variations for image #1 with prompt **a view --v 5** - <@{U}> (Waiting to start)",
        {"kind": "variation", "index": 1, "status": "waiting", "prompt": "a view --v 5"},
    ),
    (
        f"Upscaling image #2 with **a view** - <@{U}> (Waiting to start)",
        {"kind": "upscale", "index": 2, "status": "waiting", "prompt": "a view"},
    ),
    (f"**bold **word** inside** - <@{U}> (fast)", {"prompt": "bold **word** inside"}),
    (f"**p** - <@!{U}> (fast)", {"user_id": U}),
    # today's bot (issue 8): "Open on website" before the mode in both forms, v7 Upscale (Creative), a pan's rewrite
    (
        f"**p --v 7** - <@{U}> [(Open on website for full quality)](<https://midjourney.com/jobs/{H}>) "
        "(relaxed, stealth)",
        {"status": "done", "mode": "relax", "stealth": True, "job_link_hash": H},
    ),
    (
        f"**p --v 7** - Upscaled by <@{U}> [(Open on website for full quality)]"
        f"(<https://midjourney.com/jobs/{H}>) (fast)",
        {"kind": "upscale", "variant": None, "mode": "fast", "status": "done"},
    ),
    (
        f"**p --v 7 --ar 3:2** - Pan Right by <@{U}> (Open on website for full quality) (turbo)",
        {"kind": "pan", "direction": "right", "prompt": "p --v 7 --ar 3:2", "mode": "turbo"},
    ),
    (f"**p --v 7** - <@{U}> (Waiting to start)", {"kind": "imagine", "status": "waiting"}),  # a button job's wording
]


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_job_lines(content: str, expected: dict[str, Any]) -> None:
    line = parse_job_line(content)
    assert line is not None
    for name, value in expected.items():
        assert getattr(line, name) == value, name


@pytest.mark.parametrize(
    "content",
    [
        "",
        "hello",
        "**bold** text without a dash",
        "Done! Your jobs now do not consume fast-hours",
        None,
        3,
        "** - <@1>",
    ],
)
def test_not_job_lines(content: object) -> None:
    assert parse_job_line(content) is None


@given(st.text(max_size=60), st.text(max_size=20), st.text(max_size=20))
def test_job_line_never_raises(prompt: str, middle: str, status: str) -> None:
    line = parse_job_line(f"**{prompt}** - {middle}<@1> ({status})")
    assert line is None or line.status in ("waiting", "progress", "paused", "stopped", "done")


def test_seed_reply() -> None:
    assert parse_seed(f"**Job ID**: {H}\n**seed** 3271869524") == (H, 3271869524)
    assert parse_seed(f"**Job ID**: {H.upper()} **seed** 1") == (H, 1)
    assert parse_seed(f"**Job ID**: {H}\n**seed** 99999999999") is None  # above the 32-bit seed range
    assert parse_seed("**Job ID**: nope") is None


def test_remix_toggle_and_mode_switch() -> None:
    assert parse_remix_toggle("Remix mode turned on! You can disable it with /prefer remix") is True
    assert parse_remix_toggle("Remix mode turned off!") is False
    assert parse_remix_toggle("something else") is None
    relax_text = "Done! Your jobs now do not consume fast-hours, but might take a little longer."
    assert mode_from_switch_reply(relax_text, None) == "relax"
    assert mode_from_switch_reply(relax_text, "fast") == "fast"  # the command name wins
    assert mode_from_switch_reply("Done! Turbo mode is on.", None) == "turbo"
    assert mode_from_switch_reply("Done! Fast mode is on.", None) == "fast"
    assert mode_from_switch_reply("Done!", None) is None


def test_rated_reply() -> None:
    text = f"You have successfully rated [this job](<https://midjourney.com/jobs/{H.upper()}>) with 😍"
    assert parse_rated(text) == (H, text)
    assert parse_rated("You have successfully rated this job with 👎") == (
        None,
        "You have successfully rated this job with 👎",
    )
    assert parse_rated(f"**p** - <@{U}> (fast)") is None
    assert parse_rated(None) is None
