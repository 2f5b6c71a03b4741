"""The original project's Discord library, discord.js-selfbot-v13 2.14 (npm), against the simulator, unpatched.

The node test logs the library in (base URL `http.api` is its only change; the simulator serves TLS because the
library's REST client always uses an https agent), runs /imagine through `channel.sendSlash`, waits for the grid,
clicks U1 with `message.clickButton` and waits for the upscale, then fetches both images from the simulator's CDN.
It is skipped with a message when `node` or `tests/js/node_modules` is missing (`npm ci --prefix tests/js`).

The Python tests next to it pin down, without node, what the library relies on: READY shaped by IDENTIFY
`capabilities` (plain lists and the user's own guild member for capabilities 0), `GET /users/{id}` and
`/users/{id}/profile`, and the TLS listener.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from PIL import Image
from sim_harness import Discord, Gateway

from simulator import MIDJOURNEY_APP_ID, NIJI_APP_ID, Account, Simulator
from simulator.thread import SimulatorThread

JSON = dict[str, Any]
JS_DIR = Path(__file__).resolve().parents[1] / "js"
SMOKE_SCRIPT = JS_DIR / "selfbot_smoke.js"
LIBRARY_DIR = JS_DIR / "node_modules" / "discord.js-selfbot-v13"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPEED = 200.0
# The library files an interaction in its cache only after `POST /interactions` has returned, so an
# INTERACTION_SUCCESS that beats the HTTP response (possible when 0.4 simulated s are 2 ms) would be missed. Real
# Discord's acknowledgement never arrives within milliseconds: keep it at 0.25 s of wall-clock time.
ACK_DELAY = 0.25 * SPEED
NODE_TIMEOUT = 90.0


# ----- READY shaped by IDENTIFY capabilities ----------------------------------------------------------------------
async def _ready(sim: Simulator, account: Account, capabilities: int | None) -> JSON:
    gw = Gateway(sim.urls.gateway, account.token)
    await gw.open()
    identify: JSON = {"token": account.token, "properties": {"os": "Linux", "browser": "Chrome", "device": ""}}
    if capabilities is not None:
        identify["capabilities"] = capabilities
    try:
        await gw.send(2, identify)
        return await gw.event("READY")
    finally:
        await gw.close()


@pytest.mark.parametrize("capabilities", [None, 0])
async def test_ready_for_capabilities_0_uses_plain_lists_and_full_objects(
    sim: Simulator, alice: Account, capabilities: int | None
) -> None:
    ready = await _ready(sim, alice, capabilities)
    # Without VERSIONED_* bits both settings collections are plain lists (the library iterates them).
    assert ready["user_guild_settings"] == []
    assert ready["read_state"] == []
    # Without DEDUPE_USER_OBJECTS: the user's own member inside each guild, recipients as user objects.
    (guild,) = ready["guilds"]
    (member,) = guild["members"]
    assert member["user"]["id"] == alice.user_id
    assert member["user"]["username"] == "alice"
    assert member["roles"] == [] and member["joined_at"]
    recipients = {c["id"]: [u["id"] for u in c["recipients"]] for c in ready["private_channels"]}
    assert recipients == {
        alice.dm_channel_ids["midjourney"]: [MIDJOURNEY_APP_ID],
        alice.dm_channel_ids["niji"]: [NIJI_APP_ID],
    }
    assert all(u["bot"] for c in ready["private_channels"] for u in c["recipients"])
    assert "recipient_ids" not in ready["private_channels"][0]
    assert "users" not in ready and "merged_members" not in ready
    assert ready["notes"] == {}  # LAZY_USER_NOTES not asked for


async def test_ready_for_web_capabilities_is_versioned_and_deduplicated(sim: Simulator, alice: Account) -> None:
    ready = await _ready(sim, alice, 16381)
    assert ready["user_guild_settings"] == {"entries": [], "partial": False, "version": 0}
    assert ready["read_state"] == {"entries": [], "partial": False, "version": 0}
    (guild,) = ready["guilds"]
    assert "members" not in guild
    assert [[m["user_id"] for m in members] for members in ready["merged_members"]] == [[alice.user_id]]
    assert "user" not in ready["merged_members"][0][0]
    assert {c["recipient_ids"][0] for c in ready["private_channels"]} == {MIDJOURNEY_APP_ID, NIJI_APP_ID}
    assert {u["id"] for u in ready["users"]} == {MIDJOURNEY_APP_ID, NIJI_APP_ID}
    assert "notes" not in ready


async def test_ready_bits_are_independent(sim: Simulator, alice: Account) -> None:
    ready = await _ready(sim, alice, 1 << 3)  # VERSIONED_USER_GUILD_SETTINGS only
    assert isinstance(ready["user_guild_settings"], dict)
    assert ready["read_state"] == []
    assert ready["guilds"][0]["members"][0]["user"]["id"] == alice.user_id


async def test_ready_ignores_a_malformed_capabilities_field(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.open()
    try:
        await gw.send(2, {"token": alice.token, "capabilities": "16381", "properties": {}})
        ready = await gw.event("READY")
    finally:
        await gw.close()
    assert ready["user_guild_settings"] == []  # treated as 0, not a crash


# ----- users and profiles -----------------------------------------------------------------------------------------
async def test_get_user_finds_bots_and_accounts(sim: Simulator, discord: Discord, alice: Account) -> None:
    status, bot, _ = await discord.get(f"/users/{MIDJOURNEY_APP_ID}")
    assert status == 200
    assert bot["id"] == MIDJOURNEY_APP_ID and bot["bot"] is True and bot["username"] == "Midjourney Bot"
    bob = sim.add_account("bob")
    status, user, _ = await discord.get(f"/users/{bob.user_id}")
    assert status == 200
    assert user["id"] == bob.user_id and user["username"] == "bob" and "bot" not in user
    assert "email" not in user and "token" not in user  # public fields only
    status, body, _ = await discord.get("/users/1234567890123456789")
    assert (status, body) == (404, {"message": "Unknown User", "code": 10013})
    status, body, _ = await discord.get("/users/not-a-user")
    assert status == 400 and body["code"] == 50035
    assert body["errors"]["user_id"]["_errors"][0]["code"] == "NUMBER_TYPE_COERCE"


async def test_bot_profile_carries_application_mutual_guilds_and_member(discord: Discord, alice: Account) -> None:
    status, profile, _ = await discord.get(
        f"/users/{MIDJOURNEY_APP_ID}/profile", params={"with_mutual_guilds": "true", "guild_id": alice.guild_id}
    )
    assert status == 200, profile
    assert profile["user"]["id"] == MIDJOURNEY_APP_ID and profile["user"]["bot"] is True
    assert profile["connected_accounts"] == []
    assert profile["application"]["id"] == MIDJOURNEY_APP_ID
    assert profile["mutual_guilds"] == [{"id": alice.guild_id, "nick": None}]
    assert profile["guild_member"]["user"]["id"] == MIDJOURNEY_APP_ID
    assert profile["guild_member_profile"]["guild_id"] == alice.guild_id
    status, plain, _ = await discord.get(f"/users/{MIDJOURNEY_APP_ID}/profile")
    assert status == 200
    assert "mutual_guilds" not in plain and "guild_member" not in plain


async def test_profiles_of_strangers_are_forbidden(sim: Simulator, discord: Discord, alice: Account) -> None:
    carol = sim.add_account("carol")  # her own guild: nothing shared with alice
    status, body, _ = await discord.get(f"/users/{carol.user_id}/profile")
    assert (status, body) == (403, {"message": "Missing Access", "code": 50001})
    dave = sim.add_account("dave", guild_id=alice.guild_id)
    status, profile, _ = await discord.get(f"/users/{dave.user_id}/profile", params={"with_mutual_guilds": "true"})
    assert status == 200
    assert profile["user"]["id"] == dave.user_id and "application" not in profile
    assert profile["mutual_guilds"] == [{"id": alice.guild_id, "nick": None}]
    status, own, _ = await discord.get("/users/@me/profile")
    assert status == 200 and own["user"]["id"] == alice.user_id


# ----- TLS listener -----------------------------------------------------------------------------------------------
async def test_tls_listener_serves_rest_gateway_and_cdn_over_a_generated_certificate() -> None:
    sim = Simulator(seed=3, speed=SPEED, tls=True)
    urls = await sim.start()
    cert_file = sim.tls_cert_file
    try:
        assert cert_file is not None and await asyncio.to_thread(Path(cert_file).is_file)
        assert urls.rest.startswith("https://127.0.0.1:") and urls.gateway.startswith("wss://127.0.0.1:")
        assert urls.cdn.startswith("https://") and urls.resume_gateway.startswith("wss://")
        alice = sim.add_account("alice")
        trusted = ssl.create_default_context(cafile=cert_file)
        async with aiohttp.ClientSession(trust_env=False) as http:
            discord = Discord(http, urls, alice)
            status, body, _ = await discord.get("/gateway", ssl=trusted)
            assert (status, body) == (200, {"url": urls.gateway})
            status, me, _ = await discord.get("/users/@me", ssl=trusted)
            assert status == 200 and me["id"] == alice.user_id
            async with http.ws_connect(urls.gateway + "/?v=9&encoding=json", ssl=trusted) as ws:
                hello = await ws.receive_json(timeout=5)
                assert hello["op"] == 10
            # A client that does not trust the certificate is refused: it really is TLS, not plain HTTP.
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await discord.get("/gateway", ssl=ssl.create_default_context())
    finally:
        await sim.stop()
    assert sim.tls_cert_file is None
    assert not await asyncio.to_thread(Path(cert_file).exists)  # the throwaway key and certificate are removed on stop


async def test_plain_simulator_has_no_certificate(sim: Simulator) -> None:
    assert sim.tls_cert_file is None
    assert sim.urls.rest.startswith("http://")


# ----- the library itself -----------------------------------------------------------------------------------------
def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the discord.js-selfbot-v13 test needs Node.js >= 16.6 on PATH")
    if not LIBRARY_DIR.is_dir():
        pytest.skip("tests/js/node_modules is missing: run `npm ci --prefix tests/js` (the CI script does)")
    return node


def _records(stdout: str) -> list[JSON]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _one(records: list[JSON], event: str) -> JSON:
    found = [r for r in records if r["event"] == event]
    assert len(found) == 1, (event, records)
    return found[0]


def _fetch_png(url: str, cert_file: str, width: int, height: int, fmt: str = "PNG") -> None:
    response = httpx.get(url, verify=ssl.create_default_context(cafile=cert_file), timeout=30)
    assert response.status_code == 200, url
    assert response.headers["content-type"] == f"image/{fmt.lower()}"
    assert fmt != "PNG" or response.content.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == fmt
        assert image.size == (width, height)


def test_selfbot_v13_logs_in_imagines_and_upscales() -> None:
    node = _node()
    prompt = "a lighthouse at dusk, oil painting"
    with SimulatorThread(seed=11, speed=SPEED, tls=True, interaction_ack_delay=ACK_DELAY) as thread:
        account = thread.add_account("selfbot")
        cert_file = thread.sim.tls_cert_file
        assert cert_file is not None
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "NODE_EXTRA_CA_CERTS": cert_file,  # configuration, not a patch: trust the simulator's certificate
            "SIM_BASE": thread.urls.base,
            "SIM_TOKEN": account.token,
            "SIM_CHANNEL_ID": account.channel_id,
            "SIM_BOT_ID": MIDJOURNEY_APP_ID,
            "SIM_PROMPT": prompt,
            "SIM_TIMEOUT_MS": str(int((NODE_TIMEOUT - 10) * 1000)),
        }
        started = time.monotonic()
        try:
            run = subprocess.run(
                [node, str(SMOKE_SCRIPT)],
                cwd=JS_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=NODE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            pytest.fail(f"the node script did not finish within {NODE_TIMEOUT} s; stdout so far: {error.stdout!r}")
        elapsed = time.monotonic() - started
        records = _records(run.stdout)
        assert run.returncode == 0, f"exit {run.returncode} after {elapsed:.1f} s\n{run.stdout}\n{run.stderr}"
        assert records[-1] == {"event": "done"}
        assert account.token not in run.stdout + run.stderr  # the library's debug output is not captured

        ready = _one(records, "ready")
        assert ready["user_id"] == account.user_id and ready["username"] == "selfbot"
        assert ready["guild_ids"] == [account.guild_id]
        assert ready["channel_found"] and ready["member_found"]
        assert ready["session_id"] in {s["session_id"] for s in thread.sessions(account)}

        bot = _one(records, "bot")
        assert bot == {
            "event": "bot",
            "user_id": MIDJOURNEY_APP_ID,
            "username": "Midjourney Bot",
            "bot": True,
            "application_id": MIDJOURNEY_APP_ID,
        }

        # Every REST call the library made succeeded, and it made the ones a slash command needs.
        rest = [r for r in records if r["event"] == "rest"]
        failed = [r for r in rest if r["status"] >= 400]
        assert not failed, failed
        calls = [(r["method"], r["path"].split("?")[0]) for r in rest]
        assert ("GET", "/gateway") in calls
        assert ("GET", f"/users/{MIDJOURNEY_APP_ID}") in calls
        assert ("GET", f"/users/{MIDJOURNEY_APP_ID}/profile") in calls
        assert ("GET", f"/channels/{account.channel_id}/application-commands/search") in calls
        assert calls.count(("POST", "/interactions")) == 2

        imagine_ack = _one(records, "imagine_ack")
        grid = _one(records, "grid")
        assert grid["author_id"] == MIDJOURNEY_APP_ID and grid["channel_id"] == account.channel_id
        assert f"**{prompt}**" in grid["content"]
        (grid_image,) = grid["attachments"]
        assert grid_image["filename"].endswith(".webp") and grid_image["content_type"] == "image/webp"  # v7 grid
        imagine_job = next(j for j in thread.jobs(account) if j.kind == "imagine")
        assert imagine_job.status == "succeeded"
        assert imagine_job.origin.interaction_id == imagine_ack["interaction_id"]
        assert grid["message_id"] == imagine_job.result_message_id
        assert [f"MJ::JOB::upsample::{i}::{imagine_job.id}" for i in range(1, 5)] == grid["custom_ids"][:4]

        button_ack = _one(records, "button_ack")
        assert button_ack["custom_id"] == f"MJ::JOB::upsample::1::{imagine_job.id}"
        assert button_ack["interaction_id"] != imagine_ack["interaction_id"]
        upscale = _one(records, "upscale")
        assert upscale["reference_id"] == grid["message_id"] and upscale["type"] == "REPLY"
        assert "Image #1" in upscale["content"]
        (upscale_image,) = upscale["attachments"]
        upsample_job = next(j for j in thread.jobs(account) if j.kind == "upsample")
        assert upsample_job.parent is imagine_job and upsample_job.index == 1
        assert upscale["message_id"] == upsample_job.result_message_id
        assert any(cid.startswith("MJ::JOB::upsample_v7_2x_subtle::1::") for cid in upscale["custom_ids"])

        # The attachment URLs the library saw are real, signed CDN URLs serving real images (a v7 grid is WebP).
        for image, fmt in ((grid_image, "WEBP"), (upscale_image, "PNG")):
            assert image["url"].startswith(thread.urls.cdn + "/attachments/")
            _fetch_png(image["url"], cert_file, image["width"], image["height"], fmt)
