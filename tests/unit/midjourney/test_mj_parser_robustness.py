"""The parser is total: arbitrary JSON, mangled fixtures and odd content give an event, never an exception.

The parser has a last-resort ``except`` that turns a crash into ``Unrecognized("parser_error:...")``; these tests
also assert that net is never needed, so a real bug cannot hide behind it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mjapi.midjourney import parse_dispatch, parse_message, parse_payload
from mjapi.midjourney.models import EVENT_ADAPTER, Event, Unrecognized
from mjapi.midjourney.parser import HANDLED_DISPATCHES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dispatches"
FRAMES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]
DISPATCH_TYPES = [
    *sorted(HANDLED_DISPATCHES),
    "READY",
    "TYPING_START",
]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
MESSAGE_KEYS = [
    "id",
    "channel_id",
    "guild_id",
    "author",
    "content",
    "nonce",
    "flags",
    "embeds",
    "components",
    "attachments",
    "interaction",
    "interaction_metadata",
    "message_reference",
    "referenced_message",
    "application_id",
    "webhook_id",
]
message_like = st.dictionaries(st.sampled_from(MESSAGE_KEYS), json_values, max_size=10)
contents = st.builds(
    lambda a, b, c, d: f"{a}**{b}** - {c}<@936929561302675456> ({d}) ({a})",
    st.text(max_size=20),
    st.text(max_size=30),
    st.sampled_from(["", "Variations (Strong) by ", "Upscaled (", "Image #9 ", "Pan Up by ", "Zoom Out by "]),
    st.text(max_size=10),
)


def _check(event: Event) -> None:
    if isinstance(event, Unrecognized):
        assert not event.reason.startswith("parser_error"), event.reason
    EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(event))


@settings(max_examples=200, deadline=None)
@given(payload=json_values)
def test_arbitrary_json_never_raises(payload: Any) -> None:
    _check(parse_payload(payload))
    _check(parse_message(payload))


@settings(max_examples=200, deadline=None)
@given(t=st.sampled_from(DISPATCH_TYPES) | st.text(max_size=10) | json_scalars, d=json_values | message_like)
def test_arbitrary_dispatch_never_raises(t: Any, d: Any) -> None:
    _check(parse_dispatch(t, d))


@settings(max_examples=200, deadline=None)
@given(message=message_like, content=contents, author_is_bot=st.booleans())
def test_message_shaped_input_never_raises(message: dict[str, Any], content: str, author_is_bot: bool) -> None:
    message = dict(message, content=content)
    if author_is_bot:
        message["author"] = {"id": "936929561302675456", "bot": True}
    _check(parse_message(message, source="MESSAGE_UPDATE"))


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            found += _paths(value, (*prefix, index))
    return found


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_fixtures_never_raise(data: st.DataObject) -> None:
    """Drop or replace random fields of real dispatches (Discord format drift)."""
    frame = copy.deepcopy(data.draw(st.sampled_from(FRAMES)))
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(frame["d"])
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = frame["d"]
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(json_values)
    _check(parse_dispatch(frame["t"], frame["d"]))
