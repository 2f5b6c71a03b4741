"""One token cannot lock everyone out: a cap on its jobs running or queued, and a request rate, per token."""

from __future__ import annotations

import importlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mjapi.ids import hash_token
from mjapi.models import JobStatus
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.settings import get_settings
from mjapi.store.accounts import sync_accounts
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import get_token
from tests.support.apigw import ApiClient

ADMIN = "admin-key-for-fairness-0123456789"


def _api(table: Table, monkeypatch: pytest.MonkeyPatch, **env: str) -> ApiClient:
    # An account with no relay listening: every job waits in the queue, so nothing finishes by itself.
    accounts = [{"id": "x1", "token": "discord-token", "channel_id": "123", "mode": "fast"}]
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": ADMIN, "accounts": accounts}))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    module: Any = importlib.import_module("functions.api.app")
    return ApiClient(module.lambda_handler)


def _token(api: ApiClient) -> str:
    return str(api.get("/midjourney/create_token", query={"count": 50}, headers={"x-admin-key": ADMIN}).json()["token"])


def test_a_flooding_token_is_capped_while_another_is_served(table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    api = _api(table, monkeypatch, MJAPI_MAX_ACTIVE_PER_TOKEN="3", MJAPI_TOKEN_REQUESTS_PER_MINUTE="0")
    flood, other = _token(api), _token(api)
    answers = [api.get("/midjourney/imagine", query={"token": flood, "prompt": f"flood {n}"}) for n in range(6)]
    assert [a.status for a in answers] == [200, 200, 200, 429, 429, 429]
    busy = answers[3].json()
    assert busy["code"] == "token_busy" and "3" in busy["message"]
    assert answers[3].headers.get("retry-after")
    served = api.get("/midjourney/imagine", query={"token": other, "prompt": "my turn"})
    assert served.status == 200, served.text
    assert served.json()["status"] == "queued"
    flooded = get_token(table, hash_token(flood))
    assert flooded is not None and flooded.active == 3 and flooded.remaining == 47  # refused jobs were not charged
    # One of its jobs ends: the token may submit again, and the count stays exact.
    store = JobStore(table)
    first = store.get(answers[0].json()["id"])
    assert first is not None and store.finish(first, JobStatus.CANCELLED, refund=True) is not None
    after = get_token(table, hash_token(flood))
    assert after is not None and after.active == 2 and after.remaining == 48
    assert api.get("/midjourney/imagine", query={"token": flood, "prompt": "again"}).status == 200


def test_requests_per_minute_per_token(table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    api = _api(table, monkeypatch, MJAPI_TOKEN_REQUESTS_PER_MINUTE="3")
    fast, calm = _token(api), _token(api)
    answers = [api.post("/midjourney/imagine", json_body={"token": fast, "prompt": f"hurry {n}"}) for n in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["code"] == "rate_limited"
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert api.post("/midjourney/imagine", json_body={"token": calm, "prompt": "easy"}).status == 200
    # reading is not rate limited
    assert api.get("/midjourney/job", query={"token": fast, "id": answers[0].json()["id"]}).status == 200


def test_a_token_in_the_url_works_with_a_json_body(table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    api = _api(table, monkeypatch)
    token = _token(api)
    resp = api.post("/midjourney/imagine", json_body={"prompt": "token in the url"}, query={"token": token})
    assert resp.status == 200, resp.text


def test_the_cap_holds_under_concurrent_requests(table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    api = _api(table, monkeypatch, MJAPI_MAX_ACTIVE_PER_TOKEN="5", MJAPI_TOKEN_REQUESTS_PER_MINUTE="0")
    token = _token(api)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda n: api.get("/midjourney/imagine", query={"token": token, "prompt": f"r{n}"}), range(16))
        )
    assert sum(a.status == 200 for a in answers) == 5
    assert {a.json()["code"] for a in answers if a.status != 200} == {"token_busy"}
    stored = get_token(table, hash_token(token))
    assert stored is not None and stored.active == 5 and stored.used == 5
