"""The I/O around one account's gateway session: a websocket and the pure state machine that drives it.

All inputs (socket opened, frame, socket closed, heartbeat due) go through one queue into one task that feeds
:class:`mjapi.discord.gateway.GatewaySession` and performs the actions it returns, so the machine is never entered
concurrently and stale sockets are told apart by their epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from mjapi.discord.gateway import (
    Action,
    Close,
    Connect,
    Dispatch,
    Fatal,
    GatewaySession,
    Send,
    SessionReady,
    SessionResumed,
    StartHeartbeat,
    StopHeartbeat,
)
from mjapi.discord.zlib_stream import ZlibStreamError, ZlibStreamInflater, decode_frame

logger = logging.getLogger(__name__)

OPEN_TIMEOUT_SECONDS = 15.0
MAX_FRAME_BYTES = 16 * 1024 * 1024


@dataclass
class _Opened:
    epoch: int
    ws: ClientConnection


@dataclass
class _Frame:
    epoch: int
    payload: object


@dataclass
class _Closed:
    epoch: int
    code: int | None


class _Tick:
    pass


_Input = _Opened | _Frame | _Closed | _Tick


@dataclass
class ConnectionHooks:
    """What the relay does with a session's outputs. All are awaited in order, on the connection's task."""

    on_dispatch: Callable[[Dispatch], Awaitable[None]]
    on_ready: Callable[[SessionReady], Awaitable[None]]
    on_resumed: Callable[[SessionResumed], Awaitable[None]]
    on_fatal: Callable[[Fatal], Awaitable[None]]
    on_disconnect: Callable[[], Awaitable[None]]


class GatewayConnection:
    def __init__(
        self,
        account_id: str,
        session: GatewaySession,
        hooks: ConnectionHooks,
        *,
        proxy: str | None = None,
        user_agent: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account_id = account_id
        self.session = session
        self.hooks = hooks
        self._proxy = proxy
        self._user_agent = user_agent
        self._clock = clock
        self._inputs: asyncio.Queue[_Input] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._ws_epoch = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflater = ZlibStreamInflater()
        self._done = asyncio.Event()
        self.connected = False

    # -- lifecycle ------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Drive the session until it stops (``stop``) or becomes fatal. Heartbeats need no task of their own: the
        wait for the next input times out exactly when the machine's next heartbeat is due."""
        await self._perform(self.session.start(self._clock()))
        try:
            while not self._done.is_set():
                await self._perform(self._feed(await self._next_input()))
        finally:
            await self._teardown()

    async def _next_input(self) -> _Input:
        """The next input, or a tick when the heartbeat is due first. A frame already queued is taken at once:
        ``asyncio.wait_for`` makes a task and a timer per call, far more than the frame itself costs."""
        due = self.session.next_heartbeat_at
        now = self._clock()
        if due is not None and now >= due:
            return _Tick()
        if not self._inputs.empty():
            return self._inputs.get_nowait()
        try:
            return await asyncio.wait_for(self._inputs.get(), None if due is None else due - now)
        except TimeoutError:
            return _Tick()

    async def stop(self, *, keep_session: bool = True) -> None:
        """Close the socket (resumable by default, so a restarted relay can RESUME and get the missed events)."""
        await self._perform(self.session.stop(keep_session=keep_session))
        self._done.set()
        self._inputs.put_nowait(_Tick())

    def _feed(self, item: _Input) -> list[Action]:
        now = self._clock()
        if isinstance(item, _Opened):
            if item.epoch != self.session.epoch:
                self._spawn(item.ws.close())
                return []
            self._ws, self._ws_epoch = item.ws, item.epoch
            self._inflater.reset()
            self._spawn(self._read(item.ws, item.epoch))
            return self.session.on_open(now, epoch=item.epoch)
        if isinstance(item, _Frame):
            return self.session.on_frame(item.payload, now, epoch=item.epoch)
        if isinstance(item, _Closed):
            if item.epoch == self._ws_epoch:
                self._ws = None
            if self.connected and item.epoch == self.session.epoch:
                self.connected = False
                self._spawn(self.hooks.on_disconnect())
            return self.session.on_close(item.code, now, epoch=item.epoch)
        due = self.session.next_heartbeat_at
        if self._done.is_set() or due is None or now < due:
            return []  # a wake-up (stop) rather than a due heartbeat
        return self.session.on_heartbeat_timer(now)

    # -- actions --------------------------------------------------------------------------------------------------

    async def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                await self._send(action.payload)
            elif isinstance(action, Dispatch):
                await self.hooks.on_dispatch(action)
            elif isinstance(action, Connect):
                await self._close_current(4000)
                self._spawn(self._connect(action))
            elif isinstance(action, StartHeartbeat | StopHeartbeat):
                pass  # the run loop follows session.next_heartbeat_at
            elif isinstance(action, Close):
                await self._close_current(action.code)
            elif isinstance(action, SessionReady):
                self.connected = True
                await self.hooks.on_ready(action)
            elif isinstance(action, SessionResumed):
                self.connected = True
                await self.hooks.on_resumed(action)
            elif isinstance(action, Fatal):
                self._done.set()
                await self.hooks.on_fatal(action)

    async def _send(self, payload: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(json.dumps(payload))
        except ConnectionClosed:
            return  # the reader reports the close

    async def _close_current(self, code: int) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=code), timeout=2)

    async def _connect(self, action: Connect) -> None:
        if action.delay > 0:
            await asyncio.sleep(action.delay)
        if self._done.is_set():
            return
        try:
            ws = await websockets.connect(
                action.url,
                proxy=self._proxy if self._proxy else None,
                open_timeout=OPEN_TIMEOUT_SECONDS,
                ping_interval=None,  # Discord's heartbeat is the liveness check
                max_size=MAX_FRAME_BYTES,
                compression=None,
                user_agent_header=self._user_agent,
            )
        except Exception as exc:  # refused, timed out, bad handshake, proxy error...: the machine backs off
            logger.info("account %s: gateway connect failed: %s", self.account_id, type(exc).__name__)
            self._inputs.put_nowait(_Closed(action.epoch, None))
            return
        self._inputs.put_nowait(_Opened(action.epoch, ws))

    async def _read(self, ws: ClientConnection, epoch: int) -> None:
        try:
            async for message in ws:
                try:
                    text = decode_frame(message, self._inflater if isinstance(message, bytes) else None)
                except ZlibStreamError:
                    logger.warning("account %s: corrupt zlib stream; reconnecting", self.account_id)
                    await ws.close(code=4000)
                    break
                if text is None:
                    continue
                try:
                    payload = json.loads(text)
                except ValueError:
                    continue
                self._inputs.put_nowait(_Frame(epoch, payload))
        except ConnectionClosed:
            pass
        finally:
            # close_code is the code the server sent, or 1006 when the socket dropped without a close frame.
            self._inputs.put_nowait(_Closed(epoch, ws.close_code))

    # -- plumbing -------------------------------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _teardown(self) -> None:
        await self._close_current(4000)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
