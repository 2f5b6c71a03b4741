"""The gateway websocket: sessions with replay buffers, connections, dispatch routing and gateway faults.

One `Session` per IDENTIFY. Every dispatch for a user is appended (with its sequence number) to each of the user's
live or resumable sessions; a connection's single writer task sends the buffer in order, so RESUME is simply "send
everything after the client's seq, then RESUMED". The writer is also the only place that touches the zlib-stream
compressor, which keeps the stream valid whatever faults are active.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from simulator import constants as C
from simulator.config import SimConfig
from simulator.ids import derive_rng, random_hex
from simulator.state import Account
from simulator.world import World

JSON = dict[str, Any]
log = logging.getLogger("simulator.gateway")

# Client close codes after which Discord drops the session (a clean close means "I am going away for good").
_INVALIDATING_CLIENT_CODES = {1000, 1001}
_NON_RESUMABLE_SERVER_CODES = {C.CLOSE_AUTHENTICATION_FAILED, C.CLOSE_SESSION_TIMED_OUT, 4010, 4011, 4012, 4013, 4014}
MODAL_EVENTS = {"INTERACTION_MODAL_CREATE", "INTERACTION_IFRAME_MODAL_CREATE"}
INTERACTION_EVENTS = {"INTERACTION_CREATE", "INTERACTION_SUCCESS", "INTERACTION_FAILURE"}

# IDENTIFY `capabilities` bits that change the shape of READY (user-client gateway; web clients send 16381).
CAP_LAZY_USER_NOTES = 1 << 0  # no `notes` map
CAP_VERSIONED_READ_STATES = 1 << 2  # `read_state` is {entries, partial, version} instead of a list
CAP_VERSIONED_USER_GUILD_SETTINGS = 1 << 3  # `user_guild_settings` likewise
CAP_DEDUPE_USER_OBJECTS = 1 << 4  # users moved to `users`; `recipient_ids`; members in `merged_members`
MEMBER_JOINED_AT = "2022-04-15T05:20:00.000000+00:00"


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def member_json(user: JSON, *, dedupe: bool = False) -> JSON:
    """A guild member: `user_id` when deduplicated (READY `merged_members`), else the full `user` object."""
    member: JSON = {"user_id": user["id"]} if dedupe else {"user": user}
    member.update(
        {
            "roles": [],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": MEMBER_JOINED_AT,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
    )
    return member


@dataclass
class DispatchFaults:
    """Per-account tampering with outgoing dispatches (all bounded by counts)."""

    delay: float = 0.0
    delay_count: int = 0
    duplicate: int = 0
    reorder: int = 0
    drop: int = 0

    def active(self) -> bool:
        return bool(self.delay_count or self.duplicate or self.reorder or self.drop)

    def to_json(self) -> JSON:
        return {
            "delay": self.delay,
            "delay_count": self.delay_count,
            "duplicate": self.duplicate,
            "reorder": self.reorder,
            "drop": self.drop,
        }


@dataclass
class _Entry:
    seq: int
    event: str
    frame: str
    not_before: float


@dataclass
class Session:
    id: str
    account: Account
    buffer_size: int
    seq: int = 0
    buffer: deque[_Entry] = field(default_factory=deque)
    connection: GatewayConnection | None = None
    capabilities: int = 0  # from IDENTIFY; shapes READY
    invalidated: bool = False
    detached_at: float | None = None
    created_at: float = field(default_factory=time.time)

    def append(self, event: str, data_json: str, not_before: float = 0.0) -> None:
        self.seq += 1
        frame = f'{{"op":0,"s":{self.seq},"t":"{event}","d":{data_json}}}'
        self.buffer.append(_Entry(self.seq, event, frame, not_before))
        while len(self.buffer) > self.buffer_size:
            self.buffer.popleft()
        if self.connection is not None:
            self.connection.wake()

    def entry(self, seq: int) -> _Entry | None:
        if not self.buffer:
            return None
        index = seq - self.buffer[0].seq
        if 0 <= index < len(self.buffer):
            return self.buffer[index]
        return None

    def can_replay_from(self, seq: int) -> bool:
        if seq > self.seq or seq < 0:
            return False
        if seq == self.seq:
            return True
        return bool(self.buffer) and self.buffer[0].seq <= seq + 1

    @property
    def resumable(self) -> bool:
        return not self.invalidated

    def to_json(self) -> JSON:
        return {
            "session_id": self.id,
            "user_id": self.account.user_id,
            "seq": self.seq,
            "connected": self.connection is not None,
            "invalidated": self.invalidated,
            "buffered": len(self.buffer),
        }


class GatewayConnection:
    """One websocket. Owns the writer task (ordering, zlib-stream, freeze) and the receive loop."""

    def __init__(self, hub: Hub, ws: web.WebSocketResponse, request: web.Request, *, zlib_stream: bool) -> None:
        self.hub = hub
        self.ws = ws
        self.request = request
        self.zlib_stream = zlib_stream
        self._compressor = zlib.compressobj() if zlib_stream else None
        self.payload_compress = False
        self.session: Session | None = None
        self.sent_seq = 0
        self.control: deque[str] = deque()
        self.frozen_until: float | None = None
        self.closed = False
        self.close_code: int | None = None
        self._wake_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._last_beat = self._loop.time()
        self._frames: deque[float] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self._close_task: asyncio.Future[None] | None = None

    # ----- sending ---------------------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake_event.set()

    def _wake_at(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self.wake)

    def send_op(self, op: int, data: Any) -> None:
        self.control.append(dumps({"op": op, "d": data}))
        self.wake()

    async def _send(self, text: str, *, compress_payload: bool = False) -> None:
        if self._compressor is not None:
            data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        elif compress_payload:
            await self.ws.send_bytes(zlib.compress(text.encode()))
        else:
            await self.ws.send_str(text)

    async def _writer(self) -> None:
        try:
            while not self.closed:
                await self._wake_event.wait()
                self._wake_event.clear()
                if self.is_closed():
                    return
                now = self._loop.time()
                if self.frozen_until is not None:
                    if now < self.frozen_until:
                        if math.isfinite(self.frozen_until):
                            self._wake_at(self.frozen_until)
                        continue
                    self.frozen_until = None
                await self._flush_control()
                session = self.session
                while session is not None and self.session is session and self.sent_seq < session.seq:
                    if self.is_closed() or self.is_frozen():
                        break
                    entry = session.entry(self.sent_seq + 1)
                    if entry is None:
                        log.warning("session %s fell behind its replay buffer; closing", session.id)
                        await self.close(C.CLOSE_UNKNOWN_ERROR, "Replay buffer overflow")
                        return
                    if entry.not_before > self._loop.time():
                        self._wake_at(entry.not_before)
                        break
                    await self._send(entry.frame, compress_payload=self.payload_compress and entry.event == "READY")
                    self.sent_seq = entry.seq
                    if self.control:
                        await self._flush_control()
        except (ConnectionError, RuntimeError):
            self.closed = True

    async def _flush_control(self) -> None:
        while self.control and not self.closed:
            await self._send(self.control.popleft())

    # ----- lifecycle -------------------------------------------------------------------------------------------
    def is_closed(self) -> bool:
        return self.closed

    def is_frozen(self) -> bool:
        return self.frozen_until is not None

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        if code in _NON_RESUMABLE_SERVER_CODES and self.session is not None:
            self.session.invalidated = True
        self.wake()
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=reason.encode())

    def close_soon(self) -> None:
        """Close with 4000 unless the client already went away (used after op 7)."""
        if not self.closed:
            self._close_task = asyncio.ensure_future(self.close(C.CLOSE_UNKNOWN_ERROR, "Reconnect"))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        self.wake()

    def freeze(self, seconds: float | None) -> None:
        """Stop sending anything (dispatches and heartbeat ACKs) for `seconds`, or until closed if None."""
        self.frozen_until = math.inf if seconds is None else self._loop.time() + seconds
        self.wake()

    async def run(self) -> int | None:
        self.tasks.append(asyncio.create_task(self._writer()))
        self.tasks.append(asyncio.create_task(self._watchdog()))
        self.send_op(
            C.OP_HELLO,
            {"heartbeat_interval": self.hub.config.heartbeat_interval_ms, "_trace": ['["sim-gateway",{"micros":0}]']},
        )
        client_code: int | None = None
        try:
            while not self.closed:
                msg = await self.ws.receive()
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self.close(C.CLOSE_DECODE_ERROR, "Error while decoding payload.")
                elif msg.type == WSMsgType.CLOSE:
                    client_code = int(msg.data) if isinstance(msg.data, int) else None
                    break
                else:
                    break
        finally:
            self.closed = True
            self.wake()
            if self._timer is not None:
                self._timer.cancel()
            for task in self.tasks:
                task.cancel()
            self.hub.connection_closed(self, client_code)
        return client_code

    async def _watchdog(self) -> None:
        interval = self.hub.config.heartbeat_interval_ms / 1000.0
        limit = interval * self.hub.config.heartbeat_grace + min(5.0, interval)
        while not self.closed:
            await asyncio.sleep(min(1.0, interval / 4))
            if self.frozen_until is not None:
                continue
            if self._loop.time() - self._last_beat > limit:
                await self.close(C.CLOSE_SESSION_TIMED_OUT, "Session timed out.")
                return

    # ----- receiving -------------------------------------------------------------------------------------------
    async def _on_text(self, text: str) -> None:
        now = self._loop.time()
        self._frames.append(now)
        while self._frames and now - self._frames[0] > 60.0:
            self._frames.popleft()
        if len(self._frames) > self.hub.config.gateway_events_per_minute:
            await self.close(C.CLOSE_RATE_LIMITED, "You are being rate limited.")
            return
        try:
            payload = json.loads(text)
        except ValueError:
            await self.close(C.CLOSE_DECODE_ERROR, "Error while decoding payload.")
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("op"), int):
            await self.close(C.CLOSE_DECODE_ERROR, "Error while decoding payload.")
            return
        op = payload["op"]
        data = payload.get("d")
        if op == C.OP_HEARTBEAT:
            self._last_beat = now
            self.send_op(C.OP_HEARTBEAT_ACK, None)
        elif op == C.OP_IDENTIFY:
            await self._identify(data)
        elif op == C.OP_RESUME:
            await self._resume(data)
        elif op in (C.OP_PRESENCE_UPDATE, C.OP_VOICE_STATE_UPDATE, C.OP_REQUEST_GUILD_MEMBERS, 14, 37):
            if self.session is None:
                await self.close(C.CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
        else:
            await self.close(C.CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")

    async def _authenticate(self, data: Any) -> Account | None:
        """The account of an IDENTIFY or RESUME payload; closes the socket with Discord's code and returns None when
        the connection is already authenticated, the payload is malformed or the token is unknown."""
        if self.session is not None:
            await self.close(C.CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
            return None
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            await self.close(C.CLOSE_DECODE_ERROR, "Error while decoding payload.")
            return None
        account = self.hub.world.authenticate(data["token"])
        if account is None:
            await self.close(C.CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
        return account

    async def _identify(self, data: Any) -> None:
        account = await self._authenticate(data)
        if account is None:
            return
        self.payload_compress = bool(data.get("compress")) and not self.zlib_stream
        session = self.hub.new_session(account)
        capabilities = data.get("capabilities")
        if isinstance(capabilities, int) and not isinstance(capabilities, bool) and capabilities > 0:
            session.capabilities = capabilities
        self.attach(session, 0)
        self.hub.send_ready(session)

    async def _resume(self, data: Any) -> None:
        account = await self._authenticate(data)
        if account is None:
            return
        session = self.hub.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        seq = seq if isinstance(seq, int) else 0
        if session is None or session.invalidated or session.account is not account or not session.can_replay_from(seq):
            self.send_op(C.OP_INVALID_SESSION, False)
            return
        previous = session.connection
        if previous is not None and previous is not self:
            previous.session = None
            await previous.close(C.CLOSE_UNKNOWN_ERROR, "Session resumed elsewhere.")
        self.attach(session, seq)
        session.append("RESUMED", dumps({"_trace": ['["sim-gateway",{"micros":0}]']}))

    def attach(self, session: Session, seq: int) -> None:
        session.connection = self
        session.detached_at = None
        self.session = session
        self.sent_seq = seq
        self.wake()


class Hub:
    """Routes dispatches to users' sessions and applies dispatch faults."""

    def __init__(self, world: World, config: SimConfig) -> None:
        self.world = world
        self.config = config
        self.sessions: dict[str, Session] = {}
        self.by_user: dict[str, list[Session]] = {}
        self.connections: set[GatewayConnection] = set()
        self.faults: dict[str, DispatchFaults] = {}
        self._held: dict[str, tuple[list[Session], str, str]] = {}
        self._held_timers: dict[str, asyncio.TimerHandle] = {}
        self.resume_url = ""
        self.event_log: deque[JSON] = deque(maxlen=5000)
        self.undelivered_modals = 0
        self._session_counter: dict[str, int] = {}

    # ----- sessions --------------------------------------------------------------------------------------------
    def new_session(self, account: Account) -> Session:
        self.gc()
        count = self._session_counter.get(account.user_id, 0) + 1
        self._session_counter[account.user_id] = count
        rng = derive_rng(self.config.seed, "session", account.user_id, count)
        session = Session(id=random_hex(rng, 32), account=account, buffer_size=self.config.replay_buffer)
        self.sessions[session.id] = session
        sessions = self.by_user.setdefault(account.user_id, [])
        sessions.append(session)
        # Bound memory for clients that reconnect without resuming: the oldest detached sessions are dropped.
        detached = [s for s in sessions if s.connection is None and s is not session]
        while len(sessions) > self.config.max_sessions_per_user and detached:
            oldest = detached.pop(0)
            oldest.invalidated = True
            self.drop_session(oldest)
        return session

    def drop_session(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        sessions = self.by_user.get(session.account.user_id)
        if sessions and session in sessions:
            sessions.remove(session)

    def gc(self) -> None:
        now = time.time()
        for session in list(self.sessions.values()):
            if session.connection is not None:
                continue
            expired = session.detached_at is not None and now - session.detached_at > self.config.session_resume_timeout
            if session.invalidated or expired:
                self.drop_session(session)

    def connection_closed(self, connection: GatewayConnection, client_code: int | None) -> None:
        self.connections.discard(connection)
        session = connection.session
        if session is None or session.connection is not connection:
            return
        session.connection = None
        session.detached_at = time.time()
        if client_code in _INVALIDATING_CLIENT_CODES:
            session.invalidated = True

    def send_ready(self, session: Session) -> None:
        account = session.account
        ready = self._ready_payload(session)
        session.append("READY", dumps(ready))
        guilds = [g for g in self.world.guilds.values() if account.user_id in g.member_ids]
        supplemental = {
            "merged_presences": {"guilds": [[] for _ in guilds], "friends": []},
            "merged_members": [[] for _ in guilds],
            "lazy_private_channels": [],
            "guilds": [
                {"id": g.id, "voice_states": [], "embedded_activities": [], "activity_instances": []} for g in guilds
            ],
            "game_invites": [],
            "disclose": [],
        }
        session.append("READY_SUPPLEMENTAL", dumps(supplemental))
        self.log(account.user_id, "READY", {"session_id": session.id})

    def _ready_payload(self, session: Session) -> JSON:
        """READY as Discord shapes it for the session's IDENTIFY `capabilities` (see the CAP_* bits)."""
        account = session.account
        world = self.world
        caps = session.capabilities
        dedupe = bool(caps & CAP_DEDUPE_USER_OBJECTS)
        guilds = []
        for guild in world.guilds.values():
            if account.user_id not in guild.member_ids:
                continue
            channels = [world.channels[cid].to_json() for cid in guild.channel_ids]
            for channel in channels:
                channel.pop("guild_id", None)
            entry: JSON = {
                "id": guild.id,
                "name": guild.name,
                "properties": {"id": guild.id, "name": guild.name, "owner_id": guild.owner_id, "icon": None},
                "owner_id": guild.owner_id,
                "channels": channels,
                "threads": [],
                "roles": [{"id": guild.id, "name": "@everyone", "permissions": "1071698660929", "position": 0}],
                "emojis": [],
                "stickers": [],
                "member_count": len(guild.member_ids) + len(guild.bot_app_ids),
                "joined_at": MEMBER_JOINED_AT,
                "lazy": True,
                "large": False,
                "data_mode": "full",
                "version": 0,
                "premium_subscription_count": 0,
                "application_command_counts": {"1": 30, "3": 2},
            }
            if not dedupe:
                entry["members"] = [member_json(account.user_json())]
            guilds.append(entry)
        private_channels = []
        for key, channel_id in account.dm_channel_ids.items():
            app = world.commands.app_by_key(key)
            dm = world.channels[channel_id]
            private: JSON = {
                "id": channel_id,
                "type": 1,
                "last_message_id": dm.last_message_id,
                "flags": 0,
                "is_spam": False,
            }
            if dedupe:
                private["recipient_ids"] = [app.id] if app else []
            else:
                private["recipients"] = [app.user_json()] if app else []
            private_channels.append(private)
        versioned = {"entries": [], "partial": False, "version": 0}
        ready: JSON = {
            "v": 9,
            "user": account.me_json(),
            "user_settings": {"locale": "en-US", "status": "online"},
            "user_settings_proto": "",
            "guilds": guilds,
            "relationships": [],
            "read_state": dict(versioned) if caps & CAP_VERSIONED_READ_STATES else [],
            "private_channels": private_channels,
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url,
            "sessions": [
                {
                    "session_id": session.id,
                    "status": "online",
                    "activities": [],
                    "client_info": {"version": 0, "os": "other", "client": "web"},
                }
            ],
            "user_guild_settings": dict(versioned) if caps & CAP_VERSIONED_USER_GUILD_SETTINGS else [],
            "country_code": "US",
            "geo_ordered_rtc_regions": ["us-east", "us-central"],
            "analytics_token": random_hex(derive_rng(self.config.seed, "analytics", session.id), 32),
            "auth_session_id_hash": random_hex(derive_rng(self.config.seed, "auth", account.user_id), 44),
            "api_code_version": 1,
            "experiments": [],
            "guild_experiments": [],
            "connected_accounts": [],
            "consents": {"personalization": {"consented": False}},
            "tutorial": None,
            "notification_settings": {"flags": 0},
            "friend_suggestion_count": 0,
            "_trace": ['["sim-gateway",{"micros":0}]'],
        }
        if dedupe:
            ready["users"] = [app.user_json() for app in world.commands.apps.values()]
            ready["merged_members"] = [[member_json(account.user_json(), dedupe=True)] for _ in guilds]
        if not caps & CAP_LAZY_USER_NOTES:
            ready["notes"] = {}
        return ready

    # ----- dispatch routing ------------------------------------------------------------------------------------
    def log(self, user_id: str, event: str, data: JSON) -> None:
        self.event_log.append({"ts": time.time(), "user_id": user_id, "t": event, "d": data})

    def user_sessions(self, user_id: str) -> list[Session]:
        return [s for s in self.by_user.get(user_id, []) if not s.invalidated]

    def dispatch(self, user_ids: Iterable[str], event: str, data: JSON) -> None:
        """Send a dispatch to every live or resumable session of the given users."""
        data_json = dumps(data)
        for user_id in user_ids:
            self.log(user_id, event, data)
            self._deliver(user_id, self.user_sessions(user_id), event, data_json)

    def dispatch_interaction(self, account: Account, session_id: str, event: str, data: JSON) -> bool:
        """Interaction events: only to the session named in the interaction.

        Modal events reach nobody when that session does not exist (like real Discord); the acknowledgement events
        go to all the user's sessions in that case, so clients sending a fixed fake session id still see them.
        """
        sessions = self.user_sessions(account.user_id)
        targets = [s for s in sessions if s.id == session_id]
        if not targets:
            if event in MODAL_EVENTS:
                self.undelivered_modals += 1
                self.log(account.user_id, event + "(undelivered)", data)
                return False
            targets = sessions
        self.log(account.user_id, event, data)
        self._deliver(account.user_id, targets, event, dumps(data))
        return True

    def _deliver(self, user_id: str, sessions: list[Session], event: str, data_json: str) -> None:
        if not sessions:
            return
        faults = self.faults.get(user_id)
        if (faults is None or not faults.active()) and user_id not in self._held:
            for session in sessions:
                session.append(event, data_json)
            return
        faults = faults or DispatchFaults()
        if faults.drop > 0:
            faults.drop -= 1
            return
        not_before = 0.0
        if faults.delay_count > 0:
            faults.delay_count -= 1
            not_before = asyncio.get_running_loop().time() + faults.delay
        copies = 1
        if faults.duplicate > 0:
            faults.duplicate -= 1
            copies = 2
        held = self._held.pop(user_id, None)
        if held is None and faults.reorder > 0:
            faults.reorder -= 1
            self._held[user_id] = (sessions, event, data_json)
            self._held_timers[user_id] = asyncio.get_running_loop().call_later(1.0, self._release_held, user_id)
            return
        for _ in range(copies):
            for session in sessions:
                session.append(event, data_json, not_before)
        if held is not None:
            timer = self._held_timers.pop(user_id, None)
            if timer is not None:
                timer.cancel()
            held_sessions, held_event, held_json = held
            for session in held_sessions:
                session.append(held_event, held_json, not_before)

    def _release_held(self, user_id: str) -> None:
        self._held_timers.pop(user_id, None)
        held = self._held.pop(user_id, None)
        if held is not None:
            sessions, event, data_json = held
            for session in sessions:
                session.append(event, data_json)

    # ----- faults ----------------------------------------------------------------------------------------------
    def connections_of(self, user_id: str, session_id: str | None = None) -> list[GatewayConnection]:
        out = []
        for session in self.by_user.get(user_id, []):
            if session.connection is not None and (session_id is None or session.id == session_id):
                out.append(session.connection)
        return out

    async def gateway_fault(
        self,
        user_id: str,
        action: str,
        *,
        session_id: str | None = None,
        seconds: float | None = None,
        code: int = C.CLOSE_UNKNOWN_ERROR,
        resumable: bool = True,
    ) -> int:
        """Apply a fault to the user's connected sessions; returns how many connections were affected."""
        connections = self.connections_of(user_id, session_id)
        for connection in connections:
            if action == "drop":
                connection.abort()
            elif action == "freeze":
                connection.freeze(seconds)
            elif action == "unfreeze":
                connection.frozen_until = None
                connection.wake()
            elif action == "reconnect":
                connection.send_op(C.OP_RECONNECT, None)
                asyncio.get_running_loop().call_later(2.0 if seconds is None else seconds, connection.close_soon)
            elif action == "invalid_session":
                session = connection.session
                if session is not None:
                    session.invalidated = session.invalidated or not resumable
                    session.connection = None
                    session.detached_at = time.time()
                connection.session = None
                connection.send_op(C.OP_INVALID_SESSION, resumable)
            elif action == "close":
                await connection.close(code, "Closed by the simulator")
            elif action == "heartbeat_request":
                connection.send_op(C.OP_HEARTBEAT, connection.sent_seq or None)
            else:
                raise ValueError(f"unknown gateway fault {action!r}")
        return len(connections)

    def set_dispatch_faults(self, user_id: str, **changes: Any) -> DispatchFaults:
        faults = self.faults.setdefault(user_id, DispatchFaults())
        for key, value in changes.items():
            if value is not None:
                setattr(faults, key, value)
        return faults

    def clear_faults(self) -> None:
        self.faults.clear()
        for user_id in list(self._held):
            self._release_held(user_id)
        for connection in list(self.connections):
            if connection.frozen_until is not None:
                connection.frozen_until = None
                connection.wake()

    async def close_all(self, code: int = C.CLOSE_UNKNOWN_ERROR) -> None:
        for connection in list(self.connections):
            await connection.close(code, "Simulator stopping")
        for timer in self._held_timers.values():
            timer.cancel()
        self._held_timers.clear()
        self._held.clear()

    def reset(self) -> None:
        for session in list(self.sessions.values()):
            session.invalidated = True
        self.sessions.clear()
        self.by_user.clear()
        self.faults.clear()
        self.event_log.clear()
        self.undelivered_modals = 0
        self._session_counter.clear()

    # ----- the aiohttp handler ---------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        # No permessage-deflate: Discord's own compression is compress=zlib-stream (and deflating every frame twice
        # would only burn CPU).
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20, compress=False)
        version = request.query.get("v", "9")
        encoding = request.query.get("encoding", "json")
        compress = request.query.get("compress", "")
        await ws.prepare(request)
        if not version.isdigit() or int(version) not in (6, 7, 8, 9, 10):
            await ws.close(code=C.CLOSE_INVALID_API_VERSION, message=b"Invalid API version.")
            return ws
        if encoding != "json":
            await ws.close(code=C.CLOSE_DECODE_ERROR, message=b"Only encoding=json is simulated.")
            return ws
        if compress not in ("", "zlib-stream"):
            await ws.close(code=C.CLOSE_DECODE_ERROR, message=b"Only compress=zlib-stream is simulated.")
            return ws
        connection = GatewayConnection(self, ws, request, zlib_stream=compress == "zlib-stream")
        self.connections.add(connection)
        await connection.run()
        return ws
