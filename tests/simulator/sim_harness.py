"""A small real client for the simulator tests: a websockets gateway client and an aiohttp REST helper."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
from PIL import Image
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from simulator import MIDJOURNEY_APP_ID, Account, SimUrls

JSON = dict[str, Any]
ZLIB_SUFFIX = b"\x00\x00\xff\xff"


class Gateway:
    """Records every payload it receives; `wait_for` scans them with a bounded wait."""

    def __init__(self, url: str, token: str, *, zlib_stream: bool = False, heartbeat: bool = True) -> None:
        query = "?v=9&encoding=json" + ("&compress=zlib-stream" if zlib_stream else "")
        self.url = url.rstrip("/") + "/" + query
        self.token = token
        self.zlib_stream = zlib_stream
        self.heartbeat = heartbeat
        self.ws: ClientConnection | None = None
        self.frames: list[JSON] = []
        self.seq: int | None = None
        self.session_id: str | None = None
        self.ready: JSON | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.acks = 0
        self.binary_frames = 0
        self._inflator = zlib.decompressobj()
        self._buffer = b""
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def dispatches(self) -> list[JSON]:
        return [f for f in self.frames if f.get("op") == 0]

    def events(self, name: str) -> list[JSON]:
        return [f["d"] for f in self.dispatches if f.get("t") == name]

    async def open(self) -> JSON:
        """Connect and return HELLO's `d`."""
        self.ws = await connect(self.url, proxy=None, max_size=None, open_timeout=5)
        self._tasks.append(asyncio.create_task(self._reader()))
        hello = await self.wait_for(lambda f: f.get("op") == 10)
        if self.heartbeat:
            self._tasks.append(asyncio.create_task(self._beat(hello["d"]["heartbeat_interval"] / 1000)))
        return dict(hello["d"])

    async def identify(self, *, compress: bool = False) -> JSON:
        if self.ws is None:
            await self.open()
        await self.send(
            2,
            {
                "token": self.token,
                "capabilities": 16381,
                "compress": compress,
                "properties": {"os": "Linux", "browser": "Chrome", "device": ""},
                "presence": {"status": "online", "since": 0, "activities": [], "afk": False},
            },
        )
        ready = await self.wait_for(lambda f: f.get("t") == "READY")
        self.ready = ready["d"]
        self.session_id = ready["d"]["session_id"]
        return dict(ready["d"])

    async def resume(self, session_id: str, seq: int) -> None:
        if self.ws is None:
            await self.open()
        await self.send(6, {"token": self.token, "session_id": session_id, "seq": seq})

    async def send(self, op: int, data: Any) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"op": op, "d": data}))

    async def send_raw(self, data: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def _beat(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.send(1, self.seq)
            except ConnectionClosed:
                return

    def _decode(self, raw: str | bytes) -> list[JSON]:
        if isinstance(raw, str):
            return [json.loads(raw)]
        self.binary_frames += 1
        if not self.zlib_stream:
            return [json.loads(zlib.decompress(raw))]
        self._buffer += raw
        if not self._buffer.endswith(ZLIB_SUFFIX):
            return []
        text = self._inflator.decompress(self._buffer)
        self._buffer = b""
        return [json.loads(text)]

    async def _reader(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                for frame in self._decode(raw):
                    if frame.get("op") == 0 and frame.get("s") is not None:
                        self.seq = frame["s"]
                    if frame.get("op") == 11:
                        self.acks += 1
                    self.frames.append(frame)
                    self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            self._changed.set()

    async def wait_for(self, predicate: Callable[[JSON], bool], within: float = 10.0, start: int = 0) -> JSON:
        """The first recorded frame (from index `start`) matching `predicate`."""

        async def scan() -> JSON:
            index = start
            while True:
                while index < len(self.frames):
                    frame = self.frames[index]
                    index += 1
                    if predicate(frame):
                        return frame
                if self.close_code is not None:
                    raise AssertionError(f"gateway closed ({self.close_code} {self.close_reason}) while waiting")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), within)

    async def event(
        self, name: str, predicate: Callable[[JSON], bool] | None = None, within: float = 10.0, start: int = 0
    ) -> JSON:
        """`d` of the first dispatch `name` whose `d` matches `predicate`."""
        frame = await self.wait_for(
            lambda f: f.get("t") == name and (predicate is None or predicate(f.get("d") or {})), within, start
        )
        return dict(frame["d"])

    async def closed(self, within: float = 10.0) -> int | None:
        async def wait() -> int | None:
            while self.close_code is None:
                self._changed.clear()
                await self._changed.wait()
            return self.close_code

        return await asyncio.wait_for(wait(), within)

    async def close(self, code: int = 4000) -> None:
        for task in self._tasks[1:]:
            task.cancel()
        if self.ws is not None:
            await self.ws.close(code)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


class Discord:
    """REST calls as a user client makes them (raw token in Authorization)."""

    def __init__(self, http: aiohttp.ClientSession, urls: SimUrls, account: Account) -> None:
        self.http = http
        self.urls = urls
        self.account = account
        self.session_id = "f1a313a09ce079ce252459dc70231f30"
        self._nonce = 1100000000000000000
        self._index: dict[str, JSON] = {}

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.account.token}

    def nonce(self) -> str:
        self._nonce += 1
        return str(self._nonce)

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        url = path if path.startswith("http") else self.urls.rest + path
        headers = {**self.headers, **kwargs.pop("headers", {})}
        async with self.http.request(method, url, headers=headers, **kwargs) as response:
            raw = await response.read()
            body: Any = raw
            if response.content_type == "application/json" and raw:
                body = json.loads(raw)
            return response.status, body, response.headers

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        return await self.request("POST", path, **kwargs)

    async def command_def(self, name: str, application_id: str = MIDJOURNEY_APP_ID) -> JSON:
        key = f"{application_id}:{name}"
        if key not in self._index:
            status, body, _ = await self.get(f"/guilds/{self.account.guild_id}/application-command-index")
            assert status == 200, body
            for command in body["application_commands"]:
                self._index[f"{command['application_id']}:{command['name']}"] = command
        return self._index[key]

    async def command(
        self,
        name: str,
        options: list[JSON] | None = None,
        *,
        application_id: str = MIDJOURNEY_APP_ID,
        channel_id: str | None = None,
        session_id: str | None = None,
        nonce: str | None = None,
        attachments: list[JSON] | None = None,
        multipart_files: dict[str, tuple[str, bytes]] | None = None,
        version: str | None = None,
    ) -> tuple[int, Any]:
        command = await self.command_def(name, application_id)
        channel_id = channel_id or self.account.channel_id
        guild_id = None if channel_id in self.account.dm_channel_ids.values() else self.account.guild_id
        payload = {
            "type": 2,
            "application_id": application_id,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "session_id": session_id or self.session_id,
            "nonce": nonce or self.nonce(),
            "data": {
                "version": version or command["version"],
                "id": command["id"],
                "name": command["name"],
                "type": command["type"],
                "options": options or [],
                "attachments": attachments or [],
            },
        }
        return await self.interact(payload, multipart_files)

    async def imagine(self, prompt: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.command("imagine", [{"type": 3, "name": "prompt", "value": prompt}], **kwargs)

    async def interact(
        self, payload: JSON, multipart_files: dict[str, tuple[str, bytes]] | None = None
    ) -> tuple[int, Any]:
        if multipart_files is None:
            status, body, _ = await self.post("/interactions", json=payload)
            return status, body
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps(payload), content_type="application/json")
        for name, (filename, data) in multipart_files.items():
            form.add_field(name, data, filename=filename, content_type="image/png")
        status, body, _ = await self.post("/interactions", data=form)
        return status, body

    async def click(
        self,
        message: JSON,
        custom_id: str,
        *,
        session_id: str | None = None,
        nonce: str | None = None,
        values: list[str] | None = None,
        flags: int | None = None,
    ) -> tuple[int, Any]:
        channel_id = message["channel_id"]
        payload: JSON = {
            "type": 3,
            "nonce": nonce or self.nonce(),
            "guild_id": message.get("guild_id"),
            "channel_id": channel_id,
            "message_flags": message.get("flags", 0) if flags is None else flags,
            "message_id": message["id"],
            "application_id": message["author"]["id"],
            "session_id": session_id or self.session_id,
            "data": {"component_type": 3 if values is not None else 2, "custom_id": custom_id},
        }
        if values is not None:
            payload["data"]["values"] = values
        return await self.interact(payload)

    async def submit_modal(
        self,
        modal: JSON,
        values: dict[str, str],
        *,
        session_id: str | None = None,
        application_id: str = MIDJOURNEY_APP_ID,
        nonce: str | None = None,
    ) -> tuple[int, Any]:
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
        payload = {
            "type": 5,
            "application_id": application_id,
            "channel_id": modal["channel_id"],
            "guild_id": modal.get("guild_id"),
            "session_id": session_id or self.session_id,
            "nonce": nonce or self.nonce(),
            "data": {"id": modal["id"], "custom_id": modal["custom_id"], "components": rows},
        }
        return await self.interact(payload)

    async def upload(self, filename: str, data: bytes, channel_id: str | None = None) -> str:
        channel_id = channel_id or self.account.channel_id
        status, body, _ = await self.post(
            f"/channels/{channel_id}/attachments",
            json={"files": [{"filename": filename, "file_size": len(data), "id": "0"}]},
        )
        assert status == 200, body
        target = body["attachments"][0]
        async with self.http.put(target["upload_url"], data=data, headers={"Content-Type": "image/png"}) as response:
            assert response.status == 200, await response.text()
        return str(target["upload_filename"])


def png(color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def png_b64(size: tuple[int, int] = (32, 32)) -> str:
    return base64.b64encode(png((255, 255, 255), size)).decode()


def custom_ids(message: JSON) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"] if "custom_id" in c]


def find_custom_id(message: JSON, needle: str) -> str:
    for custom_id in custom_ids(message):
        if needle in custom_id:
            return custom_id
    raise AssertionError(f"no custom_id containing {needle!r} in {custom_ids(message)}")


async def submit_and_wait(
    discord: Discord, gw: Gateway, call: Callable[..., Any], *args: Any, within: float = 15.0, **kwargs: Any
) -> tuple[JSON, JSON]:
    """Send an interaction (with the gateway's session id) and return (first bot message, final result message)."""
    nonce = discord.nonce()
    start = len(gw.frames)
    status, body = await call(*args, nonce=nonce, session_id=gw.session_id, **kwargs)
    assert status == 204, body
    success = await gw.event("INTERACTION_SUCCESS", lambda d: d.get("nonce") == nonce, start=start, within=within)
    first = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start, within=within)
    result = await gw.event(
        "MESSAGE_CREATE",
        lambda d: (
            (d.get("interaction_metadata") or {}).get("id") == success["id"]
            and bool(d.get("attachments"))
            and bool(d.get("components"))
        ),
        start=start,
        within=within,
    )
    return first, result


async def imagine_result(discord: Discord, gw: Gateway, prompt: str, **kwargs: Any) -> JSON:
    _, result = await submit_and_wait(discord, gw, discord.imagine, prompt, **kwargs)
    return result


async def eventually(predicate: Callable[[], bool], within: float = 10.0, step: float = 0.01) -> None:
    """Wait (bounded) until `predicate()` holds; for server-side state with no event to wait on."""

    async def poll() -> None:
        while not predicate():  # noqa: ASYNC110 - server-side state has no event to await
            await asyncio.sleep(step)

    await asyncio.wait_for(poll(), within)
