"""Injected faults: REST 429/5xx for the next N requests, and delayed, duplicated, reordered or lost dispatches."""

from __future__ import annotations

import asyncio

import aiohttp
from sim_harness import Discord, Gateway, imagine_result

from simulator import Account, Simulator


async def post_message(discord: Discord, alice: Account, content: str) -> str:
    status, message, _ = await discord.post(f"/channels/{alice.channel_id}/messages", json={"content": content})
    assert status == 200, message
    return str(message["id"])


async def test_next_requests_get_429_with_real_headers(sim: Simulator, discord: Discord) -> None:
    fault = sim.fail_requests(2, 429, route="/interactions", retry_after=0.5)
    assert fault.count == 2
    for _ in range(2):
        status, body, headers = await discord.post("/interactions", json={})
        assert status == 429
        assert body == {"message": "You are being rate limited.", "retry_after": 0.5, "global": False}
        assert headers["Retry-After"] == "1" and headers["X-RateLimit-Remaining"] == "0"
        assert headers["X-RateLimit-Scope"] == "user"
    status, _ = await discord.imagine("third time lucky")
    assert status == 204
    assert sim.faults()["rest"] == []


async def test_5xx_faults(sim: Simulator, discord: Discord) -> None:
    sim.fail_requests(1, 500)
    sim.fail_requests(1, 502, method="GET")
    status, body, _ = await discord.get("/users/@me")
    assert status == 500 and body == {"message": "500: Internal Server Error", "code": 0}
    status, body, headers = await discord.get("/users/@me")
    assert status == 502 and headers["Content-Type"].startswith("text/html") and b"502" in body
    assert (await discord.get("/users/@me"))[0] == 200


async def test_faults_filtered_by_account(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, alice: Account
) -> None:
    bob = Discord(http, sim.urls, sim.add_account("bob"))
    sim.fail_requests(1, 503, account=alice)
    assert (await bob.get("/users/@me"))[0] == 200
    assert (await discord.get("/users/@me"))[0] == 503
    assert (await discord.get("/users/@me"))[0] == 200


async def test_delayed_dispatches(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.dispatch_faults(alice, delay=1.0, delay_count=1)
    start = len(gw.frames)
    message_id = await post_message(discord, alice, "late")
    await asyncio.sleep(0.2)
    assert not [f for f in gw.frames[start:] if f.get("t") == "MESSAGE_CREATE"]
    await gw.event("MESSAGE_CREATE", lambda d: d["id"] == message_id, start=start, within=5)


async def test_duplicated_dispatches(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.dispatch_faults(alice, duplicate=1)
    start = len(gw.frames)
    message_id = await post_message(discord, alice, "twice")
    second = await post_message(discord, alice, "once")
    await gw.event("MESSAGE_CREATE", lambda d: d["id"] == second, start=start)
    copies = [f for f in gw.frames[start:] if f.get("t") == "MESSAGE_CREATE" and f["d"]["id"] == message_id]
    assert len(copies) == 2 and copies[0]["s"] + 1 == copies[1]["s"]


async def test_reordered_dispatches(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.dispatch_faults(alice, reorder=1)
    start = len(gw.frames)
    first = await post_message(discord, alice, "first")
    second = await post_message(discord, alice, "second")
    await gw.event("MESSAGE_CREATE", lambda d: d["id"] == first, start=start)
    order = [f["d"]["id"] for f in gw.frames[start:] if f.get("t") == "MESSAGE_CREATE"]
    assert order == [second, first]


async def test_reordered_event_is_released_without_a_successor(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account
) -> None:
    sim.dispatch_faults(alice, reorder=1)
    message_id = await post_message(discord, alice, "alone")
    await gw.event("MESSAGE_CREATE", lambda d: d["id"] == message_id, within=5)


async def test_lost_dispatches(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.dispatch_faults(alice, drop=1)
    start = len(gw.frames)
    lost = await post_message(discord, alice, "lost")
    kept = await post_message(discord, alice, "kept")
    await gw.event("MESSAGE_CREATE", lambda d: d["id"] == kept, start=start)
    assert not [f for f in gw.frames[start:] if f.get("t") == "MESSAGE_CREATE" and f["d"]["id"] == lost]
    _, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert lost in {m["id"] for m in listed}  # the REST history still has it, as after a real lost event


async def test_clear_faults(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.fail_requests(5, 500)
    sim.dispatch_faults(alice, drop=5)
    sim.bot_faults(offline=True)
    sim.clear_faults()
    assert sim.faults() == {"rest": [], "dispatch": {}, "bot": {"offline": False, "drop_interactions": 0}}
    assert (await imagine_result(discord, gw, "all clear"))["attachments"]


async def test_job_survives_a_dropped_connection_via_resume(sim: Simulator, discord: Discord, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    nonce = discord.nonce()
    await discord.imagine("resilient", nonce=nonce, session_id=gw.session_id)
    await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce)
    sim.gateway_fault(alice, "drop")
    await gw.closed()
    assert gw.session_id is not None and gw.seq is not None
    again = Gateway(sim.urls.resume_gateway, alice.token)
    await again.resume(gw.session_id, gw.seq)
    await again.event("MESSAGE_CREATE", lambda d: bool(d.get("components")), within=10)
    await again.close()
