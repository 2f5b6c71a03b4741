"""zlib-stream transport: one compressor per connection on the sending side, one inflater on ours."""

from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mjapi.discord.zlib_stream import ZLIB_SUFFIX, ZlibStreamError, ZlibStreamInflater, decode_frame


class Sender:
    """What Discord does: one deflate stream for the connection, a sync flush after every message."""

    def __init__(self) -> None:
        self.compressor = zlib.compressobj()

    def message(self, payload: object) -> bytes:
        data = self.compressor.compress(json.dumps(payload).encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(ZLIB_SUFFIX)
        return data


def test_messages_across_split_frames_share_one_context() -> None:
    sender, inflater = Sender(), ZlibStreamInflater()
    first = sender.message({"op": 10, "d": {"heartbeat_interval": 41250}})
    assert inflater.feed(first[:5]) is None and inflater.pending == 5
    assert inflater.feed(first[5:-2]) is None
    assert json.loads(inflater.feed(first[-2:]) or "") == {"op": 10, "d": {"heartbeat_interval": 41250}}
    assert inflater.pending == 0
    # the second message refers back to the first one's dictionary: a fresh inflater could not read it
    second = sender.message({"op": 10, "d": {"heartbeat_interval": 41250}, "t": None})
    assert json.loads(inflater.feed(second) or "")["t"] is None
    with pytest.raises(ZlibStreamError):
        ZlibStreamInflater().feed(second)


def test_reset_for_a_new_connection() -> None:
    inflater = ZlibStreamInflater()
    inflater.feed(Sender().message({"a": 1}))
    inflater.feed(b"\x78\x9c partial")
    inflater.reset()
    assert inflater.pending == 0
    assert inflater.feed(Sender().message({"b": 2})) == '{"b": 2}'


def test_corrupt_and_oversized_input() -> None:
    with pytest.raises(ZlibStreamError, match="corrupt"):
        ZlibStreamInflater().feed(b"not zlib at all" + ZLIB_SUFFIX)
    small = ZlibStreamInflater(max_buffer=16)
    with pytest.raises(ZlibStreamError, match="buffer"):
        small.feed(b"x" * 17)
    assert small.pending == 0
    bomb = ZlibStreamInflater(max_message=100)
    with pytest.raises(ZlibStreamError, match="larger"):
        bomb.feed(Sender().message("a" * 10_000))
    not_utf8 = zlib.compressobj()
    data = not_utf8.compress(b"\xff\xfe") + not_utf8.flush(zlib.Z_SYNC_FLUSH)
    with pytest.raises(ZlibStreamError, match="UTF-8"):
        ZlibStreamInflater().feed(data)


def test_decode_frame() -> None:
    assert decode_frame('{"op":11}', None) == '{"op":11}'
    assert decode_frame(b'{"op":11}', None) == '{"op":11}'
    with pytest.raises(ZlibStreamError):
        decode_frame(b"\xff", None)
    inflater = ZlibStreamInflater()
    assert decode_frame(Sender().message({"op": 11}), inflater) == '{"op": 11}'


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=30), max_size=6), min_size=1, max_size=8
    ),
    st.integers(1, 64),
)
def test_any_chunking_round_trips(payloads: list[dict[str, object]], chunk: int) -> None:
    sender, inflater = Sender(), ZlibStreamInflater()
    out: list[object] = []
    for payload in payloads:
        data = sender.message(payload)
        for start in range(0, len(data), chunk):
            text = inflater.feed(data[start : start + chunk])
            if text is not None:
                out.append(json.loads(text))
    assert out == payloads
