"""Concurrent requests through several API "Lambda containers" (the real handler, fresh module state each), against
moto and the simulator: the quota is never overspent and account slots are never over-reserved."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devstack.lambda_adapter import ContainerPool, load_handler
from mjapi.ids import hash_token
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.table import Table
from mjapi.store.tokens import get_token
from simulator import SimulatorThread
from tests.support.apigw import ApiClient

ADMIN = "admin-key-for-race-tests-0123456789"
HANDLER = Path(__file__).resolve().parents[2] / "functions" / "api" / "app.py"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(seed=3, speed=1.0) as running:  # slow bot: jobs keep their slots during the test
        yield running


@pytest.fixture
def api(table: Table, sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    accounts = []
    for n in range(2):
        acct = sim.add_account()
        accounts.append(
            {
                "id": f"race{n}",
                "token": acct.token,
                "channel_id": acct.channel_id,
                "guild_id": acct.guild_id,
                "mode": "fast",
                "concurrency": 2,
            }
        )
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": ADMIN, "accounts": accounts}))
    monkeypatch.setenv("MJAPI_DISCORD_API_BASE", sim.urls.rest)
    monkeypatch.setenv("MJAPI_QUEUE_LIMIT", "100")
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    for account in accounts:
        set_session(table, account["id"], "0" * 32)
    return ApiClient(ContainerPool(lambda: load_handler(HANDLER), size=4))


def _token(api: ApiClient, count: int) -> str:
    return str(
        api.get("/midjourney/create_token", query={"count": count}, headers={"x-admin-key": ADMIN}).json()["token"]
    )


def _imagine_many(api: ApiClient, token: str, n: int) -> list[Any]:
    def one(i: int) -> Any:
        return api.get("/midjourney/imagine", query={"token": token, "prompt": f"race {i}"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(n)))


def test_slots_are_never_over_reserved(api: ApiClient, table: Table) -> None:
    token = _token(api, 50)
    responses = _imagine_many(api, token, 12)
    assert all(r.status == 200 for r in responses), [r.text for r in responses if r.status != 200]
    statuses = Counter(r.json()["status"] for r in responses)
    assert statuses == {"submitted": 4, "queued": 8}
    for account_id in ("race0", "race1"):
        account = get_account(table, account_id)
        assert account is not None
        assert account.slots_used == 2
    stored = get_token(table, hash_token(token))
    assert stored is not None and stored.remaining == 38


def test_quota_is_never_overspent(api: ApiClient, table: Table) -> None:
    token = _token(api, 5)
    responses = _imagine_many(api, token, 16)
    accepted = [r for r in responses if r.status == 200]
    refused = [r for r in responses if r.status != 200]
    assert len(accepted) == 5
    assert {r.status for r in refused} == {403}
    assert {r.json()["code"] for r in refused} == {"quota_exhausted"}
    stored = get_token(table, hash_token(token))
    assert stored is not None
    assert stored.remaining == 0
    assert stored.used == 5
