"""Every button under grids and upscales, remix modals, custom zoom, Vary (Region) and /show."""

from __future__ import annotations

import io
import re
from typing import Any

import aiohttp
import pytest
from PIL import Image
from sim_harness import Discord, Gateway, custom_ids, find_custom_id, imagine_result, png_b64, submit_and_wait

from mjapi.midjourney.actions import ButtonAction
from mjapi.midjourney.custom_ids import parse_custom_id, render_custom_id
from simulator import MIDJOURNEY_APP_ID, NIJI_APP_ID, Account, Simulator
from simulator.bot import ui
from simulator.bot.button_handlers import NOT_AVAILABLE, ButtonHandlers, drawn_by_the_bot

JSON = dict[str, Any]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


async def click(discord: Discord, gw: Gateway, message: JSON, needle: str) -> tuple[JSON, JSON]:
    return await submit_and_wait(discord, gw, discord.click, message, find_custom_id(message, needle))


async def upscaled(discord: Discord, gw: Gateway, prompt: str = "a quiet harbour", index: int = 1) -> tuple[JSON, JSON]:
    grid = await imagine_result(discord, gw, prompt)
    first, single = await click(discord, gw, grid, f"upsample::{index}::")
    assert first["id"] == single["id"]
    return grid, single


FORMATS = {"image/png": "PNG", "image/webp": "WEBP"}


async def png_size(http: aiohttp.ClientSession, message: JSON) -> tuple[int, int]:
    """The size of a result's image as decoded from the CDN's bytes (PNG, or WebP for v7 grids), checked against the
    attachment's metadata: content type, extension, width and height."""
    attachment = message["attachments"][0]
    async with http.get(attachment["url"]) as response:
        assert response.status == 200 and response.content_type == attachment["content_type"]
        image = Image.open(io.BytesIO(await response.read()))
        image.load()
    assert image.format == FORMATS[attachment["content_type"]]
    assert attachment["filename"].endswith("." + image.format.lower())
    assert (attachment["width"], attachment["height"]) == image.size
    return image.size


def job_hash(message: JSON) -> str:
    match = re.search(rf"_({UUID})\.(png|webp|mp4)$", message["attachments"][0]["filename"])
    assert match is not None
    return match.group(1)


def updates_of(gw: Gateway, message_id: str, start: int = 0) -> list[JSON]:
    """MESSAGE_UPDATEs of one message received since frame `start`."""
    return [f["d"] for f in gw.frames[start:] if f.get("t") == "MESSAGE_UPDATE" and f["d"]["id"] == message_id]


def find_component(message: JSON, needle: str) -> JSON:
    for row in message["components"]:
        for component in row["components"]:
            if needle in component.get("custom_id", ""):
                return dict(component)
    raise AssertionError(f"no component {needle!r}")


def site(h: str) -> str:
    """The 2026 result text before the mode."""
    return f"[(Open on website for full quality)](<https://midjourney.com/jobs/{h}>)"


async def test_upsample_gives_single_image_with_solo_buttons(
    discord: Discord, gw: Gateway, alice: Account, http: aiohttp.ClientSession
) -> None:
    grid, single = await upscaled(discord, gw, "a quiet harbour", 3)
    assert single["content"] == f"**a quiet harbour** - Image #3 <@{alice.user_id}>"
    assert single["type"] == 19
    assert single["message_reference"]["message_id"] == grid["id"]
    assert single["referenced_message"]["id"] == grid["id"]
    metadata = single["interaction_metadata"]
    assert metadata["type"] == 3 and metadata["interacted_message_id"] == grid["id"]
    h = job_hash(single)
    assert h != job_hash(grid)
    # v7 (the default): [upscales, varies] [zooms] [pans] [Animate ×2, ❤️, Web] (a 2026 capture, 16 components)
    assert [custom_ids({"components": [row]}) for row in single["components"]] == [
        [
            f"MJ::JOB::upsample_v7_2x_subtle::1::{h}::SOLO",
            f"MJ::JOB::upsample_v7_2x_creative::1::{h}::SOLO",
            f"MJ::JOB::low_variation::1::{h}::SOLO",
            f"MJ::JOB::high_variation::1::{h}::SOLO",
            f"MJ::Inpaint::1::{h}::SOLO",
        ],
        [f"MJ::Outpaint::50::1::{h}::SOLO", f"MJ::Outpaint::75::1::{h}::SOLO", f"MJ::CustomZoom::{h}"],
        [f"MJ::JOB::pan_{d}::1::{h}::SOLO" for d in ("left", "right", "up", "down")],
        [f"MJ::JOB::animate_high::1::{h}::SOLO", f"MJ::JOB::animate_low::1::{h}::SOLO", f"MJ::BOOKMARK::{h}"],
    ]
    first_row = single["components"][0]["components"]
    assert [c.get("label") for c in first_row] == [
        "Upscale (Subtle)",
        "Upscale (Creative)",
        "Vary (Subtle)",
        "Vary (Strong)",
        "Vary (Region)",
    ]
    assert first_row[0]["emoji"]["name"] == first_row[1]["emoji"]["name"] == "upscale_1"
    last_row = single["components"][-1]["components"]
    assert [c.get("label") for c in last_row] == ["Animate (High motion)", "Animate (Low motion)", None, "Web"]
    assert last_row[2]["emoji"] == {"name": "❤️"} and all(c["style"] == 2 for c in last_row[:3])
    web = last_row[-1]
    assert web["style"] == 5 and h in web["url"]
    assert grid["attachments"][0]["content_type"] == "image/webp"
    assert single["attachments"][0]["content_type"] == "image/png"
    assert await png_size(http, grid) == (2048, 2048)
    assert await png_size(http, single) == (1024, 1024)  # one tile of the grid


async def test_variation_from_grid(discord: Discord, gw: Gateway, alice: Account) -> None:
    """2026 grammar: the button job waits and progresses in an ephemeral, imagine-like reply with Cancel Job."""
    grid = await imagine_result(discord, gw, "autumn forest")
    first, result = await click(discord, gw, grid, "variation::2::")
    user = f"<@{alice.user_id}>"
    assert first["content"] == f"**autumn forest** - {user} (Waiting to start)"
    assert first["flags"] == 64 and first["type"] == 19
    assert first["message_reference"]["message_id"] == grid["id"]
    h = job_hash(result)
    (cancel,) = first["components"][0]["components"]
    assert cancel == {
        "type": 2,
        "style": 4,
        "custom_id": f"MJ::CancelJob::ByJobid::{h}",
        "label": "Cancel Job",
        "id": 2,
    }
    progress = [u for u in gw.events("MESSAGE_UPDATE") if u["id"] == first["id"] and "%)" in u["content"]]
    assert progress and all(
        re.fullmatch(rf"\*\*autumn forest\*\* - {user} \(\d+%\) \(fast\)", u["content"]) for u in progress
    )
    assert all(u["flags"] == 64 and custom_ids(u) == [cancel["custom_id"]] for u in progress)
    assert result["content"] == f"**autumn forest** - Variations (Strong) by {user} {site(h)} (fast)"
    assert result["flags"] == 0 and result["type"] == 19
    assert result["message_reference"]["message_id"] == grid["id"]
    assert len(result["components"]) == 2


async def test_variation_from_grid_in_the_2024_grammar(discord: Discord, gw: Gateway, alice: Account) -> None:
    """--v 6 keeps the older grammar: public, labelled progress without buttons and no website text."""
    grid = await imagine_result(discord, gw, "autumn forest --v 6")
    first, result = await click(discord, gw, grid, "variation::2::")
    user = f"<@{alice.user_id}>"
    assert first["content"] == f"**autumn forest --v 6** - Variations (Strong) by {user} (Waiting to start)"
    assert first["flags"] == 0 and first["components"] == []
    assert result["content"] == f"**autumn forest --v 6** - Variations (Strong) by {user} (fast)"
    assert result["attachments"][0]["content_type"] == "image/png"


async def test_reroll(discord: Discord, gw: Gateway, alice: Account) -> None:
    grid = await imagine_result(discord, gw, "reroll me")
    _, result = await click(discord, gw, grid, "reroll::0::")
    assert result["content"] == f"**reroll me** - <@{alice.user_id}> {site(job_hash(result))} (fast)"
    assert job_hash(result) != job_hash(grid)


@pytest.mark.parametrize(("needle", "word"), [("2x_subtle", "Subtle"), ("2x_creative", "Creative")])
async def test_upscale_subtle_creative(
    discord: Discord, gw: Gateway, alice: Account, http: aiohttp.ClientSession, needle: str, word: str
) -> None:
    _, single = await upscaled(discord, gw, "a quiet harbour --v 6.1")
    start = len(gw.frames)
    first, result = await click(discord, gw, single, needle)
    user = f"<@{alice.user_id}>"
    assert first["content"] == f"**a quiet harbour --v 6.1** - {user} (Waiting to start)"  # 2025: imagine-like
    updates = [u for u in gw.events("MESSAGE_UPDATE")[0:] if u["id"] == first["id"]]
    assert updates and re.search(r"\*\* - <@\d+> \(\d+%\) \(fast\)", updates[-1]["content"])
    # upscales carry no website text; the 2025 grammar writes it as text elsewhere
    assert result["content"] == f"**a quiet harbour --v 6.1** - Upscaled ({word}) by {user} (fast)"
    assert await png_size(http, result) == (2048, 2048)  # the 1024x1024 tile doubled
    assert result["attachments"][0]["content_type"] == "image/png"
    assert not any("upsample" in c for c in custom_ids(result))
    assert any("low_variation" in c for c in custom_ids(result))
    assert start < len(gw.frames)


@pytest.mark.parametrize(("needle", "done"), [("2x_subtle", "Upscaled (Subtle) by"), ("2x_creative", "Upscaled by")])
async def test_v7_upscales_offer_redo(
    discord: Discord, gw: Gateway, alice: Account, http: aiohttp.ClientSession, needle: str, done: str
) -> None:
    """v7 Upscale (Creative) results read "Upscaled by" (no variant); every v7 upscale offers Redo Upscale, whose
    custom_id is the upscale's own form with the upscaled image's uuid, and redoing upscales the source tile again."""
    _, single = await upscaled(discord, gw)
    _, result = await click(discord, gw, single, needle)
    h = job_hash(result)
    assert result["content"] == f"**a quiet harbour** - {done} <@{alice.user_id}> (fast)"
    assert await png_size(http, result) == (2048, 2048) and result["attachments"][0]["content_type"] == "image/png"
    rows = result["components"]
    assert [c.get("label") for c in rows[0]["components"]] == [
        "Redo Upscale (Subtle)",
        "Redo Upscale (Creative)",
        "Vary (Subtle)",
        "Vary (Strong)",
    ]
    assert custom_ids({"components": rows})[:2] == [
        f"MJ::JOB::upsample_v7_2x_subtle::1::{h}::SOLO",
        f"MJ::JOB::upsample_v7_2x_creative::1::{h}::SOLO",
    ]
    assert custom_ids({"components": [rows[1]]}) == [
        f"MJ::JOB::animate_high::1::{h}::SOLO",
        f"MJ::JOB::animate_low::1::{h}::SOLO",
        f"MJ::BOOKMARK::{h}",
    ]
    _, redone = await click(discord, gw, result, needle)
    assert redone["message_reference"]["message_id"] == result["id"] and job_hash(redone) != h
    assert await png_size(http, redone) == (2048, 2048)


@pytest.mark.parametrize(("needle", "size", "label"), [("v5_2x", 1024, "2x"), ("v5_4x", 2048, "4x")])
async def test_v5_upscale_buttons(
    discord: Discord, gw: Gateway, http: aiohttp.ClientSession, needle: str, size: int, label: str
) -> None:
    grid = await imagine_result(discord, gw, "old model --v 5.1")
    _, single = await click(discord, gw, grid, "upsample::1::")
    assert [c for c in custom_ids(single) if "upsample" in c] == [
        f"MJ::JOB::upsample_v5_2x::1::{job_hash(single)}::SOLO",
        f"MJ::JOB::upsample_v5_4x::1::{job_hash(single)}::SOLO",
    ]
    _, result = await click(discord, gw, single, needle)
    assert f"Upscaled ({label}) by" in result["content"]
    assert await png_size(http, result) == (size, size)


async def test_sizes_follow_the_tile_of_a_wide_grid(discord: Discord, gw: Gateway, http: aiohttp.ClientSession) -> None:
    grid = await imagine_result(discord, gw, "a long coast --ar 16:9")
    assert await png_size(http, grid) == (2912, 1632)  # two of the bot's 1456x816 images across
    _, single = await click(discord, gw, grid, "upsample::2::")
    assert await png_size(http, single) == (1456, 816)
    _, subtle = await click(discord, gw, single, "2x_subtle")
    _, creative = await click(discord, gw, single, "2x_creative")
    assert await png_size(http, subtle) == await png_size(http, creative) == (2912, 1632)


async def test_v5_sizes_of_a_tall_grid(discord: Discord, gw: Gateway, http: aiohttp.ClientSession) -> None:
    grid = await imagine_result(discord, gw, "a tall tower --ar 2:3 --v 5.1")
    assert await png_size(http, grid) == (840, 1256)
    _, single = await click(discord, gw, grid, "upsample::4::")
    assert await png_size(http, single) == (420, 628)
    _, double = await click(discord, gw, single, "v5_2x")
    _, quadruple = await click(discord, gw, single, "v5_4x")
    assert await png_size(http, double) == (840, 1256)
    assert await png_size(http, quadruple) == (1680, 2512)


@pytest.mark.parametrize(("needle", "word"), [("low_variation", "Subtle"), ("high_variation", "Strong")])
async def test_vary_subtle_strong(discord: Discord, gw: Gateway, needle: str, word: str) -> None:
    _, single = await upscaled(discord, gw)
    _, result = await click(discord, gw, single, needle)
    assert f"- Variations ({word}) by <@" in result["content"]
    assert len(result["components"]) == 2  # a new grid


@pytest.mark.parametrize("needle", ["Outpaint::50", "Outpaint::75"])
@pytest.mark.parametrize("ar", ["1:1", "16:9"])
async def test_zoom_out(discord: Discord, gw: Gateway, http: aiohttp.ClientSession, needle: str, ar: str) -> None:
    grid, single = await upscaled(discord, gw, f"a quiet harbour --ar {ar}")
    first, result = await click(discord, gw, single, needle)
    assert first["content"] == f"**a quiet harbour --ar {ar}** - <@{discord.account.user_id}> (Waiting to start)"
    assert result["content"].endswith(f"{site(job_hash(result))} (fast)") and "Zoom Out by" in result["content"]
    assert result["attachments"][0]["content_type"] == "image/webp"
    assert len(result["components"]) == 2  # a new grid, redrawn at the source grid's size
    assert await png_size(http, result) == await png_size(http, grid)


@pytest.mark.parametrize(
    ("direction", "size", "ar"),
    [("left", (2688, 1792), "3:2"), ("right", (2688, 1792), "3:2"), ("up", (1792, 2688), "2:3")],
)
async def test_pan(
    discord: Discord, gw: Gateway, http: aiohttp.ClientSession, direction: str, size: tuple[int, int], ar: str
) -> None:
    _, single = await upscaled(discord, gw, "a quiet harbour --ar 1:1")
    first, result = await click(discord, gw, single, f"pan_{direction}")
    # The bot rewrites the prompt: the old --ar dropped, the panned canvas's appended (2026 capture).
    assert first["content"].startswith(f"**a quiet harbour --ar {ar}** - <@")
    assert result["content"].startswith(f"**a quiet harbour --ar {ar}** - Pan {direction.capitalize()} by <@")
    assert len(result["components"]) == 2
    # The panned side grows by half a tile (1:1 -> 3:2): a 2048² v7 image panned right is a 2688x1792 grid.
    assert await png_size(http, result) == size
    assert result["attachments"][0]["content_type"] == "image/webp"


async def test_pan_keeps_the_prompt_in_the_2023_grammar(
    discord: Discord, gw: Gateway, http: aiohttp.ClientSession
) -> None:
    _, single = await upscaled(discord, gw, "a quiet harbour --v 5.1")
    _, result = await click(discord, gw, single, "pan_down")
    assert result["content"].startswith("**a quiet harbour --v 5.1** - Pan Down by <@")
    assert await png_size(http, result) == (840, 1256)


async def test_pan_twice_keeps_widening(discord: Discord, gw: Gateway, http: aiohttp.ClientSession) -> None:
    _, single = await upscaled(discord, gw, "a wide valley --ar 16:9 --v 5.1")
    _, panned = await click(discord, gw, single, "pan_right")
    assert await png_size(http, panned) == (1672, 624)  # 8:3
    _, tile = await click(discord, gw, panned, "upsample::1::")
    assert await png_size(http, tile) == (836, 312)
    _, again = await click(discord, gw, tile, "pan_left")
    assert await png_size(http, again) == (2048, 512)  # 4:1


@pytest.mark.parametrize(
    ("prompt", "size"), [("a long coast --ar 16:9", (1456, 816)), ("a tower --ar 2:3", (896, 1344))]
)
async def test_make_square(
    discord: Discord, gw: Gateway, http: aiohttp.ClientSession, alice: Account, prompt: str, size: tuple[int, int]
) -> None:
    _, single = await upscaled(discord, gw, prompt)
    h = job_hash(single)
    assert await png_size(http, single) == size
    zoom_row = single["components"][1]["components"]
    assert [c["custom_id"] for c in zoom_row] == [
        f"MJ::Outpaint::50::1::{h}::SOLO",
        f"MJ::Outpaint::75::1::{h}::SOLO",
        f"MJ::CustomZoom::{h}",
        f"MJ::Outpaint::100::1::{h}::SOLO",
    ]
    assert zoom_row[-1] == {
        "type": 2,
        "style": 2,
        "custom_id": f"MJ::Outpaint::100::1::{h}::SOLO",
        "label": "Make Square",
        "emoji": {"name": "↔️"},
        "id": zoom_row[-1]["id"],
    }
    first, result = await click(discord, gw, single, "Outpaint::100::")
    user = f"<@{alice.user_id}>"
    assert first["content"] == f"**{prompt}** - {user} (Waiting to start)"
    assert first["message_reference"]["message_id"] == single["id"]
    assert result["content"] == f"**{prompt}** - Zoom Out by {user} {site(job_hash(result))} (fast)"
    assert len(result["components"]) == 2  # a grid of four square images
    assert await png_size(http, result) == (2048, 2048)
    _, square = await click(discord, gw, result, "upsample::1::")
    assert await png_size(http, square) == (1024, 1024)
    assert not any("Outpaint::100" in c for c in custom_ids(square))  # nothing left to square


@pytest.mark.parametrize(("prompt", "offered"), [("flat --ar 3:2 --v 5.1", False), ("flat --ar 3:2 --v 5.2", True)])
async def test_make_square_needs_v5_2(discord: Discord, gw: Gateway, prompt: str, offered: bool) -> None:
    _, single = await upscaled(discord, gw, prompt)
    assert any("Outpaint::100" in c for c in custom_ids(single)) is offered


async def test_upscaled_wide_image_offers_make_square(discord: Discord, gw: Gateway) -> None:
    _, single = await upscaled(discord, gw, "a long coast --ar 16:9 --v 6.1")  # v7 upscales drop the zoom row
    _, subtle = await click(discord, gw, single, "2x_subtle")
    assert f"MJ::Outpaint::100::1::{job_hash(subtle)}::SOLO" in custom_ids(subtle)


async def test_custom_zoom_modal(sim: Simulator, discord: Discord, gw: Gateway, http: aiohttp.ClientSession) -> None:
    _, single = await upscaled(discord, gw)
    start = len(gw.frames)
    zoom_id = find_custom_id(single, "CustomZoom")
    status, _ = await discord.click(single, zoom_id, session_id=gw.session_id)
    assert status == 204
    success = await gw.event("INTERACTION_SUCCESS", start=start)
    modal = await gw.event("INTERACTION_MODAL_CREATE", start=start)
    assert modal["id"] == success["id"]
    assert modal["custom_id"] == f"MJ::OutpaintCustomZoomModal::{job_hash(single)}"
    assert modal["application"]["id"] == MIDJOURNEY_APP_ID and modal["title"]
    text_input = modal["components"][0]["components"][0]
    assert text_input["custom_id"] == "MJ::OutpaintCustomZoomModal::prompt"
    assert text_input["value"] == "a quiet harbour --zoom 2"
    status, body = await discord.submit_modal({**modal, "id": "1"}, {text_input["custom_id"]: "x --zoom 2"})
    assert status == 404 and body["code"] == 10062
    _, result = await submit_and_wait(
        discord, gw, discord.submit_modal, modal, {text_input["custom_id"]: "a quiet harbour --zoom 1.8"}
    )
    assert result["content"].startswith("**a quiet harbour --zoom 1.8** - Zoom Out by <@")
    assert await png_size(http, result) == (2048, 2048)
    assert result["interaction_metadata"]["type"] == 5
    assert result["message_reference"]["message_id"] == single["id"]
    status, body = await discord.submit_modal(modal, {text_input["custom_id"]: "again"})
    assert status == 404  # a modal can be submitted once


async def test_custom_zoom_rejects_out_of_range(discord: Discord, gw: Gateway) -> None:
    _, single = await upscaled(discord, gw)
    start = len(gw.frames)
    await discord.click(single, find_custom_id(single, "CustomZoom"), session_id=gw.session_id)
    modal = await gw.event("INTERACTION_MODAL_CREATE", start=start)
    nonce = discord.nonce()
    await discord.submit_modal(modal, {"MJ::OutpaintCustomZoomModal::prompt": "x --zoom 3"}, nonce=nonce)
    notice = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert notice["embeds"][0]["title"] == "Invalid parameter"


async def test_modal_only_reaches_the_named_session(sim: Simulator, discord: Discord, gw: Gateway) -> None:
    _, single = await upscaled(discord, gw)
    start = len(gw.frames)
    status, _ = await discord.click(single, find_custom_id(single, "CustomZoom"), session_id="fake-session-id")
    assert status == 204
    await gw.event("INTERACTION_SUCCESS", start=start)  # acknowledgements still arrive
    assert sim.state()["undelivered_modals"] == 1
    assert not [f for f in gw.frames[start:] if f.get("t") == "INTERACTION_MODAL_CREATE"]


async def test_vary_region_iframe_and_submit(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway, alice: Account
) -> None:
    _, single = await upscaled(discord, gw)
    start = len(gw.frames)
    await discord.click(single, find_custom_id(single, "Inpaint"), session_id=gw.session_id)
    iframe = await gw.event("INTERACTION_IFRAME_MODAL_CREATE", start=start)
    assert iframe["custom_id"].startswith("MJ::iframe::") and iframe["modal_size"] == 2
    assert iframe["application"]["id"] == MIDJOURNEY_APP_ID and iframe["iframe_path"]
    token = iframe["custom_id"].removeprefix("MJ::iframe::")
    base = sim.urls.discordsays_for(MIDJOURNEY_APP_ID)
    async with http.get(f"{base}/inpaint/api/get-image-info/0/0/{token}") as response:
        info = await response.json()
    assert info["jobId"] == job_hash(single) and (info["width"], info["height"]) == (1024, 1024)
    body = {"customId": token, "mask": png_b64(), "prompt": "", "userId": "0", "username": "0"}
    async with http.post(f"{base}/inpaint/api/submit-job", json={**body, "mask": "%%%"}) as response:
        assert response.status == 400
    async with http.post(f"{base}/inpaint/api/submit-job", json={**body, "customId": "nope"}) as response:
        assert response.status == 404
    async with http.post(
        f"{base}/inpaint/api/submit-job",
        json={**body, "customId": iframe["custom_id"], "mask": "data:image/png;base64," + png_b64()},
    ) as response:
        assert response.status == 200
        assert "success" in (await response.text()).lower()
    async with http.post(f"{base}/.proxy/inpaint/api/submit-job", json=body) as response:
        assert response.status == 409
    first = await gw.event("MESSAGE_CREATE", lambda d: "(Waiting to start)" in d.get("content", ""), start=start)
    assert first["content"] == f"**a quiet harbour** - <@{alice.user_id}> (Waiting to start)" and first["flags"] == 64
    assert first["interaction_metadata"]["id"] == iframe["id"]
    assert first["message_reference"]["message_id"] == single["id"]
    result = await gw.event(
        "MESSAGE_CREATE",
        lambda d: "Variations (Region)" in d.get("content", "") and bool(d.get("components")),
        start=start,
    )
    h = job_hash(result)
    assert result["content"] == f"**a quiet harbour** - Variations (Region) by <@{alice.user_id}> {site(h)} (fast)"
    pressed = updates_of(gw, single["id"], start)
    assert pressed and find_component(pressed[-1], "Inpaint")["style"] == 1


async def test_niji_vary_region_posts_to_midjourney_host(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway
) -> None:
    grid = await imagine_result(discord, gw, "niji region", application_id=NIJI_APP_ID)
    _, single = await click(discord, gw, grid, "upsample::1::")
    start = len(gw.frames)
    await discord.click(single, find_custom_id(single, "Inpaint"), session_id=gw.session_id)
    iframe = await gw.event("INTERACTION_IFRAME_MODAL_CREATE", start=start)
    token = iframe["custom_id"].removeprefix("MJ::iframe::")
    url = sim.urls.discordsays_for(MIDJOURNEY_APP_ID) + "/.proxy/inpaint/api/submit-job"
    async with http.post(url, json={"customId": token, "mask": png_b64(), "prompt": "niji region, with a moon"}) as r:
        assert r.status == 200
    result = await gw.event(
        "MESSAGE_CREATE", lambda d: "Remix (Region)" in d.get("content", "") and bool(d.get("components")), start=start
    )
    assert result["author"]["id"] == NIJI_APP_ID


async def test_remix_modals(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    grid, single = await upscaled(discord, gw, "remix base")
    sim.update_account(alice, remix=True)
    h_grid, h_single = job_hash(grid), job_hash(single)
    cases = [
        (grid, "variation::1::", f"MJ::RemixModal::{h_grid}::1::1", "MJ::RemixModal::new_prompt", "Remix (Strong) by"),
        (
            single,
            "low_variation",
            f"MJ::RemixModal::{h_single}::1::0",
            "MJ::RemixModal::new_prompt",
            "Remix (Subtle) by",
        ),
        (single, "pan_up", f"MJ::PanModal::up::{h_single}::1", "MJ::PanModal::prompt", "--ar 2:3** - Pan Up by"),
        (grid, "reroll", f"MJ::ImagineModal::{grid['id']}", "MJ::ImagineModal::new_prompt", ">) (fast)"),
    ]
    for message, needle, modal_id, input_id, expected in cases:
        start = len(gw.frames)
        status, _ = await discord.click(message, find_custom_id(message, needle), session_id=gw.session_id)
        assert status == 204
        modal = await gw.event("INTERACTION_MODAL_CREATE", start=start)
        assert modal["custom_id"] == modal_id
        field = modal["components"][0]["components"][0]
        assert field["custom_id"] == input_id and field["value"] == "remix base"
        _, result = await submit_and_wait(discord, gw, discord.submit_modal, modal, {input_id: "remix base, at night"})
        assert result["content"].startswith("**remix base, at night")  # pans add the new canvas's --ar
        assert expected in result["content"]


async def test_remix_with_unchanged_prompt_is_a_variation(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account
) -> None:
    grid = await imagine_result(discord, gw, "same words")
    sim.update_account(alice, remix=True)
    start = len(gw.frames)
    await discord.click(grid, find_custom_id(grid, "variation::1::"), session_id=gw.session_id)
    modal = await gw.event("INTERACTION_MODAL_CREATE", start=start)
    _, result = await submit_and_wait(
        discord, gw, discord.submit_modal, modal, {"MJ::RemixModal::new_prompt": "same words"}
    )
    assert "Variations (Strong) by" in result["content"]


async def test_show_job(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    grid = await imagine_result(discord, gw, "show me again")
    h = job_hash(grid)
    nonce = discord.nonce()
    start = len(gw.frames)
    await discord.command(
        "show",
        [{"type": 3, "name": "job_id", "value": h}],
        nonce=nonce,
        session_id=gw.session_id,
        channel_id=alice.dm_channel_ids["midjourney"],
    )
    shown = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert shown["channel_id"] == alice.dm_channel_ids["midjourney"]
    assert shown["content"] == grid["content"] and custom_ids(shown) == custom_ids(grid)
    assert shown["interaction"]["name"] == "show"
    nonce = discord.nonce()
    await discord.command(
        "show",
        [{"type": 3, "name": "job_id", "value": "00000000-0000-4000-8000-000000000000"}],
        nonce=nonce,
        session_id=gw.session_id,
    )
    missing = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert missing["embeds"][0]["title"] == "Invalid parameter"


async def test_dm_results(discord: Discord, gw: Gateway, alice: Account) -> None:
    grid = await imagine_result(discord, gw, "send it to me")
    command = await discord.command_def("DM Results")
    start = len(gw.frames)
    status, _ = await discord.interact(
        {
            "type": 2,
            "application_id": MIDJOURNEY_APP_ID,
            "guild_id": alice.guild_id,
            "channel_id": alice.channel_id,
            "session_id": gw.session_id,
            "nonce": discord.nonce(),
            "data": {
                "id": command["id"],
                "version": command["version"],
                "name": "DM Results",
                "type": 3,
                "target_id": grid["id"],
            },
        }
    )
    assert status == 204
    dm = await gw.event("MESSAGE_CREATE", lambda d: d["channel_id"] == alice.dm_channel_ids["midjourney"], start=start)
    assert dm["attachments"] and dm["content"] == grid["content"]


async def test_every_drawn_button_routes_by_its_parsed_action(sim: Simulator, discord: Discord, gw: Gateway) -> None:
    """Each custom_id the bots draw parses (the action table's grammar) to an action with a handler, passes the
    handler's own checks and renders back to itself."""
    grid = await imagine_result(discord, gw, "all the buttons --ar 16:9")
    _, single = await click(discord, gw, grid, "upsample::2::")
    _, v5_single = await click(discord, gw, await imagine_result(discord, gw, "old --ar 3:2 --v 5.2"), "upsample::1::")
    alice = discord.account
    _, old_single = await click(discord, gw, await imagine_result(discord, gw, "old --v 5.1"), "upsample::1::")
    h = job_hash(single)
    single_job = sim.world.jobs[h]
    cancel = [ui.row(ui.button(render_custom_id(ButtonAction.CANCEL_JOB, hash=h), "Cancel Job", style=4))]
    messages = [
        grid["components"],
        single["components"],
        v5_single["components"],
        old_single["components"],
        ui.video_rows(single_job),
        ui.video_grid_rows(single_job),
        cancel,
        ui.describe_rows(),
        ui.shorten_rows(),
        ui.settings_rows("midjourney", alice, alice.settings["midjourney"]),
        ui.settings_rows("niji", alice, alice.settings["niji"]),
    ]
    table = ButtonHandlers(sim.engine).table()
    actions = set()
    for rows in messages:
        drawn = [c["custom_id"] for row in rows for c in row["components"] if "custom_id" in c]
        assert len(drawn) == len(set(drawn))  # Discord wants a message's custom_ids unique
        for raw in drawn:
            cid = parse_custom_id(raw)
            assert cid.action in table and drawn_by_the_bot(cid) and cid.render() == raw, raw
            actions.add(cid.action)
    assert actions == set(table) - {ButtonAction.CAPTCHA}  # the captcha button comes with its notice


@pytest.mark.parametrize(
    "custom_id",
    [
        "MJ::JOB::upsample::5::{h}",  # the grammar takes any index; grids have four images
        "MJ::JOB::upsample::1::{h}::SOLO",
        "MJ::JOB::reroll::1::{h}::SOLO",
        "MJ::JOB::upsample_v6r1_2x::1::{h}::SOLO",  # 2x/4x exist only under 5.x images
        "MJ::Outpaint::60::1::{h}::SOLO",
        "MJ::Job::PicReader::5",
        "MJ::JOB::animate_medium::1::{h}::SOLO",  # the bot draws high and low motion only
        "MJ::JOB::upsample_max::1::{h}::SOLO",  # an action the simulator does not implement
        "MJ::Something::Else",  # no action at all
    ],
)
async def test_buttons_the_bot_never_draws_are_refused(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account, custom_id: str
) -> None:
    grid = await imagine_result(discord, gw, "a grid to point at")
    custom_id = custom_id.format(h=job_hash(grid))
    app = sim.world.commands.app(MIDJOURNEY_APP_ID)
    assert app is not None
    record = sim.engine.post(app, sim.world.channels[alice.channel_id], components=[ui.row(ui.button(custom_id, "?"))])
    nonce = discord.nonce()
    start = len(gw.frames)
    status, _ = await discord.click(record.data, custom_id, nonce=nonce, session_id=gw.session_id)
    assert status == 204
    reply = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert reply["content"] == NOT_AVAILABLE and reply["flags"] == 64
    assert [j.kind for j in sim.jobs(alice)] == ["imagine"]
