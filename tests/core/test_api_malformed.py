"""Malformed requests get a clear 4xx (400, 405, 413, 415) with ``{code, message}``, before or after auth."""

from __future__ import annotations

from typing import Any

import pytest

from mjapi.store.table import Table
from tests.support.apigw import ApiClient, multipart, unreachable_discord_handler

ADMIN = "admin-key-for-malformed-0123456789"


@pytest.fixture
def api(table: Table, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    return ApiClient(unreachable_discord_handler(table, monkeypatch, ADMIN))


@pytest.fixture
def token(api: ApiClient) -> str:
    return str(api.get("/midjourney/create_token", query={"count": 5}, headers={"x-admin-key": ADMIN}).json()["token"])


def _error(resp: Any, status: int, code: str) -> None:
    assert resp.status == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert body["message"]


@pytest.mark.parametrize("with_token", [False, True])
@pytest.mark.parametrize(
    ("content_type", "raw"),
    [("text/plain", b"prompt=a cat"), ("application/octet-stream", b"\x00\x01\x02"), ("application/xml", b"<a/>")],
)
def test_a_non_json_body_on_a_json_route_is_415(
    api: ApiClient, token: str, with_token: bool, content_type: str, raw: bytes
) -> None:
    query = {"token": token} if with_token else None
    _error(
        api.post("/midjourney/imagine", raw_body=raw, content_type=content_type, query=query),
        415,
        "unsupported_media_type",
    )


def test_multipart_without_a_boundary_is_400(api: ApiClient, token: str) -> None:
    resp = api.post(
        "/midjourney/describe", raw_body=b"--x\r\n", content_type="multipart/form-data", query={"token": token}
    )
    _error(resp, 400, "invalid_multipart")


def test_json_without_the_file_on_an_upload_route_is_400(api: ApiClient, token: str) -> None:
    resp = api.post("/midjourney/describe", json_body={"image": "x"}, query={"token": token})
    assert resp.status == 400, resp.text
    assert resp.json()["code"]


def test_multipart_on_a_json_route_is_415(api: ApiClient, token: str) -> None:
    body, ctype = multipart({"prompt": "a cat"}, {})
    resp = api.post("/midjourney/imagine", raw_body=body, content_type=ctype, query={"token": token})
    _error(resp, 415, "unsupported_media_type")


def test_json_nested_thousands_deep_is_400(api: ApiClient, token: str) -> None:
    deep = ("[" * 5000 + "]" * 5000).encode()
    _error(api.post("/midjourney/imagine", raw_body=deep, content_type="application/json"), 400, "invalid_json")
    deep_object = ('{"a":' * 3000 + "1" + "}" * 3000).encode()
    _error(
        api.post("/midjourney/imagine", raw_body=deep_object, content_type="application/json", query={"token": token}),
        400,
        "invalid_json",
    )


def test_broken_json_is_400(api: ApiClient) -> None:
    _error(
        api.post("/midjourney/imagine", raw_body=b'{"prompt": ', content_type="application/json"), 400, "invalid_json"
    )


def test_a_body_over_the_limit_is_413(api: ApiClient, token: str) -> None:
    body, ctype = multipart({}, {"image": ("big.png", b"\x89PNG" + b"0" * (7 * 1024 * 1024), "image/png")})
    _error(
        api.post("/midjourney/describe", raw_body=body, content_type=ctype, query={"token": token}),
        413,
        "body_too_large",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/midjourney/imagine"),
        ("PUT", "/midjourney/job"),
        ("POST", "/midjourney/job"),
        ("GET", "/midjourney/describe"),
    ],
)
def test_a_wrong_method_is_405_with_allow(api: ApiClient, method: str, path: str) -> None:
    resp = api.call(method, path)
    _error(resp, 405, "method_not_allowed")
    assert resp.headers.get("allow")


def test_an_unknown_path_is_still_404(api: ApiClient) -> None:
    _error(api.get("/midjourney/nope"), 404, "route_not_found")


@pytest.mark.parametrize(
    "raw",
    [b"--b\r\n", b"garbage", b'--b\r\nContent-Disposition: form-data; name="image"\r\n\r\nxx', b"--b--\r\n"],
)
def test_a_broken_multipart_body_is_4xx(api: ApiClient, token: str, raw: bytes) -> None:
    resp = api.post(
        "/midjourney/describe", raw_body=raw, content_type="multipart/form-data; boundary=b", query={"token": token}
    )
    assert 400 <= resp.status < 500, resp.text
    assert resp.json()["code"]


@pytest.mark.parametrize("prompt", ["a cat\x00", "a \u202ecat", "a\x07cat"])
def test_control_characters_in_a_prompt_are_a_clear_400(api: ApiClient, token: str, prompt: str) -> None:
    resp = api.post("/midjourney/imagine", json_body={"token": token, "prompt": prompt})
    _error(resp, 400, "invalid_prompt")
    assert "U+" in resp.json()["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cat.png",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/x.png",
        "file:///etc/passwd",
    ],
)
def test_links_to_private_addresses_are_refused(api: ApiClient, token: str, url: str) -> None:
    described = api.post("/midjourney/describe_link", json_body={"token": token, "link": url})
    _error(described, 400, "invalid_link")
    if url.startswith("http"):
        imagined = api.post("/midjourney/imagine", json_body={"token": token, "prompt": f"{url} a cat"})
        _error(imagined, 400, "invalid_image_url")


def test_a_form_field_that_is_not_utf8_is_400(api: ApiClient, token: str) -> None:
    """Found by schemathesis: Powertools' multipart parser raised on such a field (a 500)."""
    body = b'--b\r\nContent-Disposition: form-data; name="dimensions"\r\n\r\n\x97\xff\r\n--b--\r\n'
    resp = api.post(
        "/midjourney/blend", raw_body=body, content_type="multipart/form-data; boundary=b", query={"token": token}
    )
    _error(resp, 400, "invalid_multipart")
