"""Property-based fuzzing of every operation in /openapi.json (both API faces) with schemathesis: whatever the
inputs, with or without credentials, the API answers without a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from devstack.lambda_adapter import LambdaHttpServer
from mjapi.store.table import Table
from tests.support.apigw import unreachable_discord_handler

ADMIN = "admin-key-for-schemathesis-0123456789"


@pytest.fixture
def api_server(table: Table, monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaHttpServer]:
    server = LambdaHttpServer(unreachable_discord_handler(table, monkeypatch, ADMIN), port=0).start()
    try:
        yield server
    finally:
        server.stop()


def _operations(base_url: str) -> list[Any]:
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    loaded = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in loaded.get_all_operations()]


def test_no_operation_answers_5xx(api_server: LambdaHttpServer) -> None:
    operations = _operations(api_server.url)
    paths = {op.path for op in operations}
    assert "/midjourney/imagine" in paths and "/midjourney/action" in paths  # the fuzzing is not vacuous
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            for headers in ({}, {"x-admin-key": ADMIN}):
                response = case.call(base_url=api_server.url, headers=headers, timeout=30)
                where = (case.method, case.formatted_path, response.text[:300])
                assert response.status_code < 500, where
                if response.status_code >= 400 and response.content:
                    body = response.json()
                    assert body is None or body.get("code") or body.get("description"), where

        fuzz()
