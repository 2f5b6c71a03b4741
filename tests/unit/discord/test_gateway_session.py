"""Gateway state machine driven through whole scenarios, without sockets or clocks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mjapi.discord.gateway import (
    FATAL_CLOSE_CODES,
    ClientIdentity,
    Close,
    Connect,
    Dispatch,
    Fatal,
    GatewayConfig,
    GatewaySession,
    ResumeState,
    Send,
    SessionReady,
    SessionResumed,
    StartHeartbeat,
    State,
    StopHeartbeat,
)

TOKEN = "mfa.user-token-never-logged"
RESUME_URL = "wss://gateway-us-east1-b.discord.gg"
GATEWAY = "wss://gateway.discord.gg/?encoding=json&v=9"


class ScriptedRng:
    """``random()`` returns the scripted values in turn, then repeats the last one."""

    def __init__(self, *values: float) -> None:
        self.values = list(values) or [0.5]

    def random(self) -> float:
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


def make(rng: ScriptedRng | None = None, **config: Any) -> GatewaySession:
    return GatewaySession(GatewayConfig(identity=ClientIdentity(token=TOKEN), **config), rng=rng or ScriptedRng(0.5))


def hello(interval_ms: int = 41250) -> dict[str, Any]:
    return {"op": 10, "d": {"heartbeat_interval": interval_ms}}


def dispatch(t: str, s: int, d: Any = None) -> dict[str, Any]:
    return {"op": 0, "t": t, "s": s, "d": d if d is not None else {}}


def ready(s: int = 1, session_id: str = "sess-1") -> dict[str, Any]:
    return dispatch("READY", s, {"session_id": session_id, "resume_gateway_url": RESUME_URL, "user": {"id": "42"}})


def only(actions: list[Any], kind: type) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]


def connect_ready(session: GatewaySession, now: float = 0.0) -> None:
    [conn] = session.start(now)
    session.on_open(now, epoch=conn.epoch)
    session.on_frame(hello(), now, epoch=conn.epoch)
    session.on_frame(ready(), now, epoch=conn.epoch)
    assert session.state is State.CONNECTED


def test_full_scenario() -> None:
    """hello -> identify -> ready -> heartbeats -> missing ack -> resume -> replay dedupe -> op 7 -> op 9 -> 4004."""
    s = make(ScriptedRng(0.25))
    # connect and identify
    assert s.start(0.0) == [Connect(url=GATEWAY, delay=0.0, resume=False, epoch=1)]
    assert s.on_open(0.1, epoch=1) == []
    actions = s.on_frame(hello(), 0.2, epoch=1)
    assert actions[0] == StartHeartbeat(interval=41.25, first_delay=41.25 * 0.25)
    assert s.next_heartbeat_at == pytest.approx(0.2 + 41.25 * 0.25)
    identify = actions[1]
    assert isinstance(identify, Send) and identify.payload["op"] == 2
    d = identify.payload["d"]
    assert d["token"] == TOKEN and d["capabilities"] == 16381 and d["compress"] is False
    assert "intents" not in d
    assert d["properties"]["browser"] == "Chrome" and d["properties"]["os"] == "Windows"
    assert "Mozilla/5.0" in d["properties"]["browser_user_agent"]
    assert d["presence"]["status"] == "online" and d["client_state"]["highest_last_message_id"] == "0"
    assert s.state is State.IDENTIFYING and s.session_id is None
    # READY
    actions = s.on_frame(ready(1), 0.5, epoch=1)
    assert actions[0] == SessionReady(session_id="sess-1", resume_gateway_url=RESUME_URL, user_id="42")
    assert isinstance(actions[1], Dispatch) and actions[1].t == "READY"
    assert (s.session_id, s.seq, s.user_id, s.state) == ("sess-1", 1, "42", State.CONNECTED)
    assert s.on_frame(dispatch("MESSAGE_CREATE", 2, {"id": "m1"}), 1.0) == [
        Dispatch(t="MESSAGE_CREATE", s=2, d={"id": "m1"}, replayed=False)
    ]
    # heartbeats with ACK
    beat = s.on_heartbeat_timer(10.5)
    assert [a.payload for a in beat if isinstance(a, Send)] == [{"op": 1, "d": 2}]
    assert s.next_heartbeat_at == pytest.approx(10.5 + 41.25)
    assert s.on_frame({"op": 11}, 10.6) == []
    assert s.latency == pytest.approx(0.1)
    # a beat that is never acknowledged -> zombie -> close 4000 and resume on the resume URL
    assert isinstance(s.on_heartbeat_timer(51.75)[0], Send)
    zombie = s.on_heartbeat_timer(93.0)
    assert zombie[0] == StopHeartbeat()
    assert zombie[1] == Close(code=4000, reason="heartbeat not acknowledged")
    reconnect = zombie[2]
    assert isinstance(reconnect, Connect) and reconnect.resume and reconnect.epoch == 2
    assert reconnect.url == RESUME_URL + "/?encoding=json&v=9"
    assert 0.5 <= reconnect.delay <= 1.0
    assert s.on_close(1006, 93.1, epoch=1) == []  # the zombie socket's own close is stale
    # resume and the replay
    s.on_open(94.0, epoch=2)
    actions = s.on_frame(hello(), 94.1, epoch=2)
    resume = only(actions, Send)[0]
    assert resume.payload == {"op": 6, "d": {"token": TOKEN, "session_id": "sess-1", "seq": 2}}
    assert s.state is State.RESUMING
    assert s.on_frame(dispatch("MESSAGE_CREATE", 2, {"id": "m1"}), 94.2, epoch=2) == []  # replayed twice: dropped
    assert s.duplicates_dropped == 1
    replayed = s.on_frame(dispatch("MESSAGE_UPDATE", 3, {"id": "m1"}), 94.3, epoch=2)
    assert replayed == [Dispatch(t="MESSAGE_UPDATE", s=3, d={"id": "m1"}, replayed=True)]
    resumed = s.on_frame(dispatch("RESUMED", 4), 94.4, epoch=2)
    assert resumed[0] == SessionResumed(session_id="sess-1") and s.state is State.CONNECTED
    assert s.failures == 0
    # op 7: reconnect and resume at once
    op7 = s.on_frame({"op": 7, "d": None}, 100.0, epoch=2)
    assert op7[:2] == [StopHeartbeat(), Close(code=4000, reason="server requested reconnect")]
    assert op7[2] == Connect(url=RESUME_URL + "/?encoding=json&v=9", delay=0.0, resume=True, epoch=3)
    s.on_open(100.1, epoch=3)
    assert only(s.on_frame(hello(), 100.2, epoch=3), Send)[0].payload["op"] == 6
    s.on_frame(dispatch("RESUMED", 5), 100.3, epoch=3)
    # op 9 (not resumable): wait 1-5 s, new session
    op9 = s.on_frame({"op": 9, "d": False}, 110.0, epoch=3)
    assert op9[:2] == [StopHeartbeat(), Close(code=1000, reason="invalid session")]
    fresh = op9[2]
    assert isinstance(fresh, Connect) and not fresh.resume and fresh.url == GATEWAY
    assert 1.0 <= fresh.delay <= 5.0
    assert (s.session_id, s.seq) == (None, None)
    s.on_open(113.0, epoch=4)
    assert only(s.on_frame(hello(), 113.1, epoch=4), Send)[0].payload["op"] == 2
    new_ready = s.on_frame(ready(1, "sess-2"), 113.2, epoch=4)  # seq restarts at 1 in a new session
    assert isinstance(new_ready[0], SessionReady) and s.session_id == "sess-2" and s.seq == 1
    # 4004: bad token, never retried
    assert s.on_close(4004, 120.0, epoch=4) == [StopHeartbeat(), Fatal(reason="bad_token", close_code=4004)]
    assert s.state is State.FATAL and s.fatal_reason == "bad_token"
    assert s.on_frame(hello(), 121.0) == [] and s.on_heartbeat_timer(122.0) == [] and s.on_close(1006, 123.0) == []
    assert s.start(124.0) == []


@pytest.mark.parametrize(("code", "reason"), sorted(FATAL_CLOSE_CODES.items()))
def test_fatal_close_codes(code: int, reason: str) -> None:
    s = make()
    connect_ready(s)
    assert s.on_close(code, 5.0) == [StopHeartbeat(), Fatal(reason=reason, close_code=code)]


@pytest.mark.parametrize("code", [4007, 4009])
def test_close_codes_that_need_a_new_session(code: int) -> None:
    s = make()
    connect_ready(s)
    actions = s.on_close(code, 5.0)
    [conn] = only(actions, Connect)
    assert not conn.resume and conn.url == GATEWAY and s.session_id is None


@pytest.mark.parametrize("code", [None, 1000, 1001, 1006, 1011, 4000, 4001, 4002, 4003, 4005, 4008])
def test_other_close_codes_resume(code: int | None) -> None:
    s = make()
    connect_ready(s)
    actions = s.on_close(code, 5.0)
    assert actions[0] == StopHeartbeat()
    [conn] = only(actions, Connect)
    assert conn.resume and conn.url.startswith(RESUME_URL) and s.session_id == "sess-1"


def test_close_before_any_session_reidentifies() -> None:
    s = make()
    [conn] = s.start(0.0)
    actions = s.on_close(None, 1.0, epoch=conn.epoch)  # could not even connect
    [again] = only(actions, Connect)
    assert not again.resume and again.url == GATEWAY and again.epoch == conn.epoch + 1


def test_backoff_grows_with_jitter_and_resets_on_ready() -> None:
    s = make(ScriptedRng(1.0), backoff_base=1.0, backoff_cap=10.0)
    [conn] = s.start(0.0)
    delays = []
    for attempt in range(6):
        [again] = only(s.on_close(1006, float(attempt), epoch=conn.epoch), Connect)
        delays.append(again.delay)
        conn = again
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    low = make(ScriptedRng(0.0), backoff_base=1.0)
    low.start(0.0)
    assert only(low.on_close(1006, 0.0), Connect)[0].delay == 0.5  # 50 % jitter floor
    # a successful READY resets the count
    s.on_open(10.0, epoch=conn.epoch)
    s.on_frame(hello(), 10.0, epoch=conn.epoch)
    s.on_frame(ready(), 10.0, epoch=conn.epoch)
    assert s.failures == 0
    assert only(s.on_close(1006, 11.0), Connect)[0].delay == 1.0


def test_max_failures_becomes_fatal() -> None:
    s = make(max_failures=2)
    s.start(0.0)
    assert only(s.on_close(1006, 1.0), Connect)
    assert only(s.on_close(1006, 2.0), Connect)
    assert s.on_close(1006, 3.0)[-1] == Fatal(reason="too_many_failures", close_code=1006)


def test_invalid_session_resumable_and_repeated_backoff() -> None:
    s = make(ScriptedRng(0.0))
    connect_ready(s)
    actions = s.on_frame({"op": 9, "d": True}, 5.0)
    assert actions[1] == Close(code=4000, reason="invalid session")
    [conn] = only(actions, Connect)
    assert conn.resume and conn.delay == 1.0 and s.session_id == "sess-1"
    s.on_open(6.0, epoch=conn.epoch)
    s.on_frame(hello(), 6.0, epoch=conn.epoch)
    for _ in range(5):  # identify keeps being refused: the wait grows beyond 5 s
        actions = s.on_frame({"op": 9, "d": False}, 7.0)
        [conn] = only(actions, Connect)
        s.on_open(8.0, epoch=conn.epoch)
        s.on_frame(hello(), 8.0, epoch=conn.epoch)
    assert conn.delay >= 5.0


def test_server_heartbeat_request_is_answered_at_once() -> None:
    s = make()
    connect_ready(s)
    s.on_frame(dispatch("X", 7), 1.0)
    assert [a.payload for a in s.on_frame({"op": 1, "d": None}, 2.0) if isinstance(a, Send)] == [{"op": 1, "d": 7}]


def test_malformed_and_stale_input_is_ignored() -> None:
    s = make()
    [conn] = s.start(0.0)
    assert s.on_frame(hello(), 0.0) == []  # not open yet
    s.on_open(0.0, epoch=conn.epoch)
    for junk in (None, [], "text", {"op": "10"}, {"op": True, "d": None}, {"nop": 1}, {"op": 99}):
        assert s.on_frame(junk, 0.1) == []
    actions = s.on_frame({"op": 10, "d": {"heartbeat_interval": "fast"}}, 0.2)
    assert actions[0] == StartHeartbeat(interval=41.25, first_delay=41.25 * 0.5)
    assert s.on_frame(hello(), 0.3) == []  # a second hello changes nothing
    assert s.on_frame(ready(), 0.4, epoch=conn.epoch + 5) == []  # other connection
    assert s.on_frame({"op": 0, "t": None, "s": 1, "d": {}}, 0.5) == []
    no_session = s.on_frame(dispatch("READY", 1, {"user": {}}), 0.6)
    assert only(no_session, SessionReady) == [] and s.state is State.IDENTIFYING
    assert s.on_frame({"op": 0, "t": "TYPING_START", "s": None, "d": {}}, 0.7)[0] == Dispatch(
        t="TYPING_START", s=None, d={}
    )


def test_heartbeat_timer_outside_a_connection_does_nothing() -> None:
    s = make()
    assert s.on_heartbeat_timer(0.0) == []
    [conn] = s.start(0.0)
    assert s.on_heartbeat_timer(1.0) == []
    s.on_open(1.0, epoch=conn.epoch)
    assert s.on_heartbeat_timer(2.0) == []


def test_expected_close_without_epoch_is_swallowed_once() -> None:
    s = make()
    connect_ready(s)
    s.on_frame({"op": 7}, 1.0)  # we close the socket ourselves
    assert s.on_close(4000, 1.1) == []  # its close report
    failed = s.on_close(1006, 1.2)  # the new connection then fails to open
    assert only(failed, Connect) and s.failures == 1


def test_resume_after_process_restart() -> None:
    saved = ResumeState(session_id="sess-9", seq=41, resume_gateway_url=RESUME_URL)
    s = GatewaySession(GatewayConfig(identity=ClientIdentity(token=TOKEN), zlib_stream=True), ScriptedRng(), saved)
    [conn] = s.start(0.0)
    assert conn.resume and conn.url == RESUME_URL + "/?encoding=json&v=9&compress=zlib-stream"
    s.on_open(0.1, epoch=conn.epoch)
    payload = only(s.on_frame(hello(), 0.2), Send)[0].payload
    assert payload == {"op": 6, "d": {"token": TOKEN, "session_id": "sess-9", "seq": 41}}
    s.on_frame(dispatch("RESUMED", 42), 0.3)
    assert s.resume_state == ResumeState(session_id="sess-9", seq=42, resume_gateway_url=RESUME_URL)
    assert make().resume_state is None


def test_stop() -> None:
    s = make()
    connect_ready(s)
    assert s.stop() == [StopHeartbeat(), Close(code=1000, reason="client shutdown")]
    assert s.stop() == [] and s.on_close(1000, 1.0) == []
    kept = make()
    connect_ready(kept)
    assert kept.stop(keep_session=True)[1].code == 4000


def test_token_never_in_reprs() -> None:
    s = make()
    [conn] = s.start(0.0)
    s.on_open(0.0, epoch=conn.epoch)
    actions = s.on_frame(hello(), 0.0)
    text = repr(actions) + repr(s.config) + repr(ClientIdentity(token=TOKEN))
    assert TOKEN not in text
    assert "Send(op=2)" in text


_inputs = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.none()),
        st.tuples(st.just("hello"), st.none()),
        st.tuples(st.just("ready"), st.integers(0, 5)),
        st.tuples(st.just("dispatch"), st.integers(-1, 8)),
        st.tuples(st.just("ack"), st.none()),
        st.tuples(st.just("timer"), st.none()),
        st.tuples(st.just("op"), st.sampled_from([1, 7, 9, 11, 42])),
        st.tuples(st.just("invalid"), st.booleans()),
        st.tuples(st.just("close"), st.sampled_from([None, 1000, 1006, 4000, 4004, 4007, 4009, 4014])),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_inputs)
def test_random_event_sequences_keep_invariants(steps: list[tuple[str, Any]]) -> None:
    s = make(ScriptedRng(0.3))
    s.start(0.0)
    now = 0.0
    for name, arg in steps:
        now += 1.0
        if name == "open":
            actions = s.on_open(now)
        elif name == "hello":
            actions = s.on_frame(hello(), now)
        elif name == "ready":
            actions = s.on_frame(ready(arg), now)
        elif name == "dispatch":
            actions = s.on_frame(dispatch("MESSAGE_CREATE", arg), now)
        elif name == "ack":
            actions = s.on_frame({"op": 11}, now)
        elif name == "timer":
            actions = s.on_heartbeat_timer(now)
        elif name == "op":
            actions = s.on_frame({"op": arg, "d": None}, now)
        elif name == "invalid":
            actions = s.on_frame({"op": 9, "d": arg}, now)
        else:
            actions = s.on_close(arg, now)
        assert len(only(actions, Connect)) <= 1
        assert len(only(actions, Fatal)) <= 1
        if only(actions, Fatal):
            assert s.state is State.FATAL
        for conn in only(actions, Connect):
            assert conn.epoch == s.epoch and conn.delay >= 0
            assert conn.resume == (s.session_id is not None)
        seqs = [a.s for a in only(actions, Dispatch) if a.s is not None]
        assert seqs == sorted(set(seqs))
        if s.state is State.FATAL:
            assert s.on_frame(hello(), now) == [] and s.on_close(1006, now) == []


def test_a_resume_url_that_never_answers_is_given_up() -> None:
    """A saved resume URL that no longer answers (a restart): resume through the main gateway, then identify anew."""
    saved = ResumeState(session_id="sess-9", seq=41, resume_gateway_url=RESUME_URL)
    s = GatewaySession(GatewayConfig(identity=ClientIdentity(token=TOKEN)), ScriptedRng(), saved)
    [conn] = s.start(0.0)
    urls = [conn.url]
    for n in range(7):
        [conn] = only(s.on_close(None, 1.0 + n, epoch=conn.epoch), Connect)
        urls.append(conn.url)
    assert urls[0].startswith(RESUME_URL) and urls[2].startswith(RESUME_URL)
    assert urls[3] == GATEWAY and conn.url == GATEWAY
    assert not conn.resume  # the session was dropped: the next HELLO identifies
    s.on_open(9.0, epoch=conn.epoch)
    assert only(s.on_frame(hello(), 9.1), Send)[0].payload["op"] == 2
