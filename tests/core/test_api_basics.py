"""The Lambda handler through API Gateway events against moto: auth, tokens, validation, OpenAPI. No Discord needed."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from mjapi.store.table import Table
from tests.support.apigw import ApiClient

ADMIN = "admin-secret-for-tests-0123456789"


@pytest.fixture
def api(table: Table, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": ADMIN, "accounts": []}))
    from mjapi.secrets import clear_secrets_cache

    clear_secrets_cache()
    module: Any = importlib.import_module("functions.api.app")
    return ApiClient(module.lambda_handler)


def _admin() -> dict[str, str]:
    return {"x-admin-key": ADMIN}


def test_create_token_needs_admin_key(api: ApiClient) -> None:
    resp = api.get("/midjourney/create_token", query={"count": 3, "days": 1})
    assert resp.status == 401
    assert resp.json()["code"] == "admin_required"
    wrong = api.get("/midjourney/create_token", query={"count": 3}, headers={"x-admin-key": "nope"})
    assert wrong.status == 401


def test_create_token_returns_secret_once(api: ApiClient, table: Table) -> None:
    resp = api.get("/midjourney/create_token", query={"count": 3, "day": 2}, headers=_admin())
    assert resp.status == 200
    body = resp.json()
    assert body["token"].startswith("mjk_")
    assert body["count"] == 3
    from mjapi import aws

    scan = aws.client("dynamodb").scan(TableName=table.name)["Items"]
    assert body["token"] not in json.dumps(scan)


@pytest.mark.parametrize(
    ("query", "field"),
    [({}, "count"), ({"count": "many"}, "count"), ({"count": 0}, "count"), ({"count": 5, "days": -1}, "days")],
)
def test_create_token_bad_input_is_400(api: ApiClient, query: dict[str, Any], field: str) -> None:
    resp = api.get("/midjourney/create_token", query=query, headers=_admin())
    assert resp.status == 400
    body = resp.json()
    assert body["code"] == "invalid_request"
    assert body["details"][0]["field"] == field


def test_reading_needs_a_token(api: ApiClient) -> None:
    for path in ("/midjourney/job", "/midjourney/progress", "/midjourney/descjob"):
        resp = api.get(path, query={"id": "123"})
        assert resp.status == 401, path
        assert resp.json()["code"] == "unauthorized"
    assert api.get("/midjourney/history").status == 401


def test_unknown_job_is_404_and_unknown_token_401(api: ApiClient) -> None:
    token = api.get("/midjourney/create_token", query={"count": 1}, headers=_admin()).json()["token"]
    resp = api.get("/midjourney/job", query={"id": "999", "token": token})
    assert resp.status == 404
    assert resp.json() == {"code": "job_not_found", "message": "No such job."}
    bad = api.get("/midjourney/job", query={"id": "999"}, headers={"Authorization": "Bearer mjk_wrong"})
    assert bad.status == 401


def test_imagine_rejects_bad_prompts(api: ApiClient) -> None:
    token = api.get("/midjourney/create_token", query={"count": 5}, headers=_admin()).json()["token"]
    missing = api.get("/midjourney/imagine", query={"token": token})
    assert missing.status == 400
    assert missing.json()["details"][0]["field"] == "prompt"
    blank = api.get("/midjourney/imagine", query={"token": token, "prompt": "   "})
    assert blank.status == 400
    assert blank.json()["code"] == "invalid_prompt"
    long = api.post("/midjourney/imagine", json_body={"token": token, "prompt": "x" * 5000})
    assert long.status == 400
    assert long.json()["code"] == "invalid_prompt"
    wrong_type = api.post("/midjourney/imagine", json_body={"token": token, "prompt": ["a"]})
    assert wrong_type.status == 400
    not_json = api.call("POST", "/midjourney/imagine", raw_body=b"{nope", content_type="application/json")
    assert not_json.status == 400
    bad_mode = api.get("/midjourney/imagine", query={"token": token, "prompt": "cat", "mode": "warp"})
    assert bad_mode.status == 400


def test_imagine_without_accounts_is_503_and_charges_nothing(api: ApiClient) -> None:
    token = api.get("/midjourney/create_token", query={"count": 1}, headers=_admin()).json()["token"]
    resp = api.get("/midjourney/imagine", query={"token": token, "prompt": "a cat"})
    assert resp.status == 503
    assert resp.json()["code"] == "no_account"
    again = api.get("/midjourney/imagine", query={"token": token, "prompt": "a cat"})
    assert again.json()["code"] == "no_account"  # not quota_exhausted: nothing was charged


def test_openapi_and_docs(api: ApiClient) -> None:
    spec = api.get("/openapi.json")
    assert spec.status == 200
    paths = spec.json()["paths"]
    for route in (
        "/midjourney/imagine",
        "/midjourney/job",
        "/midjourney/action",
        "/midjourney/describe",
        "/midjourney/create_token",
        "/midjourney/switch",
        "/midjourney/get_devices",
    ):
        assert route in paths, route
    docs = api.get("/docs")
    assert docs.status == 200
    assert "swagger" in docs.text.lower()


def test_unknown_route_is_json_404(api: ApiClient) -> None:
    resp = api.get("/midjourney/nope")
    assert resp.status == 404
    assert resp.json()["code"] == "route_not_found"


@pytest.mark.parametrize(
    ("prompt", "code", "parameter"),
    [
        ("a cat --ar 3", "invalid_parameter", "aspect"),
        ("a cat --stylize 5000", "invalid_parameter", "stylize"),
        ("a cat --warp 9", "invalid_parameter", "warp"),
        ("--ar 1:1", "invalid_prompt", None),
    ],
)
def test_imagine_rejects_invalid_parameters_before_spending_a_job(
    api: ApiClient, prompt: str, code: str, parameter: str | None
) -> None:
    token = api.get("/midjourney/create_token", query={"count": 1}, headers=_admin()).json()["token"]
    resp = api.get("/midjourney/imagine", query={"token": token, "prompt": prompt})
    assert resp.status == 400
    body = resp.json()
    assert body["code"] == code
    if parameter:
        assert body["details"][0]["parameter"] == parameter


def test_mode_in_prompt_must_agree_with_mode_parameter(api: ApiClient) -> None:
    token = api.get("/midjourney/create_token", query={"count": 1}, headers=_admin()).json()["token"]
    resp = api.get("/midjourney/imagine", query={"token": token, "prompt": "a cat --relax", "mode": "fast"})
    assert resp.status == 400
    assert resp.json()["code"] == "conflicting_mode"
