"""The imagine lifecycle and its message grammar, modes, limits, errors and determinism."""

from __future__ import annotations

import asyncio
import io
import re

import aiohttp
import pytest
from PIL import Image
from sim_harness import Discord, Gateway, custom_ids, imagine_result, submit_and_wait

from simulator import MIDJOURNEY_APP_ID, NIJI_APP_ID, Account, Simulator

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PROGRESS = re.compile(r"^\*\*(?P<prompt>.+)\*\* - <@(?P<user>\d+)> \((?P<pct>\d+)%\) \((?P<mode>fast|relaxed|turbo)\)$")


async def fetch(http: aiohttp.ClientSession, url: str) -> bytes:
    async with http.get(url) as response:
        assert response.status == 200, url
        return await response.read()


def quadrant_colours(data: bytes) -> list[tuple[int, ...]]:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    return [image.getpixel((qx * w // 2 + w // 40, qy * h // 2 + h // 40)) for qy in (0, 1) for qx in (0, 1)]


async def test_imagine_lifecycle_grammar(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account, http: aiohttp.ClientSession
) -> None:
    nonce = "1200000000000000001"
    start = len(gw.frames)
    status, body = await discord.imagine("a glass lighthouse --v 5.1", nonce=nonce, session_id=gw.session_id)
    assert (status, body) == (204, b"")
    created = await gw.event("INTERACTION_CREATE", start=start)
    success = await gw.event("INTERACTION_SUCCESS", start=start)
    assert created == {"id": success["id"], "nonce": nonce}
    first = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert first["content"] == f"**a glass lighthouse --v 5.1** - <@{alice.user_id}> (Waiting to start)"
    assert first["type"] == 20 and first["flags"] == 0
    assert first["author"] == {**first["author"], "id": MIDJOURNEY_APP_ID, "bot": True, "username": "Midjourney Bot"}
    assert first["webhook_id"] == MIDJOURNEY_APP_ID and first["application_id"] == MIDJOURNEY_APP_ID
    assert first["interaction"]["id"] == success["id"] and first["interaction"]["name"] == "imagine"
    assert first["interaction"]["user"]["id"] == alice.user_id
    metadata = first["interaction_metadata"]
    assert (metadata["id"], metadata["type"], metadata["name"], metadata["user_id"]) == (
        success["id"],
        2,
        "imagine",
        alice.user_id,
    )
    assert first["attachments"] == [] and first["components"] == [] and first["guild_id"] == alice.guild_id
    deleted = await gw.event("MESSAGE_DELETE", lambda d: d["id"] == first["id"], start=start)
    assert deleted == {"id": first["id"], "channel_id": alice.channel_id, "guild_id": alice.guild_id}
    updates = [u for u in gw.events("MESSAGE_UPDATE") if u["id"] == first["id"]]
    assert len(updates) >= 4  # (0%) and then at least three previews
    percents = []
    previews = []
    for update in updates:
        match = PROGRESS.match(update["content"])
        assert match, update["content"]
        assert match["prompt"] == "a glass lighthouse --v 5.1" and match["mode"] == "fast"
        assert match["user"] == alice.user_id
        percents.append(int(match["pct"]))
        assert "nonce" not in update
        if percents[-1] == 0:
            assert update["attachments"] == []
            continue
        preview = update["attachments"][0]
        assert re.fullmatch(UUID + r"_grid_0\.webp", preview["filename"])
        assert "/ephemeral-attachments/" in preview["url"]
        assert (preview["width"], preview["height"], preview["content_type"]) == (128, 128, "image/webp")
        previews.append(await fetch(http, preview["url"]))
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] < 100
    assert len(set(previews)) == len(previews)  # every preview differs
    assert Image.open(io.BytesIO(previews[0])).format == "WEBP"
    result = await gw.event("MESSAGE_CREATE", lambda d: bool(d.get("components")), start=start)
    assert result["content"] == f"**a glass lighthouse --v 5.1** - <@{alice.user_id}> (fast)"
    assert "nonce" not in result and result["interaction_metadata"]["id"] == success["id"]
    job_hash = re.fullmatch(rf"alice_a_glass_lighthouse_({UUID})\.png", result["attachments"][0]["filename"])
    assert job_hash is not None
    h = job_hash.group(1)
    assert custom_ids(result) == [
        *(f"MJ::JOB::upsample::{i}::{h}" for i in range(1, 5)),
        f"MJ::JOB::reroll::0::{h}::SOLO",
        *(f"MJ::JOB::variation::{i}::{h}" for i in range(1, 5)),
    ]
    labels = [c.get("label") or c["emoji"]["name"] for row in result["components"] for c in row["components"]]
    assert labels == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
    grid = await fetch(http, result["attachments"][0]["url"])
    assert Image.open(io.BytesIO(grid)).size == (1024, 1024)
    assert result["attachments"][0]["size"] == len(grid)
    assert len(set(quadrant_colours(grid))) == 4
    job = sim.job(h)
    assert (
        job.status == "succeeded" and job.progress_message_id == first["id"] and job.result_message_id == result["id"]
    )


@pytest.mark.parametrize(
    ("ar", "size"),
    [("16:9", (2912, 1632)), ("2:3", (1792, 2688)), ("1:1", (2048, 2048)), ("16:9 --v 5.2", (1368, 768))],
)
async def test_grid_size_follows_aspect_ratio(
    discord: Discord, gw: Gateway, http: aiohttp.ClientSession, ar: str, size: tuple[int, int]
) -> None:
    result = await imagine_result(discord, gw, f"a wide field --ar {ar}")
    attachment = result["attachments"][0]
    assert (attachment["width"], attachment["height"]) == size
    assert Image.open(io.BytesIO(await fetch(http, attachment["url"]))).size == size


@pytest.mark.parametrize(("mode", "text"), [("relax", "relaxed"), ("turbo", "turbo")])
async def test_modes_in_content_and_timing(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account, mode: str, text: str
) -> None:
    fast = await imagine_result(discord, gw, "speed test")
    sim.update_account(alice, mode=mode)
    other = await imagine_result(discord, gw, "speed test")
    assert other["content"].endswith(f"({text})")
    fast_job = sim.jobs(alice, "succeeded")[0]
    other_job = sim.jobs(alice, "succeeded")[1]
    assert fast["content"].endswith("(fast)")
    if mode == "relax":
        assert other_job.duration > fast_job.duration * 1.5 and other_job.start_delay > fast_job.start_delay
    else:
        assert other_job.duration < fast_job.duration


async def test_prompt_mode_flag_and_stealth(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.update_account(alice, plan="pro", stealth=True)
    result = await imagine_result(discord, gw, "hidden --relax")
    assert result["content"].endswith("(relaxed, stealth)")


async def test_fast_hours_run_down_then_credits_exhausted(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account
) -> None:
    before = alice.fast_remaining_hours
    await imagine_result(discord, gw, "uses gpu time")
    assert alice.fast_remaining_hours < before
    sim.trigger(alice, "out_of_fast_hours")
    start = len(gw.frames)
    nonce = discord.nonce()
    await discord.imagine("no hours left", nonce=nonce, session_id=gw.session_id)
    notice = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert notice["embeds"][0]["title"] == "Credits exhausted"
    assert notice["embeds"][0]["color"] == 16711680 and notice["flags"] == 64
    assert notice["embeds"][0]["footer"]["text"] == "/imagine no hours left"
    relaxed = await imagine_result(discord, gw, "still works --relax")
    assert relaxed["content"].endswith("(relaxed)")


async def test_concurrency_queue_and_queue_full(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.set_rate_limit(enabled=False)
    waiting = []
    for i in range(3):
        first, _ = await asyncio.wait_for(_first_message(discord, gw, f"simstall slot {i}"), 10)
        assert first["content"].endswith("(Waiting to start)")
        waiting.append(first)
    queued_nonces = []
    for i in range(alice.max_queued):
        nonce = discord.nonce()
        start = len(gw.frames)
        await discord.imagine(f"queued {i}", nonce=nonce, session_id=gw.session_id)
        notice = await gw.event("MESSAGE_CREATE", lambda d, n=nonce: d.get("nonce") == n, start=start)
        embed = notice["embeds"][0]
        assert embed["title"] == "Job queued" and embed["color"] == 16776960 and notice["flags"] == 64
        assert embed["footer"]["text"] == f"/imagine queued {i}"
        queued_nonces.append(nonce)
    nonce = discord.nonce()
    start = len(gw.frames)
    await discord.imagine("one too many", nonce=nonce, session_id=gw.session_id)
    full = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert full["embeds"][0]["title"] == "Queue full" and full["embeds"][0]["color"] == 16711680
    assert len(alice.running) == 3 and len(alice.queued) == 10
    status, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert status == 200 and listed
    assert all(not m.get("embeds") for m in listed)  # ephemeral notices are not in the channel history
    start = len(gw.frames)
    stalled = [j for j in sim.jobs(alice) if "simstall" in j.prompt]
    sim.cancel_job(stalled[0].id)
    stopped = await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == stalled[0].progress_message_id, start=start)
    assert stopped["content"].endswith("(Stopped)")
    started = await gw.event("MESSAGE_CREATE", lambda d: "(Waiting to start)" in d.get("content", ""), start=start)
    assert started["content"].startswith("**queued 0**") and "nonce" not in started
    queued_job = next(j for j in sim.jobs(alice) if j.prompt == "queued 0")
    assert started["interaction_metadata"]["id"] == queued_job.origin.interaction_id
    for job in stalled[1:]:
        sim.cancel_job(job.id)


async def _first_message(discord: Discord, gw: Gateway, prompt: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    nonce = discord.nonce()
    start = len(gw.frames)
    status, body = await discord.imagine(prompt, nonce=nonce, session_id=gw.session_id)
    assert status == 204, body
    return await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start), nonce


@pytest.mark.parametrize(
    ("prompt", "title", "needle"),
    [
        ("a cat --foo 2", "Invalid parameter", "`--foo`"),
        ("a cat --ar 1.5:1", "Invalid parameter", "aspect ratio"),
        ("a cat --v 4", "Invalid parameter", "--version"),
        ("a cat --s 5000", "Invalid parameter", "stylize"),
        ("a cat --c 101", "Invalid parameter", "chaos"),
        ("a cat --q 3", "Invalid parameter", "quality"),
        ("a cat --seed -1", "Invalid parameter", "seed"),
        ("a cat --stop 5", "Invalid parameter", "stop"),
        ("a cat --w 9999", "Invalid parameter", "weird"),
        ("a cat --tile yes", "Invalid parameter", "Unexpected"),
        ("a cat --no", "Invalid parameter", "Missing value"),
        ("a cat --sref notaurl", "Invalid parameter", "--sref"),
        ("a cat --cref https://example.com/a.png --v 5.2", "Invalid parameter", "--cref"),
        ("a cat --niji 6 --v 6", "Invalid parameter", "cannot be used together"),
        ("--ar 1:1", "Empty prompt", "empty"),
        ("a simbanned cat", "Banned prompt detected", "`simbanned`"),
        ("a cat --no simbanned", "Banned prompt detected", "`simbanned`"),
        ("https://images.invalid/cat.png a cat", "Invalid link", "images.invalid"),
        ("a simduplicate cat", "Duplicate images detected", "identical"),
    ],
)
async def test_refusals_are_ephemeral_embeds(
    discord: Discord, gw: Gateway, prompt: str, title: str, needle: str
) -> None:
    notice, _ = await _first_message(discord, gw, prompt)
    embed = notice["embeds"][0]
    assert embed["title"] == title
    assert needle in embed["description"]
    assert embed["color"] == 16711680
    assert notice["flags"] == 64
    assert notice["interaction_metadata"]["name"] == "imagine"


async def test_valid_parameters_are_accepted(discord: Discord, gw: Gateway) -> None:
    prompt = (
        "https://example.com/ref.png a cat --ar 3:2 --v 6.1 --q .5 --s 250 --c 20 --seed 42 --no dogs "
        "--stop 90 --tile --w 100 --sref https://example.com/s.png 123 --cref https://example.com/c.png --cw 50 "
        "--style raw"
    )
    result = await imagine_result(discord, gw, prompt)
    assert re.match(
        r"^\*\*<https://s\.mj\.run/\w{11}> a cat --ar 3:2 .* --style raw\*\* - <@\d+> "
        r"\(Open on website for full quality\) \(fast\)$",  # --v 6.1: the 2025 grammar's plain website text
        result["content"],
    )


async def test_em_dash_and_spaces_are_normalised(discord: Discord, gw: Gateway) -> None:
    result = await imagine_result(discord, gw, "  a   red  fox —ar 16:9 ")
    assert result["content"].startswith("**a red fox --ar 16:9** - ")


async def test_image_filter_cancellation_is_an_update(sim: Simulator, discord: Discord, gw: Gateway) -> None:
    first, _ = await _first_message(discord, gw, "a simfilter scene")
    update = await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == first["id"] and bool(d.get("embeds")))
    assert update["embeds"][0]["title"] == "Request cancelled due to image filters"
    assert update["embeds"][0]["color"] == 16711680 and update["attachments"] == []
    await asyncio.sleep(0.2)
    assert not [m for m in gw.events("MESSAGE_CREATE") if m.get("components")]
    assert sim.jobs(status="failed")[0].error == "Request cancelled due to image filters"


async def test_could_not_complete(sim: Simulator, discord: Discord, gw: Gateway) -> None:
    first, _ = await _first_message(discord, gw, "a simfail scene")
    await gw.event("MESSAGE_DELETE", lambda d: d["id"] == first["id"])
    failure = await gw.event("MESSAGE_CREATE", lambda d: bool(d.get("embeds")))
    assert failure["embeds"][0]["title"] == "Sorry! Could not complete the job!"
    assert failure["interaction_metadata"]["id"] == first["interaction_metadata"]["id"]
    assert failure["embeds"][0]["footer"]["text"] == "/imagine a simfail scene"


async def test_cancel_job_message_command(sim: Simulator, discord: Discord, gw: Gateway) -> None:
    first, _ = await _first_message(discord, gw, "a simstall scene")
    await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == first["id"] and "(0%)" in d["content"])
    start = len(gw.frames)
    command = await discord.command_def("Cancel Job")
    payload = {
        "type": 2,
        "application_id": MIDJOURNEY_APP_ID,
        "guild_id": discord.account.guild_id,
        "channel_id": discord.account.channel_id,
        "session_id": gw.session_id,
        "nonce": discord.nonce(),
        "data": {
            "id": command["id"],
            "version": command["version"],
            "name": "Cancel Job",
            "type": 3,
            "target_id": first["id"],
        },
    }
    status, body = await discord.interact(payload)
    assert status == 204, body
    stopped = await gw.event(
        "MESSAGE_UPDATE", lambda d: d["id"] == first["id"] and "Stopped" in d["content"], start=start
    )
    assert stopped["content"].endswith("(Stopped)")
    reply = await gw.event("MESSAGE_CREATE", lambda d: d.get("flags") == 64, start=start)
    assert "cancelled" in reply["content"]


async def test_niji_bot(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    result = await imagine_result(discord, gw, "a cute fox", application_id=NIJI_APP_ID)
    assert result["author"]["id"] == NIJI_APP_ID and result["author"]["username"] == "niji・journey Bot"
    start = len(gw.frames)
    await discord.click(result, custom_ids(result)[0], session_id=gw.session_id)
    single = await gw.event("MESSAGE_CREATE", lambda d: "Image #1" in d.get("content", ""), start=start)
    assert any("upsample_v6_2x_subtle" in c for c in custom_ids(single))


async def test_repeat_creates_jobs_but_not_in_relax(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account
) -> None:
    status, _ = await discord.imagine("twins --repeat 2", session_id=gw.session_id)
    assert status == 204
    await gw.event("MESSAGE_CREATE", lambda d: "(Waiting to start)" in d.get("content", ""))
    assert len(sim.jobs(alice)) == 2  # both jobs exist before the first message goes out
    notice, _ = await _first_message(discord, gw, "twins --repeat 2 --relax")
    assert notice["embeds"][0]["title"] == "Job action restricted"
    assert "batch" in notice["embeds"][0]["description"]


async def test_basic_plan_cannot_relax(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.update_account(alice, plan="basic")
    notice, _ = await _first_message(discord, gw, "slow please --relax")
    assert notice["embeds"][0]["title"] == "Job action restricted"


async def test_same_seed_reproduces_jobs_and_bytes(http: aiohttp.ClientSession) -> None:
    async def run(seed: int) -> tuple[str, str, int, bytes]:
        sim = Simulator(seed=seed, speed=400)
        await sim.start()
        try:
            acct = sim.add_account("alice")
            discord = Discord(http, sim.urls, acct)
            gw = Gateway(sim.urls.gateway, acct.token)
            await gw.identify()
            result = await imagine_result(discord, gw, "deterministic harbour")
            await gw.close()
            job = sim.jobs(acct)[0]
            return acct.token, job.id, job.seed, await fetch(http, result["attachments"][0]["url"])
        finally:
            await sim.stop()

    first, second, other = await run(5), await run(5), await run(6)
    assert first == second
    assert first[0] != other[0] and first[1] != other[1] and first[3] != other[3]


async def test_seed_parameter_reproduces_the_palette(
    sim: Simulator, discord: Discord, gw: Gateway, http: aiohttp.ClientSession
) -> None:
    a = await imagine_result(discord, gw, "a calm sea --seed 77")
    b = await imagine_result(discord, gw, "a calm sea --seed 77")
    c = await imagine_result(discord, gw, "a calm sea --seed 78")
    colours = [quadrant_colours(await fetch(http, r["attachments"][0]["url"])) for r in (a, b, c)]
    assert colours[0] == colours[1] != colours[2]
    assert a["attachments"][0]["filename"] != b["attachments"][0]["filename"]


async def test_dm_channel_imagine(discord: Discord, gw: Gateway, alice: Account) -> None:
    _, result = await submit_and_wait(
        discord, gw, discord.imagine, "in a dm", channel_id=alice.dm_channel_ids["midjourney"]
    )
    assert result["channel_id"] == alice.dm_channel_ids["midjourney"] and "guild_id" not in result
