"""Random query strings and bodies against every route: the API answers 2xx/4xx with JSON, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mjapi.store.table import Table
from tests.support.apigw import ApiClient, unreachable_discord_handler

ADMIN = "admin-key-for-fuzzing-0123456789"
GET_ROUTES = [
    "/midjourney/imagine",
    "/midjourney/job",
    "/midjourney/progress",
    "/midjourney/descjob",
    "/midjourney/history",
    "/midjourney/action",
    "/midjourney/create_token",
    "/midjourney/switch",
    "/midjourney/get_devices",
    "/midjourney/get_queue",
    "/admin/accounts",
]
POST_ROUTES = [
    "/midjourney/imagine",
    "/midjourney/action",
    "/midjourney/describe_link",
    "/midjourney/describe",
    "/admin/accounts/x1/enable",
]
PARAMS = [
    "prompt",
    "id",
    "token",
    "mode",
    "bot",
    "upscale",
    "image",
    "action",
    "job",
    "count",
    "days",
    "day",
    "type",
    "client_id",
    "account",
    "limit",
    "cursor",
    "label",
]
values = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(["", "0", "-1", "true", "fast", "relax", "info", "mj", "niji", "999#1", "%00", "🔥" * 10]),
)


@pytest.fixture
def api(table: Table, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    return ApiClient(unreachable_discord_handler(table, monkeypatch, ADMIN))


def _check(resp: Any) -> None:
    assert resp.status < 500, resp.text
    assert isinstance(resp.json(), dict | list)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(GET_ROUTES),
    query=st.dictionaries(st.sampled_from(PARAMS), values, max_size=5),
    admin=st.booleans(),
)
def test_get_routes_never_500(api: ApiClient, route: str, query: dict[str, str], admin: bool) -> None:
    headers = {"x-admin-key": ADMIN} if admin else {}
    _check(api.get(route, query=query, headers=headers))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(PARAMS), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(POST_ROUTES), body=json_values, raw=st.binary(max_size=64), use_raw=st.booleans())
def test_post_routes_never_500(api: ApiClient, route: str, body: Any, raw: bytes, use_raw: bool) -> None:
    headers = {"x-admin-key": ADMIN}
    if use_raw:
        resp = api.post(route, raw_body=raw, content_type="application/json", headers=headers)
    else:
        resp = api.post(route, json_body=body, headers=headers)
    _check(resp)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(GET_ROUTES), query=st.dictionaries(st.sampled_from(PARAMS), values, max_size=5))
def test_get_routes_with_a_valid_token_never_500(api: ApiClient, route: str, query: dict[str, str]) -> None:
    token = api.get("/midjourney/create_token", query={"count": 5}, headers={"x-admin-key": ADMIN}).json()["token"]
    _check(api.get(route, query={**query, "token": token}))


@pytest.mark.parametrize("cursor", ["garbage", "#", "999#1", "0" * 15 + "#abc", "1" * 15 + "#"])
def test_history_with_a_malformed_cursor_is_400(api: ApiClient, cursor: str) -> None:
    token = api.get("/midjourney/create_token", query={"count": 5}, headers={"x-admin-key": ADMIN}).json()["token"]
    resp = api.get("/midjourney/history", query={"token": token, "cursor": cursor})
    assert resp.status == 400, resp.text
    assert resp.json()["code"] == "invalid_cursor"
