"""The HTTP control API, reset, SimulatorThread (sync clients) and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from sim_harness import Discord, Gateway, imagine_result
from websockets.sync.client import connect as sync_connect

from simulator import Account, Simulator, SimulatorThread

ROOT = Path(__file__).resolve().parents[2]


async def call(http: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with http.request(method, url, json=body) as response:
        text = await response.text()
        return response.status, json.loads(text) if response.content_type == "application/json" else text


async def test_control_accounts_and_events(sim: Simulator, http: aiohttp.ClientSession) -> None:
    base = sim.urls.control
    status, account = await call(http, "POST", base + "/accounts", {"name": "carol", "plan": "pro", "remix": True})
    assert status == 201 and account["plan"] == "pro" and account["settings"]["midjourney"]["remix"]
    assert account["concurrency"] == 12 and account["token"]
    status, fetched = await call(http, "GET", base + "/accounts/carol")
    assert fetched["user_id"] == account["user_id"]
    status, fetched = await call(http, "GET", f"{base}/accounts/{account['user_id']}")
    assert status == 200
    status, patched = await call(
        http, "PATCH", base + "/accounts/carol", {"fast_hours_remaining": 1.5, "mode": "relax", "stealth": True}
    )
    assert patched["fast_hours_remaining"] == 1.5 and patched["mode"] == "relax" and patched["stealth"]
    status, triggered = await call(http, "POST", base + "/accounts/carol/events", {"event": "captcha"})
    assert "captcha" in triggered["events"]
    status, cleared = await call(http, "DELETE", base + "/accounts/carol/events/captcha")
    assert cleared["events"] == []
    status, channel = await call(http, "POST", base + "/accounts/carol/channels", {"name": "second"})
    assert status == 201 and channel["name"] == "second"
    assert channel["id"] in sim.account("carol").channel_ids
    status, listed = await call(http, "GET", base + "/accounts")
    assert [a["username"] for a in listed] == ["carol"]
    for method, path, body, expected in [
        ("GET", "/accounts/nobody", None, 404),
        ("POST", "/accounts/carol/events", {"event": "meteor"}, 400),
        ("POST", "/accounts", {"name": "x", "colour": "red"}, 400),
        ("POST", "/accounts", {"name": "carol"}, 400),
        ("PATCH", "/accounts/carol", {"plan": "platinum"}, 400),
        ("POST", "/speed", {"speed": -1}, 400),
        ("POST", "/speed", {}, 400),
        ("POST", "/speed", {"speed": "fast"}, 400),
        ("POST", "/cdn/ttl", {}, 400),
        ("GET", "/jobs/nope", None, 404),
    ]:
        status, error = await call(http, method, base + path, body)
        assert status == expected and "error" in error, (path, error)
    async with http.post(base + "/accounts", data=b"{nope") as response:
        assert response.status == 400


async def test_control_faults_jobs_messages_and_more(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway, alice: Account
) -> None:
    base = sim.urls.control
    status, speed = await call(http, "POST", base + "/speed", {"speed": 500})
    assert speed == {"speed": 500.0}
    result = await imagine_result(discord, gw, "controlled")
    status, jobs = await call(http, "GET", base + "/jobs?account=alice&status=succeeded")
    assert len(jobs) == 1 and jobs[0]["prompt"] == "controlled" and jobs[0]["result_message_id"] == result["id"]
    status, job = await call(http, "GET", f"{base}/jobs/{jobs[0]['id']}")
    assert job["seed"] == jobs[0]["seed"]
    status, cancelled = await call(http, "POST", f"{base}/jobs/{jobs[0]['id']}/cancel")
    assert cancelled == {"cancelled": False}
    status, messages = await call(http, "GET", f"{base}/channels/{alice.channel_id}/messages?include_deleted=1")
    kinds = [m["_kind"] for m in messages]
    assert "progress" in kinds and "result" in kinds
    status, events = await call(http, "GET", base + "/events?account=alice&type=MESSAGE_DELETE")
    assert len(events) == 1
    status, fault = await call(http, "POST", base + "/faults/rest", {"count": 1, "status": 429, "route": "/users"})
    assert status == 201 and fault["remaining"] == 1
    assert (await discord.get("/users/@me"))[0] == 429
    status, _ = await call(http, "POST", base + "/accounts/alice/dispatch-faults", {"duplicate": 2})
    status, _ = await call(http, "POST", base + "/faults/bot", {"drop_interactions": 3})
    status, faults = await call(http, "GET", base + "/faults")
    assert faults["bot"]["drop_interactions"] == 3 and faults["dispatch"][alice.user_id]["duplicate"] == 2
    status, faults = await call(http, "DELETE", base + "/faults")
    assert faults["bot"]["drop_interactions"] == 0 and faults["dispatch"] == {}
    status, sessions = await call(http, "GET", base + "/accounts/alice/sessions")
    assert sessions[0]["session_id"] == gw.session_id and sessions[0]["connected"]
    status, affected = await call(http, "POST", base + "/accounts/alice/gateway", {"action": "freeze", "seconds": 0.1})
    assert affected == {"affected": 1}
    status, _ = await call(http, "POST", base + "/accounts/alice/gateway", {"action": "explode"})
    assert status == 400
    status, commands = await call(http, "GET", base + "/commands")
    old = commands["bots"]["midjourney"]["imagine"]["version"]
    status, bumped = await call(http, "POST", base + "/commands/midjourney/imagine/bump")
    assert bumped["version"] != old
    status, ttl = await call(http, "POST", base + "/cdn/ttl", {"seconds": 60})
    assert ttl == {"ttl": 60.0}
    status, offset = await call(http, "POST", base + "/cdn/advance", {"seconds": 120})
    assert offset == {"offset": 120.0}
    status, words = await call(http, "PUT", base + "/banned-words", {"words": ["Cabbage", " "]})
    assert words == {"words": ["cabbage"]}
    status, limits = await call(http, "POST", base + "/rate-limits", {"bucket": "messages", "limit": 5, "window": 2})
    assert limits["buckets"]["messages"] == {"limit": 5, "window": 2}
    status, state = await call(http, "GET", base)
    assert state["accounts"] == 1 and state["jobs"]["succeeded"] == 1 and state["cdn_clock_offset"] == 120.0
    async with http.get(sim.urls.base + "/") as response:
        assert response.status == 200 and "alice" in await response.text()


async def test_reset(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway, alice: Account
) -> None:
    token, user_id = alice.token, alice.user_id
    await imagine_result(discord, gw, "before reset")
    sim.trigger(alice, "ban")
    old_version = sim.command_version("midjourney", "imagine")
    sim.bump_command("midjourney", "imagine")
    sim.reset(keep_accounts=True)
    assert await gw.closed() == 4000
    assert sim.jobs() == [] and alice.active_events() == []
    assert sim.command_version("midjourney", "imagine") == old_version
    status, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert status == 200 and listed == []
    again = Gateway(sim.urls.gateway, token)
    await again.identify()
    assert (await imagine_result(discord, again, "after reset"))["attachments"]
    await again.close()
    sim.reset()
    assert sim.accounts == [] and (await discord.get("/users/@me"))[0] == 401
    fresh = sim.add_account("alice")
    assert (fresh.token, fresh.user_id) == (token, user_id)


def test_simulator_thread_with_sync_clients() -> None:
    with SimulatorThread(seed=3, speed=400) as thread:
        account = thread.add_account("dora")
        headers = {"Authorization": account.token}
        with httpx.Client(trust_env=False, timeout=10) as client:
            me = client.get(f"{thread.urls.rest}/users/@me", headers=headers)
            assert me.status_code == 200 and me.json()["username"] == "dora"
            index = client.get(
                f"{thread.urls.rest}/guilds/{account.guild_id}/application-command-index", headers=headers
            ).json()
            imagine = next(c for c in index["application_commands"] if c["name"] == "imagine")
            with sync_connect(thread.urls.gateway + "/?v=9&encoding=json", proxy=None) as ws:
                assert json.loads(ws.recv(timeout=5))["op"] == 10
                ws.send(json.dumps({"op": 2, "d": {"token": account.token, "properties": {}}}))
                ready = json.loads(ws.recv(timeout=5))
                assert ready["t"] == "READY"
                payload = {
                    "type": 2,
                    "application_id": imagine["application_id"],
                    "guild_id": account.guild_id,
                    "channel_id": account.channel_id,
                    "session_id": ready["d"]["session_id"],
                    "nonce": "77",
                    "data": {
                        "id": imagine["id"],
                        "version": imagine["version"],
                        "name": "imagine",
                        "type": 1,
                        "options": [{"type": 3, "name": "prompt", "value": "threaded"}],
                    },
                }
                assert client.post(f"{thread.urls.rest}/interactions", json=payload, headers=headers).status_code == 204
                deadline = time.monotonic() + 15
                result = None
                while result is None and time.monotonic() < deadline:
                    frame = json.loads(ws.recv(timeout=5))
                    if frame.get("t") == "MESSAGE_CREATE" and frame["d"].get("components"):
                        result = frame["d"]
                assert result is not None
                assert result["content"].startswith(f"**threaded** - <@{account.user_id}> [(Open on website")
        jobs = thread.jobs(account)
        assert [j.status for j in jobs] == ["succeeded"] and jobs[0].hash == jobs[0].id
        assert thread.job(jobs[0].id).to_json()["prompt"] == "threaded"
        assert thread.accounts() == thread.accounts == [account]
        assert thread.trigger(account, "ban").blocked
        assert thread.state()["accounts"] == 1
        with pytest.raises(KeyError):
            thread.account("nobody")


def test_cli_prints_urls_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--accounts",
            "2",
            "--speed",
            "50",
            "--seed",
            "9",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        document = json.loads(line)
        assert set(document["urls"]) >= {"base", "rest", "gateway", "cdn", "discordsays", "control"}
        assert len(document["accounts"]) == 2 and document["seed"] == 9
        token = document["accounts"][0]["token"]
        with httpx.Client(trust_env=False, timeout=10) as client:
            me = client.get(document["urls"]["rest"] + "/users/@me", headers={"Authorization": token})
            assert me.status_code == 200 and me.json()["username"] == "user0"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_cli_rejects_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--speed", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2 and "--speed must be positive" in result.stderr
