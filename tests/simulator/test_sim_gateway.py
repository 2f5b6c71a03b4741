"""Gateway over real websockets: hello, identify, heartbeats, resume with replay, op 7/9, close codes, zlib."""

from __future__ import annotations

import asyncio
import json

import pytest
from sim_harness import Discord, Gateway, eventually, imagine_result
from websockets.asyncio.client import connect

from simulator import Account, Simulator


async def test_rest_gateway_url_points_at_websocket(sim: Simulator, discord: Discord) -> None:
    status, body, _ = await discord.request("GET", "/gateway", headers={"Authorization": ""})
    assert status == 200
    assert body == {"url": sim.urls.gateway}
    assert body["url"].startswith("ws://127.0.0.1:")


async def test_hello_identify_ready(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    hello = await gw.open()
    assert hello["heartbeat_interval"] == 41250
    ready = await gw.identify()
    assert ready["user"]["id"] == alice.user_id
    assert ready["user"]["username"] == "alice"
    assert len(ready["session_id"]) == 32
    assert ready["resume_gateway_url"] == sim.urls.resume_gateway
    assert ready["resume_gateway_url"] != sim.urls.gateway
    dm_ids = {c["id"] for c in ready["private_channels"]}
    assert dm_ids == set(alice.dm_channel_ids.values())
    recipients = {c["recipient_ids"][0] for c in ready["private_channels"]}
    assert recipients == {"936929561302675456", "1022952195194359889"}
    guild = ready["guilds"][0]
    assert guild["id"] == alice.guild_id
    assert alice.channel_id in {c["id"] for c in guild["channels"]}
    assert {u["id"] for u in ready["users"]} == recipients
    await gw.event("READY_SUPPLEMENTAL")
    assert gw.dispatches[0]["s"] == 1
    await gw.close()


async def test_heartbeat_ack_accepts_any_d(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token, heartbeat=False)
    await gw.open()
    for value in (None, 0, 41, "counter", {"x": 1}):
        before = gw.acks
        await gw.send(1, value)
        await gw.wait_for(lambda f, b=before: f.get("op") == 11 and gw.acks > b)
    assert gw.acks == 5
    await gw.identify()
    await gw.close()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (json.dumps({"op": 2, "d": {"token": "not-a-token", "properties": {}}}), 4004),
        (json.dumps({"op": 3, "d": {"status": "online"}}), 4003),
        (json.dumps({"op": 99, "d": None}), 4001),
        ("{not json", 4002),
    ],
)
async def test_close_codes(sim: Simulator, alice: Account, payload: str, code: int) -> None:
    gw = Gateway(sim.urls.gateway, alice.token, heartbeat=False)
    await gw.open()
    await gw.send_raw(payload)
    assert await gw.closed() == code


async def test_identify_twice_is_4005(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    await gw.send(2, {"token": alice.token, "properties": {}})
    assert await gw.closed() == 4005


async def test_bad_api_version_closes_4012(sim: Simulator) -> None:
    async with connect(sim.urls.gateway + "/?v=3&encoding=json", proxy=None) as ws:
        with pytest.raises(Exception):  # noqa: B017 - websockets raises ConnectionClosed subclasses
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4012


async def test_zlib_stream_transport(sim: Simulator, alice: Account, discord: Discord) -> None:
    gw = Gateway(sim.urls.gateway, alice.token, zlib_stream=True)
    ready = await gw.identify()
    assert ready["session_id"]
    result = await imagine_result(discord, gw, "zlib compressed fox")
    assert result["attachments"][0]["filename"].endswith(".webp")
    assert gw.binary_frames == len(gw.frames)  # every frame (HELLO, ACKs, dispatches) was compressed
    await gw.close()


async def test_identify_compress_flag_compresses_ready_only(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    ready = await gw.identify(compress=True)
    assert ready["user"]["id"] == alice.user_id
    assert gw.binary_frames == 1
    await gw.close()


async def test_resume_replays_missed_events_then_resumed(sim: Simulator, alice: Account, discord: Discord) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    assert gw.session_id is not None
    seq = gw.seq or 0
    sim.gateway_fault(alice, "drop")
    await gw.closed()
    assert gw.close_code == 1006
    status, _ = await discord.imagine("while you were away", session_id=gw.session_id)
    assert status == 204
    await eventually(lambda: bool(sim.jobs(alice, "succeeded")))  # the job finishes while the client is away
    missed = [e for e in sim.events(alice) if e["t"].startswith("MESSAGE")]
    assert missed, "events happened during the disconnect"
    again = Gateway(sim.urls.resume_gateway, alice.token)
    await again.resume(gw.session_id, seq)
    resumed = await again.wait_for(lambda f: f.get("t") == "RESUMED")
    replayed = [f for f in again.dispatches if f["s"] < resumed["s"]]
    assert [f["s"] for f in replayed] == list(range(seq + 1, resumed["s"]))
    assert any(f["t"] == "MESSAGE_CREATE" and f["d"].get("components") for f in replayed)
    assert {f["t"] for f in replayed} >= {"INTERACTION_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"}
    await again.close()


async def test_resume_after_clean_close_is_invalid_session(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    session_id, seq = gw.session_id, gw.seq
    await gw.close(1000)  # a clean close ends the session on Discord
    await eventually(lambda: all(s["invalidated"] for s in sim.sessions(alice)))
    again = Gateway(sim.urls.resume_gateway, alice.token)
    assert session_id is not None and seq is not None
    await again.resume(session_id, seq)
    invalid = await again.wait_for(lambda f: f.get("op") == 9)
    assert invalid["d"] is False
    ready = await again.identify()  # identify on the same connection after op 9
    assert ready["session_id"] != session_id
    await again.close()


async def test_resume_with_unknown_session_or_future_seq(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    assert gw.session_id is not None
    for session_id, seq in (("0" * 32, 1), (gw.session_id, 10_000)):
        other = Gateway(sim.urls.gateway, alice.token)
        await other.resume(session_id, seq)
        frame = await other.wait_for(lambda f: f.get("op") == 9)
        assert frame["d"] is False
        await other.close()
    await gw.close()


async def test_resume_with_wrong_token_is_4004(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    bob = sim.add_account("bob")
    other = Gateway(sim.urls.gateway, bob.token + "x")
    assert gw.session_id is not None
    await other.resume(gw.session_id, 1)
    assert await other.closed() == 4004
    await gw.close()


async def test_op7_reconnect_then_resume(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    assert sim.gateway_fault(alice, "reconnect", seconds=0.2) == 1
    await gw.wait_for(lambda f: f.get("op") == 7)
    assert await gw.closed() == 4000
    again = Gateway(sim.urls.resume_gateway, alice.token)
    assert gw.session_id is not None and gw.seq is not None
    await again.resume(gw.session_id, gw.seq)
    await again.event("RESUMED")
    await again.close()


@pytest.mark.parametrize("resumable", [True, False])
async def test_op9_invalid_session_fault(sim: Simulator, alice: Account, resumable: bool) -> None:
    gw = Gateway(sim.urls.gateway, alice.token)
    await gw.identify()
    sim.gateway_fault(alice, "invalid_session", resumable=resumable)
    frame = await gw.wait_for(lambda f: f.get("op") == 9)
    assert frame["d"] is resumable
    again = Gateway(sim.urls.resume_gateway, alice.token)
    assert gw.session_id is not None and gw.seq is not None
    await again.resume(gw.session_id, gw.seq)
    if resumable:
        await again.event("RESUMED")
    else:
        assert (await again.wait_for(lambda f: f.get("op") == 9))["d"] is False
    await again.close()
    await gw.close()


async def test_freeze_withholds_acks_then_close_code_fault(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token, heartbeat=False)
    await gw.identify()
    sim.gateway_fault(alice, "freeze")
    await asyncio.sleep(0.05)
    before = gw.acks
    await gw.send(1, gw.seq)
    await asyncio.sleep(0.2)
    assert gw.acks == before  # a zombie connection: heartbeats are not acknowledged
    sim.gateway_fault(alice, "unfreeze")
    await gw.wait_for(lambda f: f.get("op") == 11 and gw.acks > before)
    sim.gateway_fault(alice, "close", code=4000)
    assert await gw.closed() == 4000


async def test_server_requests_heartbeat(sim: Simulator, alice: Account) -> None:
    gw = Gateway(sim.urls.gateway, alice.token, heartbeat=False)
    await gw.identify()
    sim.gateway_fault(alice, "heartbeat_request")
    frame = await gw.wait_for(lambda f: f.get("op") == 1)
    assert "d" in frame
    await gw.close()


async def test_missing_heartbeats_time_out() -> None:
    sim = Simulator(seed=1, speed=100, heartbeat_interval_ms=100, heartbeat_grace=1.0)
    await sim.start()
    try:
        acct = sim.add_account("sleepy")
        gw = Gateway(sim.urls.gateway, acct.token, heartbeat=False)
        await gw.identify()
        assert await gw.closed(within=15) == 4009
    finally:
        await sim.stop()


async def test_two_sessions_both_receive_messages_modals_only_to_named(
    sim: Simulator, alice: Account, discord: Discord
) -> None:
    first = Gateway(sim.urls.gateway, alice.token)
    second = Gateway(sim.urls.gateway, alice.token)
    await first.identify()
    await second.identify()
    assert first.session_id != second.session_id
    result = await imagine_result(discord, first, "two sessions")
    await second.event("MESSAGE_CREATE", lambda d: d["id"] == result["id"])
    u1 = next(c["custom_id"] for c in result["components"][0]["components"] if c.get("label") == "U1")
    start_first, start_second = len(first.frames), len(second.frames)
    status, _ = await discord.click(result, u1, session_id=first.session_id)
    assert status == 204
    single = await first.event("MESSAGE_CREATE", lambda d: "Image #1" in d.get("content", ""), start=start_first)
    zoom_id = next(
        c["custom_id"]
        for row in single["components"]
        for c in row["components"]
        if c.get("custom_id", "").startswith("MJ::CustomZoom::")
    )
    start_first, start_second = len(first.frames), len(second.frames)
    status, _ = await discord.click(single, zoom_id, session_id=second.session_id)
    assert status == 204
    modal = await second.event("INTERACTION_MODAL_CREATE", start=start_second)
    assert modal["custom_id"].startswith("MJ::OutpaintCustomZoomModal::")
    await asyncio.sleep(0.1)
    assert not [f for f in first.frames[start_first:] if f.get("t") == "INTERACTION_MODAL_CREATE"]
    await first.close()
    await second.close()


async def test_gateway_rate_limit_closes_4008(sim: Simulator, alice: Account) -> None:
    sim.config.gateway_events_per_minute = 5
    gw = Gateway(sim.urls.gateway, alice.token, heartbeat=False)
    await gw.identify()
    for _ in range(10):
        try:
            await gw.send(1, None)
        except Exception:
            break
    assert await gw.closed() == 4008


async def test_reidentifying_drops_the_oldest_detached_sessions(sim: Simulator, alice: Account) -> None:
    sim.config.max_sessions_per_user = 3
    first_ids = []
    for _ in range(5):
        gw = Gateway(sim.urls.gateway, alice.token)
        await gw.identify()
        assert gw.session_id is not None
        first_ids.append((gw.session_id, gw.seq or 0))
        sim.gateway_fault(alice, "drop")
        await gw.closed()
    live = Gateway(sim.urls.gateway, alice.token)
    await live.identify()
    assert len(sim.sessions(alice)) == 3
    oldest_id, oldest_seq = first_ids[0]
    again = Gateway(sim.urls.resume_gateway, alice.token)
    await again.resume(oldest_id, oldest_seq)
    assert (await again.wait_for(lambda f: f.get("op") == 9))["d"] is False
    newest_id, newest_seq = first_ids[-1]
    other = Gateway(sim.urls.resume_gateway, alice.token)
    await other.resume(newest_id, newest_seq)
    await other.event("RESUMED")
    for client in (live, again, other):
        await client.close()
