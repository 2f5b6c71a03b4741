"""Discord gateway protocol for a *user* account, as a pure sans-I/O state machine.

The I/O layer (the relay) owns the websocket and the timers; it feeds this machine what happened and performs the
actions it returns::

    session = GatewaySession(GatewayConfig(identity=ClientIdentity(token=...)), rng=random.Random())
    actions = session.start(now)                      # -> [Connect(url, delay=0, resume=False, epoch=1)]
    ... socket opened         -> session.on_open(now, epoch=...)
    ... frame received        -> session.on_frame(json.loads(text), now, epoch=...)
    ... heartbeat timer fired -> session.on_heartbeat_timer(now)   (schedule: StartHeartbeat / next_heartbeat_at)
    ... socket closed         -> session.on_close(code, now, epoch=...)

Facts (Discord docs ``topics/gateway.md``, ``opcodes-and-status-codes.md``; protocol notes §2):

* Hello (op 10) gives ``heartbeat_interval`` (ms). The first heartbeat waits ``interval * jitter`` (jitter in [0, 1)),
  then one every interval; ``{"op":1,"d":<last seq>}``; the server answers op 11. No ACK between two heartbeats =
  zombied connection: close with a code other than 1000/1001 and reconnect + resume. A server op 1 is answered at once.
* Identify as a user client (NZ ``createAuthData``; TA ``CreateAuthData``): token, ``capabilities``, ``properties``
  (os, browser, UA, build number...), ``presence``, ``compress: false``, ``client_state``, and **no intents**.
* READY carries ``session_id`` and ``resume_gateway_url``; resume = connect to ``resume_gateway_url`` and send op 6
  ``{token, session_id, seq}``; missed events are replayed, then ``RESUMED``.
* op 7 Reconnect -> reconnect and resume. op 9 Invalid Session -> ``d`` says whether the session is resumable; wait a
  random 1-5 s, then resume or identify afresh.
* Close codes: 4004 (authentication failed) and 4010-4014 must not be retried (-> :class:`Fatal`, e.g. ``bad_token``);
  4007 (invalid seq) and 4009 (session timed out) need a new session; others (1000/1001/1006/4000-4003/4005/4008...)
  reconnect and resume when a session exists. Repeated failures back off exponentially with jitter.

Replayed dispatches are harmless: a dispatch whose ``s`` is not above the last seen one is dropped.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Protocol

GATEWAY_URL = "wss://gateway.discord.gg"
API_VERSION = 9
DEFAULT_HEARTBEAT_INTERVAL = 41.25  # seconds; peers' default when Hello lacks it
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


#: Failed connections to resume at before the saved resume URL is dropped (twice as many: the session too).
RESUME_URL_ATTEMPTS = 3


class Op(IntEnum):
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    RESUME = 6
    RECONNECT = 7
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


#: Close codes after which reconnecting is pointless (Discord "Gateway Close Event Codes": Reconnect = false).
FATAL_CLOSE_CODES: dict[int, str] = {
    4004: "bad_token",
    4010: "invalid_shard",
    4011: "sharding_required",
    4012: "invalid_api_version",
    4013: "invalid_intents",
    4014: "disallowed_intents",
}
#: Close codes that invalidate the session: reconnect, then identify afresh.
NEW_SESSION_CLOSE_CODES: frozenset[int] = frozenset({4007, 4009})
#: Close code this client uses to drop a connection while keeping the session resumable (not 1000/1001).
RESUMABLE_CLOSE = 4000


class RandomSource(Protocol):
    """Anything with ``random() -> float`` in [0, 1): ``random.Random`` or a scripted stub in tests."""

    def random(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """How the account presents itself in Identify. The token is excluded from ``repr``."""

    token: str = field(repr=False)
    user_agent: str = DEFAULT_USER_AGENT
    browser: str = "Chrome"
    browser_version: str = "124.0.0.0"
    os: str = "Windows"
    os_version: str = "10"
    system_locale: str = "en-US"
    client_build_number: int = 222963
    capabilities: int = 16381

    def properties(self) -> dict[str, Any]:
        return {
            "os": self.os,
            "browser": self.browser,
            "device": "",
            "system_locale": self.system_locale,
            "browser_user_agent": self.user_agent,
            "browser_version": self.browser_version,
            "os_version": self.os_version,
            "referrer": "",
            "referring_domain": "",
            "referrer_current": "",
            "referring_domain_current": "",
            "release_channel": "stable",
            "client_build_number": self.client_build_number,
            "client_event_source": None,
        }


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    identity: ClientIdentity
    gateway_url: str = GATEWAY_URL
    zlib_stream: bool = False  # transport compression (?compress=zlib-stream); see mjapi.discord.zlib_stream
    backoff_base: float = 1.0  # seconds; delay before reconnect n is base * 2**(n-1), capped, with 50-100% jitter
    backoff_cap: float = 60.0
    max_failures: int | None = None  # consecutive failures before Fatal("too_many_failures"); None = never
    invalid_session_wait: tuple[float, float] = (1.0, 5.0)


# ---------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a websocket to ``url`` after ``delay`` seconds (closing any current one first)."""

    url: str
    delay: float
    resume: bool
    epoch: int


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``payload`` as JSON on the current socket. ``repr`` hides the payload (Identify/Resume hold the token)."""

    payload: dict[str, Any] = field(repr=False)

    @property
    def op(self) -> int | None:
        op = self.payload.get("op")
        return op if isinstance(op, int) else None

    def __repr__(self) -> str:
        return f"Send(op={self.op})"


@dataclass(frozen=True, slots=True)
class StartHeartbeat:
    """Heartbeat every ``interval`` s, the first after ``first_delay`` s: call ``on_heartbeat_timer`` each time."""

    interval: float
    first_delay: float


@dataclass(frozen=True, slots=True)
class StopHeartbeat:
    pass


@dataclass(frozen=True, slots=True)
class Close:
    """Close the current socket with ``code`` (4000 keeps the session resumable; 1000 ends it)."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A dispatch (op 0) for the caller; ``replayed`` is True for events replayed during a resume."""

    t: str
    s: int | None
    d: Any
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class SessionReady:
    """READY: publish ``session_id`` (the API's interactions need it)."""

    session_id: str
    resume_gateway_url: str | None
    user_id: str | None


@dataclass(frozen=True, slots=True)
class SessionResumed:
    session_id: str


@dataclass(frozen=True, slots=True)
class Fatal:
    """Stop for good: ``reason`` such as ``bad_token`` (mark the account and never retry it)."""

    reason: str
    close_code: int | None


Action = Connect | Send | StartHeartbeat | StopHeartbeat | Close | Dispatch | SessionReady | SessionResumed | Fatal


class State(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"  # Connect emitted, socket not open yet
    AWAITING_HELLO = "awaiting_hello"
    IDENTIFYING = "identifying"
    RESUMING = "resuming"
    CONNECTED = "connected"  # READY or RESUMED received
    STOPPED = "stopped"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What must survive a process restart to resume instead of re-identifying."""

    session_id: str
    seq: int | None
    resume_gateway_url: str | None


# ---------------------------------------------------------------- the machine


class GatewaySession:
    """One account's gateway session. Not thread-safe; drive it from one task."""

    def __init__(
        self, config: GatewayConfig, rng: RandomSource | None = None, resume: ResumeState | None = None
    ) -> None:
        self.config = config
        self._rng: RandomSource = rng if rng is not None else random.Random()
        self.state = State.IDLE
        self.epoch = 0
        self.failures = 0  # consecutive, reset by READY/RESUMED
        self.fatal_reason: str | None = None
        self.heartbeat_interval: float | None = None
        self.next_heartbeat_at: float | None = None
        self.last_heartbeat_sent_at: float | None = None
        self.latency: float | None = None
        self.duplicates_dropped = 0
        self.user_id: str | None = None
        self._session_id = resume.session_id if resume else None
        self._seq = resume.seq if resume else None
        self._resume_url = resume.resume_gateway_url if resume else None
        self._awaiting_ack = False
        self._want_resume = resume is not None
        self._closing_previous = False  # we closed the socket ourselves: its close report is expected

    # -- what the relay reads

    @property
    def session_id(self) -> str | None:
        """The session id from READY (kept across resumes); ``None`` before READY and after invalidation."""
        return self._session_id

    @property
    def seq(self) -> int | None:
        return self._seq

    @property
    def resume_gateway_url(self) -> str | None:
        return self._resume_url

    @property
    def resume_state(self) -> ResumeState | None:
        """Persist this to resume after a restart (``None`` when there is no resumable session)."""
        if self._session_id is None:
            return None
        return ResumeState(session_id=self._session_id, seq=self._seq, resume_gateway_url=self._resume_url)

    # -- payloads

    def identify_payload(self) -> dict[str, Any]:
        identity = self.config.identity
        return {
            "op": Op.IDENTIFY.value,
            "d": {
                "token": identity.token,
                "capabilities": identity.capabilities,
                "properties": identity.properties(),
                "presence": {"status": "online", "since": 0, "activities": [], "afk": False},
                "compress": False,
                "client_state": {
                    "guild_versions": {},
                    "highest_last_message_id": "0",
                    "read_state_version": 0,
                    "user_guild_settings_version": -1,
                    "user_settings_version": -1,
                    "private_channels_version": "0",
                    "api_code_version": 0,
                },
            },
        }

    def resume_payload(self) -> dict[str, Any]:
        return {
            "op": Op.RESUME.value,
            "d": {"token": self.config.identity.token, "session_id": self._session_id, "seq": self._seq},
        }

    def heartbeat_payload(self) -> dict[str, Any]:
        return {"op": Op.HEARTBEAT.value, "d": self._seq}

    # -- inputs

    def start(self, now: float) -> list[Action]:
        """First connection (resuming if constructed with a :class:`ResumeState`)."""
        if self.state is not State.IDLE:
            return []
        return [self._connect(delay=0.0, resume=self._want_resume)]

    def stop(self, *, keep_session: bool = False) -> list[Action]:
        """Shut down. ``keep_session`` closes with 4000 so :attr:`resume_state` can resume later; else 1000."""
        if self.state in (State.STOPPED, State.FATAL):
            return []
        self.state = State.STOPPED
        self.next_heartbeat_at = None
        code = RESUMABLE_CLOSE if keep_session else 1000
        return [StopHeartbeat(), Close(code=code, reason="client shutdown")]

    def on_open(self, now: float, *, epoch: int | None = None) -> list[Action]:
        if self._stale(epoch) or self.state is not State.CONNECTING:
            return []
        self.state = State.AWAITING_HELLO
        self._closing_previous = False
        return []

    def on_frame(self, frame: object, now: float, *, epoch: int | None = None) -> list[Action]:
        """A decoded gateway payload. Malformed frames are ignored."""
        if self._stale(epoch) or self.state in (State.IDLE, State.CONNECTING, State.STOPPED, State.FATAL):
            return []
        if not isinstance(frame, Mapping):
            return []
        op = frame.get("op")
        if not isinstance(op, int) or isinstance(op, bool):
            return []
        if op == Op.DISPATCH:
            return self._on_dispatch(frame)
        if op == Op.HELLO:
            return self._on_hello(frame.get("d"), now)
        if op == Op.HEARTBEAT_ACK:
            self._awaiting_ack = False
            if self.last_heartbeat_sent_at is not None:
                self.latency = max(0.0, now - self.last_heartbeat_sent_at)
            return []
        if op == Op.HEARTBEAT:
            return [self._beat(now)]
        if op == Op.RECONNECT:
            return [StopHeartbeat(), Close(RESUMABLE_CLOSE, "server requested reconnect"), self._reconnect(0.0, True)]
        if op == Op.INVALID_SESSION:
            return self._on_invalid_session(frame.get("d") is True)
        return []

    def on_heartbeat_timer(self, now: float) -> list[Action]:
        """Heartbeat due. If the previous one was never ACKed the connection is a zombie: reconnect and resume."""
        if self.state not in (State.IDENTIFYING, State.RESUMING, State.CONNECTED) or self.heartbeat_interval is None:
            return []
        if self._awaiting_ack:
            self.failures += 1
            if (fatal := self._too_many_failures(None)) is not None:
                return fatal
            close = Close(RESUMABLE_CLOSE, "heartbeat not acknowledged")
            return [StopHeartbeat(), close, self._reconnect(self._backoff(), closing=True)]
        self.next_heartbeat_at = now + self.heartbeat_interval
        return [self._beat(now)]

    def on_close(self, code: int | None, now: float, *, epoch: int | None = None) -> list[Action]:
        """The socket closed (``code`` None when it failed to open or dropped without a close frame)."""
        if self._stale(epoch) or self.state in (State.IDLE, State.STOPPED, State.FATAL):
            return []
        if self.state is State.CONNECTING and epoch is None and self._closing_previous:
            self._closing_previous = False  # the report of the socket we closed ourselves
            return []
        if code is not None and code in FATAL_CLOSE_CODES:
            return self._fatal(FATAL_CLOSE_CODES[code], code)
        if code is not None and code in NEW_SESSION_CLOSE_CODES:
            self._forget_session()
        self.failures += 1
        if code is None and self.state is State.CONNECTING and self._want_resume:
            self._give_up_resuming_after_failures()
        if (fatal := self._too_many_failures(code)) is not None:
            return fatal
        return [StopHeartbeat(), self._reconnect(self._backoff(), closing=False)]

    # -- internals

    def _stale(self, epoch: int | None) -> bool:
        return epoch is not None and epoch != self.epoch

    def _connect(self, delay: float, resume: bool) -> Connect:
        self.epoch += 1
        self.state = State.CONNECTING
        self._awaiting_ack = False
        self.heartbeat_interval = None
        self.next_heartbeat_at = None
        self._want_resume = resume and self._session_id is not None
        base = self._resume_url if self._want_resume and self._resume_url else self.config.gateway_url
        query = f"/?encoding=json&v={API_VERSION}" + ("&compress=zlib-stream" if self.config.zlib_stream else "")
        return Connect(url=base.rstrip("/") + query, delay=delay, resume=self._want_resume, epoch=self.epoch)

    def _reconnect(self, delay: float, closing: bool) -> Connect:
        """Connect again; ``closing`` when we are closing the current socket ourselves (its close is expected)."""
        self._closing_previous = closing
        return self._connect(delay=delay, resume=self._session_id is not None)

    def _backoff(self) -> float:
        attempt = max(1, self.failures)
        ceiling = min(self.config.backoff_cap, self.config.backoff_base * 2.0 ** min(attempt - 1, 30))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    def _too_many_failures(self, code: int | None) -> list[Action] | None:
        limit = self.config.max_failures
        if limit is not None and self.failures > limit:
            return self._fatal("too_many_failures", code)
        return None

    def _fatal(self, reason: str, code: int | None) -> list[Action]:
        self.state = State.FATAL
        self.fatal_reason = reason
        self.next_heartbeat_at = None
        return [StopHeartbeat(), Fatal(reason=reason, close_code=code)]

    def _give_up_resuming_after_failures(self) -> None:
        """A resume that cannot even connect (a saved ``resume_gateway_url`` that no longer answers, e.g. after a
        restart): after a few tries resume through the main gateway URL, after a few more start a new session."""
        if self.failures >= RESUME_URL_ATTEMPTS:
            self._resume_url = None
        if self.failures >= 2 * RESUME_URL_ATTEMPTS:
            self._forget_session()

    def _forget_session(self) -> None:
        self._session_id = None
        self._seq = None
        self._resume_url = None

    def _beat(self, now: float) -> Send:
        self._awaiting_ack = True
        self.last_heartbeat_sent_at = now
        return Send(self.heartbeat_payload())

    def _on_hello(self, data: object, now: float) -> list[Action]:
        if self.state is not State.AWAITING_HELLO:
            return []
        raw = data.get("heartbeat_interval") if isinstance(data, Mapping) else None
        interval = DEFAULT_HEARTBEAT_INTERVAL
        if isinstance(raw, int | float) and not isinstance(raw, bool) and 0 < raw < 3_600_000:
            interval = float(raw) / 1000
        first_delay = interval * self._rng.random()
        self.heartbeat_interval = interval
        self.next_heartbeat_at = now + first_delay
        self._awaiting_ack = False
        actions: list[Action] = [StartHeartbeat(interval=interval, first_delay=first_delay)]
        if self._want_resume and self._session_id is not None:
            self.state = State.RESUMING
            actions.append(Send(self.resume_payload()))
        else:
            self._forget_session()
            self.state = State.IDENTIFYING
            actions.append(Send(self.identify_payload()))
        return actions

    def _on_invalid_session(self, resumable: bool) -> list[Action]:
        if not resumable:
            self._forget_session()
        self.failures += 1
        if (fatal := self._too_many_failures(None)) is not None:
            return fatal
        low, high = self.config.invalid_session_wait
        wait = max(low + (high - low) * self._rng.random(), self._backoff() if self.failures > 1 else 0.0)
        code = RESUMABLE_CLOSE if resumable else 1000
        return [StopHeartbeat(), Close(code, "invalid session"), self._reconnect(wait, closing=True)]

    def _on_dispatch(self, frame: Mapping[str, Any]) -> list[Action]:
        t = frame.get("t")
        s = frame.get("s")
        seq = s if isinstance(s, int) and not isinstance(s, bool) else None
        if not isinstance(t, str):
            return []
        if seq is not None and self._seq is not None and seq <= self._seq:
            self.duplicates_dropped += 1
            return []
        if seq is not None:
            self._seq = seq
        data = frame.get("d")
        replayed = self.state is State.RESUMING and t != "RESUMED"
        event = Dispatch(t=t, s=seq, d=data, replayed=replayed)
        if t == "READY":
            ready = data if isinstance(data, Mapping) else {}
            session_id = ready.get("session_id")
            if not isinstance(session_id, str) or not session_id:
                return [event]
            resume_url = ready.get("resume_gateway_url")
            user = ready.get("user")
            user_id = user.get("id") if isinstance(user, Mapping) else None
            self._session_id = session_id
            self._resume_url = resume_url if isinstance(resume_url, str) and resume_url else None
            self.user_id = user_id if isinstance(user_id, str) else None
            self.state = State.CONNECTED
            self.failures = 0
            return [SessionReady(session_id, self._resume_url, self.user_id), event]
        if t == "RESUMED" and self._session_id is not None:
            self.state = State.CONNECTED
            self.failures = 0
            return [SessionResumed(self._session_id), event]
        return [event]
