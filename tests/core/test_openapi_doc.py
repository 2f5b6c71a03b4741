"""The OpenAPI document tells clients how to authenticate and which errors to expect, as the API really answers."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from mjapi.secrets import clear_secrets_cache
from mjapi.store.table import Table
from tests.support.apigw import ApiClient


@pytest.fixture
def api(table: Table, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": "a" * 32, "accounts": []}))
    clear_secrets_cache()
    module: Any = importlib.import_module("functions.api.app")
    return ApiClient(module.lambda_handler)


def test_security_schemes_and_errors_are_documented(api: ApiClient) -> None:
    doc = api.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert {"bearerToken", "tokenQuery", "mjApiSecret", "adminKey"} <= set(schemes)
    assert schemes["tokenQuery"] == {
        "type": "apiKey",
        "name": "token",
        "in": "query",
        "description": schemes["tokenQuery"]["description"],
    }
    imagine = doc["paths"]["/midjourney/imagine"]["get"]
    assert "422" not in imagine["responses"]
    assert imagine["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert {"bearerToken": []} in imagine["security"] and {"tokenQuery": []} in imagine["security"]
    assert doc["paths"]["/midjourney/create_token"]["get"]["security"] == [{"adminKey": []}]
    assert doc["paths"]["/admin/accounts"]["get"]["security"] == [{"adminKey": []}]
    every = [op for ops in doc["paths"].values() for op in ops.values()]
    assert all("422" not in op["responses"] for op in every)


def test_swagger_points_at_the_root_where_the_api_is_served(api: ApiClient) -> None:
    page = api.get("/docs").text
    assert "/v1" not in page
    assert "securitySchemes" in page


def test_the_proxy_face_documents_its_secret_and_no_http_business_errors(api: ApiClient) -> None:
    """midjourney-proxy answers business errors as codes inside HTTP 200: only 401 is an HTTP error there."""
    doc = api.get("/openapi.json").json()
    submit = doc["paths"]["/mj/submit/imagine"]["post"]
    assert set(submit["responses"]) >= {"200", "401"}
    assert not {"400", "404", "429"} & set(submit["responses"])
    assert submit["security"] == [{"mjApiSecret": []}, {"bearerToken": []}]
