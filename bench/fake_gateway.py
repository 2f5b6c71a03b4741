"""A minimal Discord gateway (and CDN) that replays Midjourney's messages for many accounts as fast as a client takes
them: the far side of `bench_relay_cost.py`, run as its own process so its CPU is not the relay's.

It speaks what the relay's client needs (`mjapi.discord.gateway`): HELLO, heartbeat ACK, IDENTIFY -> READY, RESUME
(replaying what a dropped connection missed) -> RESUMED, and `compress=zlib-stream` transport compression. Messages
are the captured dispatches in `tests/fixtures/dispatches/` with their ids, nonce, user, channel, prompt, job uuid and
attachment URLs replaced per job, so the relay parses exactly what the real bot sends. Attachment URLs point at this
process's HTTP server, which answers every path with one small PNG drawn by the simulator's renderer.

Driven over stdin/stdout by one JSON object a line (see `bench_relay_cost.py`):

- out, once listening: ``{"gateway": ws-url, "cdn": http-url}``
- in: ``{"phase": name, "gap": seconds between two events of one account (0: as fast as the client reads),
  "progress": updates per job, "jobs": [{"token", "nonce", "uuid", "prompt"}...]}``
- out, when every event of the phase is written to its socket: ``{"phase": name, "events": n, "results": {uuid:
  time.monotonic() just before the result was sent}}``

Not a test and not part of the product.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "core"))

from simulator.images import ImageSpec, render  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "dispatches"
# What the captures say that belongs to one job or one account; each is replaced per job (the values are the
# captures' own, read from the files below, not protocol text).
_START = json.loads((FIXTURES / "imagine_waiting_to_start.json").read_text())
_PROGRESS = json.loads((FIXTURES / "imagine_progress_31_fast.json").read_text())
_RESULT = json.loads((FIXTURES / "imagine_grid_result.json").read_text())
_INTERACTION = json.loads((FIXTURES / "interaction_success.json").read_text())
_CAPTURED_PROMPT = _START["d"]["content"].split("**")[1]
_CAPTURED_UUID = _RESULT["d"]["components"][0]["components"][0]["custom_id"].rsplit("::", 1)[1]
_CAPTURED_PERCENT = "31%"
PERCENTS = (0, 15, 31, 46, 62, 78, 93)


def _cdn_prefixes() -> list[str]:
    urls = [a[k] for m in (_PROGRESS, _RESULT) for a in m["d"]["attachments"] for k in ("url", "proxy_url")]
    return sorted({u[: u.index("/attachments/") + len("/attachments/")] for u in urls})


@dataclass
class Account:
    token: str
    user_id: str
    channel_id: str
    guild_id: str


@dataclass
class Session:
    """A gateway session: its frames so far (for RESUME) and the connection it currently has, if any."""

    id: str
    account: Account
    frames: list[str] = field(default_factory=list)
    ws: ServerConnection | None = None
    deflate: Any = None
    attached: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # the current connection's: one zlib stream, in order

    def frame(self, t: str, d_json: str) -> str:
        seq = len(self.frames) + 1
        text = f'{{"op":0,"t":"{t}","s":{seq},"d":{d_json}}}'
        self.frames.append(text)
        return text

    async def send(self, text: str) -> None:
        ws = self.ws
        if ws is None:
            return  # kept in `frames`: a RESUME replays it
        payload: str | bytes = text
        if self.deflate is not None:
            payload = self.deflate.compress(text.encode()) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        with contextlib.suppress(ConnectionClosed):
            await ws.send(payload)


class Renderer:
    """One job's dispatches from the captures: ids, nonce, user, channel, prompt, job uuid and attachments replaced."""

    def __init__(self, cdn: str) -> None:
        self.cdn = cdn.rstrip("/") + "/attachments/"
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self._prefixes = _cdn_prefixes()

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _fill(self, template: dict[str, Any], values: dict[str, str]) -> str:
        text = json.dumps(template["d"], separators=(",", ":"), ensure_ascii=False)
        for old, new in values.items():
            text = text.replace(old, new)
        return text

    def job(self, account: Account, job: dict[str, str], progress: int) -> list[tuple[str, str, bool]]:
        """(event type, data JSON, is the result) for one job: interaction success, start, progress..., result."""
        start_d, result_d = _START["d"], _RESULT["d"]
        common = {
            _CAPTURED_PROMPT: job["prompt"],
            _CAPTURED_UUID: job["uuid"],
            start_d["channel_id"]: account.channel_id,
            start_d["guild_id"]: account.guild_id,
            start_d["mentions"][0]["id"]: account.user_id,
            start_d["interaction"]["id"]: self._next_id(),
            start_d["nonce"]: job["nonce"],
            start_d["id"]: self._next_id(),
            result_d["id"]: self._next_id(),
            **{a["id"]: self._next_id() for m in (_PROGRESS, _RESULT) for a in m["d"]["attachments"]},
            **dict.fromkeys(self._prefixes, self.cdn),
        }
        out = [
            (_INTERACTION["t"], self._fill(_INTERACTION, common), False),
            (_START["t"], self._fill(_START, common), False),
        ]
        percents = [p for p in PERCENTS if p][:progress] if progress < len(PERCENTS) else list(PERCENTS)
        for percent in percents:
            out.append((_PROGRESS["t"], self._fill(_PROGRESS, {**common, _CAPTURED_PERCENT: f"{percent}%"}), False))
        out.append((_RESULT["t"], self._fill(_RESULT, common), True))
        return out


class Gateway:
    def __init__(self, accounts: list[Account]) -> None:
        self.by_token = {a.token: a for a in accounts}
        self.sessions: dict[str, Session] = {}
        self.by_account: dict[str, Session] = {}
        self.connected = asyncio.Event()
        self._session_ids = itertools.count(1)

    async def handle(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "/").query)
        zlib_stream = query.get("compress") == ["zlib-stream"]
        deflate = zlib.compressobj() if zlib_stream else None
        lock = asyncio.Lock()
        session: Session | None = None

        async def send_raw(payload: dict[str, Any]) -> None:
            text = json.dumps(payload)
            async with lock:
                if deflate is not None:
                    await ws.send(deflate.compress(text.encode()) + deflate.flush(zlib.Z_SYNC_FLUSH))
                else:
                    await ws.send(text)

        try:
            await send_raw({"op": 10, "d": {"heartbeat_interval": 41250}})
            async for raw in ws:
                message = json.loads(raw)
                op = message.get("op")
                if op == 1:
                    await send_raw({"op": 11})
                elif op == 2:
                    account = self.by_token.get(str(message["d"].get("token")))
                    if account is None:
                        await ws.close(4004, "Authentication failed.")
                        return
                    session = Session(f"fake-{next(self._session_ids)}", account)
                    self.sessions[session.id] = session
                    self.by_account[account.token] = session
                    ready = {
                        "v": 9,
                        "session_id": session.id,
                        "resume_gateway_url": "",
                        "user": {"id": account.user_id, "username": f"user{account.user_id[-4:]}", "bot": False},
                        "private_channels": [],
                        "guilds": [],
                    }
                    await self._attach(session, ws, deflate, lock, ("READY", json.dumps(ready)))
                    if len(self.by_account) == len(self.by_token):
                        self.connected.set()
                elif op == 6:
                    data = message["d"]
                    found = self.sessions.get(str(data.get("session_id")))
                    if found is None:
                        await send_raw({"op": 9, "d": False})
                        continue
                    session = found
                    seq = int(data.get("seq") or 0)
                    await self._attach(session, ws, deflate, lock, ("RESUMED", "{}"), replay_from=seq)
        except ConnectionClosed:
            pass
        finally:
            if session is not None and session.ws is ws:
                session.ws = None
                session.attached.clear()

    async def _attach(
        self,
        session: Session,
        ws: ServerConnection,
        deflate: Any,
        lock: asyncio.Lock,
        event: tuple[str, str],
        replay_from: int | None = None,
    ) -> None:
        """Give the session this connection: replay what it missed (RESUME), then READY or RESUMED."""
        async with lock:  # frames are numbered and sent under the lock: seq order is send order
            session.ws, session.deflate, session.lock = ws, deflate, lock
            missed = session.frames[replay_from:] if replay_from is not None else []
            for text in [*missed, session.frame(*event)]:
                await session.send(text)
            session.attached.set()

    async def play(self, phase: dict[str, Any], cdn: str) -> dict[str, Any]:
        """Send every job of the phase on its account's session; per account in order, accounts concurrently."""
        renderer = Renderer(cdn)
        per_account: dict[str, list[tuple[str, str, bool, str]]] = defaultdict(list)
        rendered: dict[str, list[list[tuple[str, str, bool]]]] = defaultdict(list)
        for job in phase["jobs"]:
            account = self.by_token[job["token"]]
            rendered[job["token"]].append(renderer.job(account, job, int(phase.get("progress", 4))))
        uuids: dict[str, list[str]] = defaultdict(list)
        for job in phase["jobs"]:
            uuids[job["token"]].append(job["uuid"])
        for token, jobs in rendered.items():  # a burst of starts, then the jobs' updates interleaved, as the bot does
            for step in range(max(len(j) for j in jobs)):
                for uuid, events in zip(uuids[token], jobs, strict=True):
                    if step < len(events):
                        per_account[token].append((*events[step], uuid))
        results: dict[str, float] = {}
        gap = float(phase.get("gap", 0.0))

        async def stream(token: str, offset: float) -> int:
            session = self.by_account[token]
            if gap:
                await asyncio.sleep(offset)
            for t, d_json, is_result, uuid in per_account[token]:
                await session.attached.wait()
                async with session.lock:
                    text = session.frame(t, d_json)
                    if is_result:
                        results[uuid] = time.monotonic()
                    await session.send(text)
                if gap:
                    await asyncio.sleep(gap)
            return len(per_account[token])

        tokens = sorted(per_account)
        counts = await asyncio.gather(*(stream(token, gap * n / max(1, len(tokens))) for n, token in enumerate(tokens)))
        return {"phase": phase.get("phase"), "events": sum(counts), "results": results}


def _png() -> bytes:
    return render(ImageSpec(kind="grid", width=128, height=128, palette_seed=11))


async def _serve_cdn(png: bytes) -> tuple[Any, str]:
    """The CDN: every GET answers the PNG (the relay inspects the bytes, not the name)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    return
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: "
                    + str(len(png)).encode()
                    + b"\r\n\r\n"
                    + png
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client closed its keep-alive connection, or this process is ending
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def main_async(accounts: list[Account]) -> None:
    gateway = Gateway(accounts)
    cdn_server, cdn = await _serve_cdn(_png())
    async with serve(gateway.handle, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(json.dumps({"gateway": f"ws://127.0.0.1:{port}", "cdn": cdn}), flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            report = await gateway.play(json.loads(line), cdn)
            print(json.dumps(report), flush=True)
    cdn_server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("accounts", type=Path, help='JSON list of {"token", "user_id", "channel_id", "guild_id"}')
    path: Path = parser.parse_args().accounts
    asyncio.run(main_async([Account(**a) for a in json.loads(path.read_text())]))


if __name__ == "__main__":
    main()
