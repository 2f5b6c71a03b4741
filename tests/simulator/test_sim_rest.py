"""REST v9 over real HTTP: auth, command index, interaction validation, messages, uploads, reactions, CDN."""

from __future__ import annotations

import asyncio
import io
import json
import re

import aiohttp
import pytest
from PIL import Image
from sim_harness import Discord, Gateway, imagine_result, png

from simulator import MIDJOURNEY_APP_ID, NIJI_APP_ID, Account, Simulator


async def test_unknown_token_is_401_json(discord: Discord, alice: Account) -> None:
    alice_token = alice.token
    for token in ("", "nope", "Bearer " + alice_token):
        status, body, _ = await discord.request("GET", "/users/@me", headers={"Authorization": token})
        assert status == 401
        assert body == {"message": "401: Unauthorized", "code": 0}


async def test_users_me_and_channels(discord: Discord, alice: Account) -> None:
    status, me, headers = await discord.get("/users/@me")
    assert status == 200
    assert me["id"] == alice.user_id and me["username"] == "alice" and me["discriminator"] == "0"
    assert "X-RateLimit-Limit" in headers and "X-RateLimit-Bucket" in headers
    status, channels, _ = await discord.get("/users/@me/channels")
    assert {c["id"] for c in channels} == set(alice.dm_channel_ids.values())
    assert all(c["type"] == 1 and c["recipients"][0]["bot"] for c in channels)
    status, guilds, _ = await discord.get("/users/@me/guilds")
    assert [g["id"] for g in guilds] == [alice.guild_id]
    status, country, _ = await discord.get("/users/@me/billing/country-code")
    assert country == {"country_code": "US"}
    status, channel, _ = await discord.get(f"/channels/{alice.channel_id}")
    assert channel["guild_id"] == alice.guild_id and channel["type"] == 0


async def test_unknown_route_and_method_are_json(discord: Discord) -> None:
    status, body, _ = await discord.get("/nothing/here")
    assert status == 404 and body == {"message": "404: Not Found", "code": 0}
    status, body, _ = await discord.request("DELETE", "/interactions")
    assert status == 405 and body["code"] == 0


async def test_v10_prefix_also_served(sim: Simulator, discord: Discord) -> None:
    status, body, _ = await discord.get(sim.urls.base + "/api/v10/users/@me")
    assert status == 200 and body["username"] == "alice"


async def test_command_indexes(discord: Discord, alice: Account) -> None:
    status, guild_index, _ = await discord.get(f"/guilds/{alice.guild_id}/application-command-index")
    assert status == 200
    assert {a["id"] for a in guild_index["applications"]} == {MIDJOURNEY_APP_ID, NIJI_APP_ID}
    assert guild_index["application_commands"][0]["name"] == "imagine"
    imagine = next(
        c
        for c in guild_index["application_commands"]
        if c["name"] == "imagine" and c["application_id"] == MIDJOURNEY_APP_ID
    )
    assert imagine["id"] == "938956540159881230" and imagine["version"] == "1237876415471554623"
    niji = next(
        c for c in guild_index["application_commands"] if c["name"] == "imagine" and c["application_id"] == NIJI_APP_ID
    )
    assert niji["id"] == "1023054140580057099" and niji["version"] == "1248805223892254774"
    assert isinstance(guild_index["version"], str)
    status, dm_index, _ = await discord.get(f"/channels/{alice.dm_channel_ids['niji']}/application-command-index")
    assert {c["application_id"] for c in dm_index["application_commands"]} == {NIJI_APP_ID}
    status, me_index, _ = await discord.get("/users/@me/application-command-index")
    assert status == 200 and len(me_index["application_commands"]) == len(guild_index["application_commands"])
    status, body, _ = await discord.get("/guilds/123/application-command-index")
    assert status == 404 and body["code"] == 10004


async def test_legacy_command_search(discord: Discord, alice: Account) -> None:
    status, body, _ = await discord.get(
        f"/channels/{alice.channel_id}/application-commands/search",
        params={
            "type": "1",
            "query": "imag",
            "limit": "1",
            "include_applications": "true",
            "application_id": MIDJOURNEY_APP_ID,
        },
    )
    assert status == 200
    assert [c["name"] for c in body["application_commands"]] == ["imagine"]
    assert body["applications"][0]["id"] == MIDJOURNEY_APP_ID
    status, body, _ = await discord.get(
        f"/channels/{alice.channel_id}/application-commands/search", params={"type": "3", "limit": "10"}
    )
    assert {c["name"] for c in body["application_commands"]} == {"Cancel Job", "DM Results"}


async def test_stale_version_is_50035_until_looked_up(sim: Simulator, discord: Discord) -> None:
    old = sim.command_version("midjourney", "imagine")
    new = sim.bump_command("midjourney", "imagine")
    assert new != old
    status, body = await discord.imagine("a cat", version=old)
    assert status == 400
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    error = body["errors"]["data"]["_errors"][0]
    assert error["code"] == "INTERACTION_APPLICATION_COMMAND_INVALID_VERSION"
    status, body = await discord.imagine("a cat", version=new)
    assert status == 204


async def test_interaction_validation_errors(sim: Simulator, discord: Discord, alice: Account) -> None:
    command = await discord.command_def("imagine")
    base = {
        "type": 2,
        "application_id": MIDJOURNEY_APP_ID,
        "guild_id": alice.guild_id,
        "channel_id": alice.channel_id,
        "session_id": "x",
        "nonce": "1",
        "data": {
            "id": command["id"],
            "version": command["version"],
            "name": "imagine",
            "type": 1,
            "options": [{"type": 3, "name": "prompt", "value": "ok"}],
        },
    }
    cases = [
        ({"channel_id": "42"}, 404, 10003),
        ({"application_id": "42"}, 404, 10002),
        ({"session_id": None}, 400, 50035),
        ({"nonce": "x" * 30}, 400, 50035),
        ({"type": 9}, 400, 50035),
        ({"data": {**base["data"], "id": "1"}}, 400, 50035),
        ({"data": {**base["data"], "options": []}}, 400, 50035),
        ({"data": {**base["data"], "options": [{"type": 4, "name": "prompt", "value": 1}]}}, 400, 50035),
        ({"guild_id": "999"}, 400, 50035),
    ]
    for change, status_code, code in cases:
        status, body = await discord.interact({**base, **change})
        assert (status, body["code"]) == (status_code, code), change
    bob = sim.add_account("bob")
    status, body = await discord.interact({**base, "channel_id": bob.channel_id})
    assert (status, body["code"]) == (403, 50001)
    status, body, _ = await discord.post("/interactions", data=b"{oops", headers={"Content-Type": "application/json"})
    assert status == 400 and body["code"] == 50109


async def test_multipart_interaction_with_inline_file(discord: Discord, gw: Gateway) -> None:
    start = len(gw.frames)
    status, body = await discord.command(
        "describe",
        [{"type": 11, "name": "image", "value": 0}],
        attachments=[{"id": "0", "filename": "cat.png"}],
        multipart_files={"files[0]": ("cat.png", png((10, 200, 10)))},
        session_id=gw.session_id,
    )
    assert status == 204, body
    update = await gw.event("MESSAGE_UPDATE", lambda d: bool(d.get("embeds")), start=start)
    assert update["embeds"][0]["image"]["url"].split("?")[0].endswith("/cat.png")


async def test_unknown_message_for_component(discord: Discord, alice: Account) -> None:
    fake = {
        "id": "1234567890123",
        "channel_id": alice.channel_id,
        "guild_id": alice.guild_id,
        "author": {"id": MIDJOURNEY_APP_ID},
        "flags": 0,
    }
    status, body = await discord.click(fake, "MJ::JOB::upsample::1::00000000-0000-4000-8000-000000000000")
    assert status == 404
    assert body == {"message": "Unknown Message", "code": 10008}


async def test_stale_custom_id_is_rejected(discord: Discord, gw: Gateway) -> None:
    result = await imagine_result(discord, gw, "stale buttons")
    status, body = await discord.click(result, "MJ::JOB::upsample::1::11111111-1111-4111-8111-111111111111")
    assert status == 400 and body["code"] == 50035


async def test_upload_then_message_with_attachment(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway, alice: Account
) -> None:
    data = png((1, 2, 3), (80, 60))
    status, body, _ = await discord.post(
        f"/channels/{alice.channel_id}/attachments",
        json={"files": [{"filename": "pic.png", "file_size": len(data), "id": "7"}]},
    )
    assert status == 200
    target = body["attachments"][0]
    assert target["id"] == 7
    assert re.fullmatch(r"[0-9a-f-]{36}/pic\.png", target["upload_filename"])
    assert target["upload_url"].startswith(sim.urls.upload + "/")
    async with http.put(target["upload_url"].split("?")[0] + "?upload_id=wrong", data=data) as response:
        assert response.status == 403
    async with http.put(target["upload_url"], data=data, headers={"Content-Type": "image/png"}) as response:
        assert response.status == 200
    payload = {
        "content": "",
        "channel_id": alice.channel_id,
        "type": 0,
        "sticker_ids": [],
        "attachments": [{"id": "0", "filename": "pic.png", "uploaded_filename": target["upload_filename"]}],
    }
    status, message, _ = await discord.post(f"/channels/{alice.channel_id}/messages", json=payload)
    assert status == 200
    attachment = message["attachments"][0]
    assert (attachment["width"], attachment["height"], attachment["content_type"]) == (80, 60, "image/png")
    async with http.get(attachment["url"]) as response:
        assert response.status == 200
        assert await response.read() == data
    event = await gw.event("MESSAGE_CREATE", lambda d: d["id"] == message["id"])
    assert event["author"]["id"] == alice.user_id and event["guild_id"] == alice.guild_id
    status, body, _ = await discord.post(
        f"/channels/{alice.channel_id}/messages",
        json={"content": "", "attachments": [{"id": "0", "uploaded_filename": "x/y.png"}]},
    )
    assert status == 400 and body["code"] == 50035
    status, body, _ = await discord.post(f"/channels/{alice.channel_id}/messages", json={"content": ""})
    assert status == 400 and body == {"message": "Cannot send an empty message", "code": 50006}


async def test_multipart_message_files(discord: Discord, alice: Account) -> None:
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"content": "hi", "attachments": [{"id": "0", "filename": "a.png"}]}))
    form.add_field("files[0]", png(), filename="a.png", content_type="image/png")
    status, message, _ = await discord.post(f"/channels/{alice.channel_id}/messages", data=form)
    assert status == 200
    assert message["content"] == "hi" and message["attachments"][0]["filename"] == "a.png"


async def test_upload_size_limit(discord: Discord, alice: Account) -> None:
    status, body, _ = await discord.post(
        f"/channels/{alice.channel_id}/attachments",
        json={"files": [{"filename": "big.png", "file_size": 26 * 1024 * 1024}]},
    )
    assert status == 413 and body["code"] == 40005


async def test_list_messages_pagination_and_single_fetch(discord: Discord, alice: Account) -> None:
    ids = []
    for i in range(5):
        status, message, _ = await discord.post(f"/channels/{alice.channel_id}/messages", json={"content": f"m{i}"})
        ids.append(message["id"])
    status, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages", params={"limit": "3"})
    assert [m["content"] for m in listed] == ["m4", "m3", "m2"]
    status, older, _ = await discord.get(f"/channels/{alice.channel_id}/messages", params={"before": ids[2]})
    assert [m["content"] for m in older] == ["m1", "m0"]
    status, newer, _ = await discord.get(f"/channels/{alice.channel_id}/messages", params={"after": ids[2]})
    assert [m["content"] for m in newer] == ["m4", "m3"]
    status, around, _ = await discord.get(
        f"/channels/{alice.channel_id}/messages", params={"around": ids[2], "limit": "3"}
    )
    assert [m["content"] for m in around] == ["m3", "m2", "m1"]
    status, body, _ = await discord.get(f"/channels/{alice.channel_id}/messages", params={"limit": "500"})
    assert status == 400 and body["code"] == 50035
    status, body, _ = await discord.get(f"/channels/{alice.channel_id}/messages/{ids[0]}")
    assert status == 403 and body["code"] == 20002
    status, _, _ = await discord.request("DELETE", f"/channels/{alice.channel_id}/messages/{ids[0]}")
    assert status == 204
    status, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert ids[0] not in {m["id"] for m in listed}


async def test_ack_and_typing(discord: Discord, alice: Account) -> None:
    status, message, _ = await discord.post(f"/channels/{alice.channel_id}/messages", json={"content": "x"})
    status, body, _ = await discord.post(
        f"/channels/{alice.channel_id}/messages/{message['id']}/ack", json={"token": None, "last_viewed": 3496}
    )
    assert status == 200 and body == {"token": None}
    status, _, _ = await discord.post(f"/channels/{alice.channel_id}/typing")
    assert status == 204


async def test_seed_reaction_sends_dm(discord: Discord, gw: Gateway, alice: Account, sim: Simulator) -> None:
    result = await imagine_result(discord, gw, "seeded lighthouse --seed 1234")
    job_id = re.search(r"([0-9a-f-]{36})\.webp", result["attachments"][0]["filename"])
    assert job_id is not None
    start = len(gw.frames)
    status, _, _ = await discord.request(
        "PUT", f"/channels/{alice.channel_id}/messages/{result['id']}/reactions/%E2%9C%89%EF%B8%8F/@me"
    )
    assert status == 204
    await gw.event("MESSAGE_REACTION_ADD", lambda d: d["message_id"] == result["id"], start=start)
    dm = await gw.event("MESSAGE_CREATE", lambda d: d["channel_id"] == alice.dm_channel_ids["midjourney"], start=start)
    match = re.search(r"\*\*Job ID\*\*:\s*(?P<job>[a-fA-F0-9-]{36})\s*\*\*seed\*\*\s*(?P<seed>\d+)", dm["content"])
    assert match is not None
    assert match["job"] == job_id.group(1)
    assert match["seed"] == "1234"
    assert dm["attachments"] and dm["author"]["id"] == MIDJOURNEY_APP_ID
    status, listed, _ = await discord.get(f"/channels/{alice.dm_channel_ids['midjourney']}/messages")
    assert listed[0]["id"] == dm["id"]


async def test_reaction_on_unknown_message(discord: Discord, alice: Account) -> None:
    status, body, _ = await discord.request("PUT", f"/channels/{alice.channel_id}/messages/123/reactions/%E2%9C%89/@me")
    assert status == 404 and body["code"] == 10008


async def test_cdn_expiry_and_refresh(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway
) -> None:
    result = await imagine_result(discord, gw, "expiring fox")
    url = result["attachments"][0]["url"]
    assert re.search(r"\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]{64}&$", url)
    async with http.get(url) as response:
        assert response.status == 200 and response.content_type == "image/webp"
        image = Image.open(io.BytesIO(await response.read()))
        assert image.size == (2048, 2048) and image.format == "WEBP"
    async with http.get(url.split("?")[0]) as response:
        assert response.status == 404
        assert await response.text() == "This content is no longer available."
    forged = re.sub(r"hm=[0-9a-f]{64}", "hm=" + "0" * 64, url)
    async with http.get(forged) as response:
        assert response.status == 404
    sim.advance_cdn_clock(86400 + 60)
    async with http.get(url) as response:
        assert response.status == 404
    status, body, _ = await discord.post(
        "/attachments/refresh-urls", json={"attachment_urls": [url, url.split("?")[0], "https://example.com/x.png"]}
    )
    assert status == 200
    refreshed = body["refreshed_urls"]
    assert refreshed[0]["original"] == url and refreshed[0]["refreshed"] != url
    assert refreshed[2]["refreshed"] == "https://example.com/x.png"
    for item in refreshed[:2]:
        async with http.get(item["refreshed"]) as response:
            assert response.status == 200
    status, listed, _ = await discord.get(f"/channels/{result['channel_id']}/messages", params={"limit": "1"})
    async with http.get(listed[0]["attachments"][0]["url"]) as response:
        assert response.status == 200  # fetched messages carry freshly signed URLs
    status, body, _ = await discord.post("/attachments/refresh-urls", json={"attachment_urls": ["x"] * 51})
    assert status == 400


async def test_rate_limit_headers_and_429(sim: Simulator, discord: Discord, alice: Account) -> None:
    sim.set_rate_limit(bucket="messages", limit=2, window=30.0)
    for expected_remaining in ("1", "0"):
        status, _, headers = await discord.get(f"/channels/{alice.channel_id}/messages")
        assert status == 200
        assert headers["X-RateLimit-Limit"] == "2"
        assert headers["X-RateLimit-Remaining"] == expected_remaining
        assert float(headers["X-RateLimit-Reset-After"]) > 0
    status, body, headers = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert status == 429
    assert body["message"] == "You are being rate limited." and body["global"] is False
    assert body["retry_after"] > 0
    assert int(headers["Retry-After"]) >= 1 and headers["X-RateLimit-Scope"] == "user"
    status, _, _ = await discord.get("/users/@me")  # other buckets are unaffected
    assert status == 200


async def test_global_rate_limit(sim: Simulator, discord: Discord) -> None:
    sim.set_rate_limit(bucket="global", limit=3, window=30.0)
    statuses = [(await discord.get("/users/@me"))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    _, body, headers = await discord.get("/users/@me")
    assert body["global"] is True and headers["X-RateLimit-Global"] == "true"


async def test_requests_are_independent_per_token(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord
) -> None:
    sim.set_rate_limit(bucket="global", limit=1, window=30.0)
    bob = Discord(http, sim.urls, sim.add_account("bob"))
    assert (await discord.get("/users/@me"))[0] == 200
    assert (await bob.get("/users/@me"))[0] == 200
    await asyncio.sleep(0)


@pytest.mark.parametrize("emoji", ["%E2%9C%89%EF%B8%8F", "%E2%9C%89"])
async def test_both_envelope_spellings_work(discord: Discord, gw: Gateway, alice: Account, emoji: str) -> None:
    result = await imagine_result(discord, gw, "envelope")
    start = len(gw.frames)
    status, _, _ = await discord.request(
        "PUT", f"/channels/{alice.channel_id}/messages/{result['id']}/reactions/{emoji}/@me"
    )
    assert status == 204
    await gw.event("MESSAGE_CREATE", lambda d: "**seed**" in d.get("content", ""), start=start)
    path = f"/channels/{alice.channel_id}/messages/{result['id']}/reactions/{emoji}/@me"
    status, body, headers = await discord.request("DELETE", path)
    if status == 429:  # reactions share a 1 per 0.25 s bucket, as on Discord
        assert headers["X-RateLimit-Scope"] == "user"
        await asyncio.sleep(body["retry_after"])
        status, body, headers = await discord.request("DELETE", path)
    assert status == 204
    await gw.event("MESSAGE_REACTION_REMOVE", start=start)


async def test_user_message_nonce_is_echoed_not_stored(discord: Discord, gw: Gateway, alice: Account) -> None:
    status, message, _ = await discord.post(
        f"/channels/{alice.channel_id}/messages", json={"content": "hello", "nonce": "123456789"}
    )
    assert status == 200 and message["nonce"] == "123456789"
    event = await gw.event("MESSAGE_CREATE", lambda d: d["id"] == message["id"])
    assert event["nonce"] == "123456789"
    _, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert "nonce" not in listed[0]


async def test_uploaded_filenames_are_sanitised(discord: Discord, alice: Account, http: aiohttp.ClientSession) -> None:
    uploaded = await discord.upload("my cat (1).png", png())
    payload = {"content": "", "attachments": [{"id": "0", "filename": "my cat (1).png", "uploaded_filename": uploaded}]}
    status, message, _ = await discord.post(f"/channels/{alice.channel_id}/messages", json=payload)
    assert status == 200
    attachment = message["attachments"][0]
    assert attachment["filename"] == "my_cat__1_.png"
    async with http.get(attachment["url"]) as response:
        assert response.status == 200


async def test_session_ids_are_deterministic_per_user(http: aiohttp.ClientSession) -> None:
    async def session_ids() -> list[str]:
        sim = Simulator(seed=11, speed=400)
        await sim.start()
        try:
            users = [sim.add_account(name) for name in ("a", "b")]
            out = []
            for user in reversed(users):  # the order across users must not matter
                gw = Gateway(sim.urls.gateway, user.token)
                out.append((await gw.identify())["session_id"])
                await gw.close()
            return sorted(out)
        finally:
            await sim.stop()

    assert await session_ids() == await session_ids()


MALFORMED_INTERACTIONS: list[object] = [
    [],
    "text",
    5,
    {"type": 2},
    {"type": 2, "data": []},
    {"type": 3, "application_id": MIDJOURNEY_APP_ID},
    {"type": 5, "application_id": MIDJOURNEY_APP_ID, "channel_id": None},
]


async def test_malformed_bodies_are_4xx_json(sim: Simulator, discord: Discord, alice: Account) -> None:
    command = await discord.command_def("imagine")
    base = {
        "type": 2,
        "application_id": MIDJOURNEY_APP_ID,
        "guild_id": alice.guild_id,
        "channel_id": alice.channel_id,
        "session_id": "s",
        "nonce": "1",
        "data": {"id": command["id"], "version": command["version"], "name": "imagine", "type": 1},
    }
    payloads: list[object] = [*MALFORMED_INTERACTIONS]
    for data in (
        {"options": "x"},
        {"options": [5]},
        {"options": [{"name": "prompt", "type": 3, "value": 7}]},
        {"options": [{"name": "prompt", "type": 3, "value": "x" * 7000}]},
        {"attachments": {"0": 1}},
        {"attachments": [{"id": "0", "uploaded_filename": "missing/x.png"}]},
        {"attachments": [7]},
    ):
        payloads.append({**base, "data": {**base["data"], **data}})
    payloads += [
        {**base, "type": 3, "message_id": "1", "data": {"custom_id": 5}},
        {**base, "type": 5, "data": {"id": "1", "custom_id": "x", "components": "nope"}},
        {**base, "nonce": True},
    ]
    for payload in payloads:
        status, body, _ = await discord.post("/interactions", json=payload)
        assert 400 <= status < 500, (payload, status, body)
        assert isinstance(body, dict) and isinstance(body.get("code"), int), (payload, body)
    for path, payload in [
        (f"/channels/{alice.channel_id}/attachments", {"files": "x"}),
        (f"/channels/{alice.channel_id}/attachments", {"files": [{"filename": "../x.png", "file_size": 1}]}),
        (f"/channels/{alice.channel_id}/attachments", {"files": [{"filename": "x.png", "file_size": "big"}]}),
        (f"/channels/{alice.channel_id}/messages", {"content": 5}),
        (f"/channels/{alice.channel_id}/messages", {"content": "x" * 2001}),
        (f"/channels/{alice.channel_id}/messages", {"attachments": ["x"]}),
        ("/attachments/refresh-urls", {"attachment_urls": "x"}),
        ("/attachments/refresh-urls", [1, 2]),
    ]:
        status, body, _ = await discord.post(path, json=payload)
        assert 400 <= status < 500, (path, payload, status, body)
    for query in ({"limit": "x"}, {"before": "abc"}, {"limit": "0"}):
        status, body, _ = await discord.get(f"/channels/{alice.channel_id}/messages", params=query)
        assert status == 400 and body["code"] == 50035
