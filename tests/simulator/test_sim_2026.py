"""The bot of 2025-26 (issue 8): v7 grammar by default, each older version with its own; ephemeral button jobs with
Cancel Job, website links, WebP grids, pressed-button edits, per-version layouts, Animate videos (real mp4s), /info
columns and trial accounts, filenames, the ❤️ reply and newer Discord fields."""

from __future__ import annotations

import io
import re
from typing import Any

import aiohttp
import av
import pytest
from PIL import Image
from sim_harness import Discord, Gateway, custom_ids, find_custom_id, imagine_result, submit_and_wait

from simulator import MIDJOURNEY_APP_ID, NIJI_APP_ID, Account, Simulator

JSON = dict[str, Any]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


async def click(discord: Discord, gw: Gateway, message: JSON, needle: str) -> tuple[JSON, JSON]:
    return await submit_and_wait(discord, gw, discord.click, message, find_custom_id(message, needle), within=20)


async def fetch(http: aiohttp.ClientSession, attachment: JSON) -> bytes:
    async with http.get(attachment["url"]) as response:
        assert response.status == 200
        assert response.content_type == attachment["content_type"]
        data = await response.read()
    assert attachment["size"] == len(data)
    return data


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def updates_of(gw: Gateway, message_id: str, start: int = 0) -> list[JSON]:
    return [f["d"] for f in gw.frames[start:] if f.get("t") == "MESSAGE_UPDATE" and f["d"]["id"] == message_id]


def component(message: JSON, needle: str) -> JSON:
    for row in message["components"]:
        for item in row["components"]:
            if needle in item.get("custom_id", ""):
                return dict(item)
    raise AssertionError(f"no component {needle!r} in {custom_ids(message)}")


def job_hash(message: JSON) -> str:
    found = re.search(rf"_({UUID})\.(png|webp|mp4)$", message["attachments"][0]["filename"])
    assert found is not None, message["attachments"]
    return found.group(1)


async def test_v7_imagine_result_and_previews(
    discord: Discord, gw: Gateway, alice: Account, http: aiohttp.ClientSession
) -> None:
    """A v7 grid: content with the website link, a lossless WebP 2048² file named u<digits>_<slug>_<uuid>.webp, and
    512² WebP previews under /attachments/ (not ephemeral-attachments)."""
    start = len(gw.frames)
    result = await imagine_result(discord, gw, "A Glass-Lighthouse v7.0 at dusk")
    h = job_hash(result)
    assert result["content"] == (
        f"**A Glass-Lighthouse v7.0 at dusk** - <@{alice.user_id}> "
        f"[(Open on website for full quality)](<https://midjourney.com/jobs/{h}>) (fast)"
    )
    attachment = result["attachments"][0]
    assert attachment["filename"] == f"u{alice.mj_numeric_id}_A_Glass-Lighthouse_v7.0_at_dusk_{h}.webp"
    assert attachment["content_type"] == "image/webp"
    grid = image_of(await fetch(http, attachment))
    assert grid.format == "WEBP" and grid.size == (2048, 2048) == (attachment["width"], attachment["height"])
    progress_id = next(u["id"] for u in gw.events("MESSAGE_UPDATE")[0:] if "%)" in u.get("content", ""))
    previews = [u["attachments"][0] for u in updates_of(gw, progress_id, start) if u["attachments"]]
    assert previews
    for preview in previews:
        assert preview["filename"] == f"{h}_grid_0.webp" and "/attachments/" in preview["url"]
        assert "/ephemeral-attachments/" not in preview["url"]
        assert image_of(await fetch(http, preview)).size == (512, 512) == (preview["width"], preview["height"])


async def test_button_job_progress_is_ephemeral_and_cancel_job_stops_it(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account
) -> None:
    grid = await imagine_result(discord, gw, "a patient heron")
    sim.set_speed(10)  # the variation now runs for seconds: time to press Cancel Job
    nonce = discord.nonce()
    start = len(gw.frames)
    await discord.click(grid, find_custom_id(grid, "variation::1::"), nonce=nonce, session_id=gw.session_id)
    waiting = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start, within=10)
    assert waiting["flags"] == 64 and waiting["type"] == 19
    assert waiting["message_reference"]["message_id"] == grid["id"]
    assert waiting["referenced_message"]["id"] == grid["id"]
    assert waiting["content"] == f"**a patient heron** - <@{alice.user_id}> (Waiting to start)"
    cancel = component(waiting, "CancelJob")
    job_id = cancel["custom_id"].removeprefix("MJ::CancelJob::ByJobid::")
    assert re.fullmatch(UUID, job_id) and cancel["style"] == 4 and cancel["label"] == "Cancel Job"
    assert sim.job(job_id).kind == "variation" and sim.job(job_id).status in ("waiting", "running")
    # REST history never shows the ephemeral message
    status, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert status == 200 and waiting["id"] not in {m["id"] for m in listed}
    status, _ = await discord.click(waiting, cancel["custom_id"], flags=64, session_id=gw.session_id)
    assert status == 204
    stopped = await gw.event(
        "MESSAGE_UPDATE", lambda d: d["id"] == waiting["id"] and "(Stopped)" in d["content"], start=start, within=10
    )
    assert stopped["content"] == f"**a patient heron** - <@{alice.user_id}> (Stopped)" and stopped["components"] == []
    assert sim.job(job_id).status == "cancelled"
    sim.set_speed(400)
    results = [
        f["d"]
        for f in gw.frames[start:]
        if f.get("t") == "MESSAGE_CREATE" and f["d"].get("attachments") and f["d"]["id"] != grid["id"]
    ]
    assert results == []


async def test_pressed_buttons_turn_blurple_in_edits(discord: Discord, gw: Gateway) -> None:
    """After a click the bot edits the clicked message: the pressed button turns style 1, and the end of the job
    edits it again (several MESSAGE_UPDATEs for one click)."""
    grid = await imagine_result(discord, gw, "a red kite")
    start = len(gw.frames)
    _, single = await click(discord, gw, grid, "upsample::2::")
    edits = updates_of(gw, grid["id"], start)
    assert len(edits) >= 2
    for edit in edits:
        assert component(edit, "upsample::2::")["style"] == 1
        assert component(edit, "upsample::1::")["style"] == 2
    start = len(gw.frames)
    await click(discord, gw, single, "high_variation")
    edits = updates_of(gw, single["id"], start)
    assert len(edits) >= 2 and all(component(e, "high_variation")["style"] == 1 for e in edits)
    assert component(edits[-1], "low_variation")["style"] == 2


@pytest.mark.parametrize(("prompt", "app"), [("a fern --v 6", MIDJOURNEY_APP_ID), ("a fern", NIJI_APP_ID)])
async def test_v6_layout_is_one_row_of_five(discord: Discord, gw: Gateway, prompt: str, app: str) -> None:
    """v6.0 and Niji 6 (the Niji bot's default) speak the 2024 grammar."""
    grid = await imagine_result(discord, gw, prompt, application_id=app)
    assert grid["attachments"][0]["content_type"] == "image/png" and grid["attachments"][0]["width"] == 2048
    assert grid["content"].endswith("> (fast)")
    _, single = await click(discord, gw, grid, "upsample::1::")
    h = job_hash(single)
    rows = single["components"]
    assert [c.get("label") for c in rows[0]["components"]] == [
        "Upscale (Subtle)",
        "Upscale (Creative)",
        "Vary (Subtle)",
        "Vary (Strong)",
        "Vary (Region)",
    ]
    assert rows[0]["components"][1]["emoji"] == {"name": "upscale_1", "id": rows[0]["components"][1]["emoji"]["id"]}
    assert custom_ids({"components": rows[:1]})[:2] == [
        f"MJ::JOB::upsample_v6_2x_subtle::1::{h}::SOLO",
        f"MJ::JOB::upsample_v6_2x_creative::1::{h}::SOLO",
    ]
    assert len(rows) == 3  # [five] [zooms] [pans]: no Web, no Animate
    assert not any("animate" in c or "BOOKMARK" in c for c in custom_ids(single))


async def test_v5_2_layout_with_bookmark_and_web(discord: Discord, gw: Gateway) -> None:
    grid = await imagine_result(discord, gw, "a harbour --v 5.2")
    _, single = await click(discord, gw, grid, "upsample::3::")
    h = job_hash(single)
    rows = single["components"]
    assert [c["label"] for c in rows[0]["components"]] == ["Vary (Strong)", "Vary (Subtle)"]
    assert [c["label"] for c in rows[1]["components"]] == ["Zoom Out 2x", "Zoom Out 1.5x", "Custom Zoom"]
    assert len(rows[2]["components"]) == 4  # pans
    heart, web = rows[3]["components"]
    assert heart["custom_id"] == f"MJ::BOOKMARK::{h}" and heart["emoji"] == {"name": "❤️"}
    assert web["style"] == 5 and web["url"] == f"https://www.midjourney.com/app/jobs/{h}/" and web["label"] == "Web"
    assert not any("upsample" in c for c in custom_ids(single))


async def test_bookmark_reply(discord: Discord, gw: Gateway, alice: Account, sim: Simulator) -> None:
    grid = await imagine_result(discord, gw, "a loved lantern")
    _, single = await click(discord, gw, grid, "upsample::1::")
    nonce = discord.nonce()
    start = len(gw.frames)
    await discord.click(single, find_custom_id(single, "BOOKMARK"), nonce=nonce, session_id=gw.session_id)
    reply = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    link = f"https://discord.com/channels/{alice.guild_id}/{alice.channel_id}/{single['id']}"
    assert reply["content"] == f"You have successfully rated [this job]({link}) with 😍"
    assert reply["type"] == 19 and reply["message_reference"]["message_id"] == single["id"]
    assert reply["flags"] == 64 and reply["attachments"] == [] and reply["components"] == []
    assert [j.kind for j in sim.jobs(alice)] == ["imagine", "upsample"]  # no job


async def test_animate_makes_a_grid_of_four_videos_and_u_gives_each_as_a_real_mp4(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account, http: aiohttp.ClientSession
) -> None:
    grid = await imagine_result(discord, gw, "a small bird --ar 16:9 --no trees")
    _, single = await click(discord, gw, grid, "upsample::1::")
    h_single = job_hash(single)
    start = len(gw.frames)
    waiting, videos = await click(discord, gw, single, "animate_high")
    assert waiting["flags"] == 64 and component(waiting, "CancelJob")
    prompt = "a small bird --motion high --video 1 --aspect 16:9"  # --ar and --no dropped, video params appended
    assert waiting["content"] == f"**{prompt}** - <@{alice.user_id}> (Waiting to start)"
    steps = [u["attachments"][0] for u in updates_of(gw, waiting["id"], start) if u.get("attachments")]
    assert steps and all(re.fullmatch(rf"{UUID}_0_step_\d+\.jpeg", s["filename"]) for s in steps)
    assert image_of(await fetch(http, steps[0])).format == "JPEG"

    # the result: one animated WebP of the four videos, U1-U4 (video_virtual_upscale) and a reroll under it
    h = job_hash(videos)
    assert videos["content"] == (
        f"**{prompt}** - <@{alice.user_id}> [(Open on website for full quality)](<https://midjourney.com/jobs/{h}>)"
        " (fast)"
    )
    assert videos["message_reference"]["message_id"] == single["id"] and videos["type"] == 19
    sheet = videos["attachments"][0]
    assert sheet["content_type"] == "image/webp" and sheet["filename"].endswith(f"_{h}.webp")
    size = tuple(single["attachments"][0][k] for k in ("width", "height"))
    assert (sheet["width"], sheet["height"]) == size == (1456, 816)
    animated = Image.open(io.BytesIO(await fetch(http, sheet)))
    assert animated.format == "WEBP" and animated.is_animated and animated.n_frames >= 4
    assert custom_ids(videos) == [
        *(f"MJ::JOB::video_virtual_upscale::{i}::{h}" for i in range(1, 5)),
        f"MJ::JOB::reroll::0::{h}::SOLO",
    ]
    assert [c.get("label") for c in videos["components"][0]["components"][:4]] == ["U1", "U2", "U3", "U4"]
    job = sim.job(h)
    assert job.kind == "video" and job.parent is not None and job.parent.id == h_single

    # U2: that video alone, an H.264 mp4 at the image's size, posted at once, under Extend
    _, video = await click(discord, gw, videos, "video_virtual_upscale::2::")
    h2 = job_hash(video)
    assert video["content"] == f"**{prompt}** - Image #2 <@{alice.user_id}>"
    assert video["message_reference"]["message_id"] == videos["id"] and video["type"] == 19
    attachment = video["attachments"][0]
    assert attachment["content_type"] == "video/mp4" and attachment["filename"].endswith(f"_{h2}.mp4")
    data = await fetch(http, attachment)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(video=0))
    assert (stream.codec_context.width, stream.codec_context.height) == size
    assert 12 <= len(frames) <= 24
    assert sim.job(h2).parent is not None and sim.job(h2).parent.id == h
    assert custom_ids(video) == [
        f"MJ::JOB::animate_high_extend::2::{h2}",  # the index is the video's place in its grid
        f"MJ::JOB::animate_low_extend::2::{h2}",
        f"MJ::BOOKMARK::{h2}",
    ]
    _, extended = await click(discord, gw, video, "animate_low_extend")
    assert "--motion low --video 1" in extended["content"]
    with av.open(io.BytesIO(await fetch(http, extended["attachments"][0]))) as container:
        assert len(list(container.decode(video=0))) > len(frames)

    # 🔄 under the grid: four new videos of the same image
    _, again = await click(discord, gw, videos, "reroll::0::")
    assert again["attachments"][0]["content_type"] == "image/webp" and job_hash(again) != h
    assert sim.job(job_hash(again)).parent is not None and sim.job(job_hash(again)).parent.id == h_single


async def test_turbo_refuses_video(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    grid = await imagine_result(discord, gw, "a quick cat")
    _, single = await click(discord, gw, grid, "upsample::1::")
    sim.update_account(alice, mode="turbo")
    nonce = discord.nonce()
    start = len(gw.frames)
    await discord.click(single, find_custom_id(single, "animate_low"), nonce=nonce, session_id=gw.session_id)
    notice = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert notice["flags"] == 64 and "Turbo mode isn't supported for video jobs" in notice["embeds"][0]["description"]


async def test_info_column_and_trial(sim: Simulator, http: aiohttp.ClientSession) -> None:
    trial = sim.add_account("tria.l", plan="trial")
    gw = Gateway(sim.urls.gateway, trial.token)
    await gw.identify()
    try:
        discord = Discord(http, sim.urls, trial)
        nonce = discord.nonce()
        start = len(gw.frames)
        await discord.command("info", nonce=nonce, session_id=gw.session_id)
        first = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
        info = await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == first["id"] and bool(d.get("embeds")), start=start)
        assert info["embeds"][0]["description"] == (
            "**Subscription**:               None (Trial)\n"
            "**Visibility Mode**:            Public\n"
            "**Fast Time Remaining**:        25.00 minutes\n"
            "**Lifetime Usage**:             0 images (0.00 hours)\n"
            "**Relaxed Usage**:              0 images (0.00 hours)\n\n"
            "**Queued Jobs (fast)**:         0\n"
            "**Queued Jobs (relax)**:        0\n"
            "**Running Jobs**:               None"
        )
    finally:
        await gw.close()


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("A Red-Fox, in the snow. --v 6.1", "tria.l_A_Red-Fox_in_the_snow._{h}.png"),
        ("一只狐狸 --v 6.1", "User__{h}.png"),
        ("一只狐狸", "u{digits}__{h}.webp"),
        (
            "a small bird pixel-art sprite, single centered character, clean transparent background",
            "u{digits}_a_small_bird_pixel-art_sprite_single_centered_chara_{h}.webp",
        ),
    ],
)
async def test_filenames(sim: Simulator, http: aiohttp.ClientSession, prompt: str, expected: str) -> None:
    account = sim.add_account("tria.l")
    gw = Gateway(sim.urls.gateway, account.token)
    await gw.identify()
    try:
        result = await imagine_result(Discord(http, sim.urls, account), gw, prompt)
    finally:
        await gw.close()
    h = job_hash(result)
    assert result["attachments"][0]["filename"] == expected.format(h=h, digits=account.mj_numeric_id)


async def test_newer_discord_fields(discord: Discord, gw: Gateway, http: aiohttp.ClientSession) -> None:
    result = await imagine_result(discord, gw, "fields")
    ids = [result["components"][0]["id"]] + [c["id"] for c in result["components"][0]["components"]]
    assert ids == [1, 2, 3, 4, 5, 6] and result["components"][1]["id"] == 7
    assert result["resolved"] == {"users": {}, "members": {}, "channels": {}, "roles": {}}
    attachment = result["attachments"][0]
    assert attachment["placeholder_version"] == 1 and re.fullmatch(r"[A-Za-z0-9+/]{28}", attachment["placeholder"])
    author = result["author"]
    assert author["id"] == MIDJOURNEY_APP_ID and "flags" in author and author["clan"] is None
    status, listed, _ = await discord.get(f"/channels/{result['channel_id']}/messages?limit=1")
    assert status == 200 and listed[0]["components"][0]["components"][0]["id"] == 2
