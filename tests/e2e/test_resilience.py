"""Concurrency and faults end to end: 50 jobs over 5 accounts, gateway drops/op 7/op 9, REST 429/5xx, captcha, ban."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devstack.stack import RunningStack
from mjapi.service.context import Context
from mjapi.store.accounts import list_accounts
from tests.e2e.conftest import ADMIN, Client, launch


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch(sim_accounts=5, extra_env={"MJAPI_QUEUE_LIMIT": "200", "MJAPI_MAX_ACTIVE_PER_TOKEN": "100"})


def _imagine(client: Client, token: str, prompt: str, **params: Any) -> dict[str, Any]:
    resp = client.http.get("/midjourney/imagine", params={"token": token, "prompt": prompt, **params})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _wait_all(client: Client, token: str, ids: list[str], timeout: float = 90.0) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda i: client.wait_job(token, i, timeout=timeout), ids))


def _no_slot_leaked(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    used: dict[str, int] = {}
    while time.monotonic() < deadline:
        used = {a.id: a.slots_used for a in list_accounts(Context.current().table)}
        if not any(used.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"slots still held: {used}")


def _each_account(stack: RunningStack) -> list[str]:
    return [a["id"] for a in stack.accounts]


def _sim_account(stack: RunningStack, account_id: str) -> Any:
    channel = next(a["channel_id"] for a in stack.accounts if a["id"] == account_id)
    assert stack.simulator is not None
    return next(a for a in stack.simulator.accounts() if a.channel_id == channel)


def test_fifty_concurrent_jobs_with_identical_prompts(client: Client, stack: RunningStack) -> None:
    token = client.token(count=100)
    prompts = ["the same prompt every time"] * 20 + [f"prompt number {n}" for n in range(30)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        submitted = list(pool.map(lambda p: _imagine(client, token, p), prompts))
    assert len({s["id"] for s in submitted}) == 50
    results = _wait_all(client, token, [s["id"] for s in submitted])
    assert all(r["status"] == "succeeded" for r in results), [r for r in results if r["status"] != "succeeded"]
    hashes = [r["images"][0]["actions"][0][0]["id"].rsplit("::", 1)[-1] for r in results]
    twins = [
        (r["id"], r["images"][0]["actions"][0][0]["id"])
        for r, h in zip(results, hashes, strict=True)
        if hashes.count(h) > 1
    ]
    assert len(set(hashes)) == 50, f"two jobs got the same Midjourney job: {twins}"
    assert len({r["images"][0]["url"] for r in results}) == 50, "two jobs got the same image"
    # Each job's result is the simulator's answer to *that* job's prompt.
    assert stack.simulator is not None
    sim_jobs = {j.hash: j for j in stack.simulator.jobs()}
    for result, hash_ in zip(results, hashes, strict=True):
        assert sim_jobs[hash_].prompt.startswith(result["prompt"])
    used_accounts = {r["client_id"] for r in results}
    assert len(used_accounts) == 5
    _no_slot_leaked()


@pytest.mark.parametrize("action", ["drop", "reconnect", "invalid_session"])
def test_gateway_faults_mid_job_lose_nothing(client: Client, stack: RunningStack, action: str) -> None:
    token = client.token()
    jobs = [_imagine(client, token, f"{action} test {n} simslow") for n in range(5)]
    for job in jobs:
        client.wait_job(token, job["id"], until=lambda b: b["status"] in ("running", "succeeded"))
    assert stack.simulator is not None
    for account in _each_account(stack):
        options = {"resumable": False} if action == "invalid_session" else {}
        stack.simulator.gateway_fault(_sim_account(stack, account), action, **options)
    results = _wait_all(client, token, [j["id"] for j in jobs])
    assert [r["status"] for r in results] == ["succeeded"] * 5, results
    _no_slot_leaked()


@pytest.mark.parametrize("status", [429, 500, 502])
def test_rest_errors_are_retried(client: Client, stack: RunningStack, status: int) -> None:
    token = client.token()
    assert stack.simulator is not None
    stack.simulator.fail_requests(count=2, status=status, route="/interactions", retry_after=0.2)
    job = _imagine(client, token, f"retry after {status}")
    done = client.wait_job(token, job["id"])
    assert done["status"] == "succeeded", done


def test_captcha_takes_an_account_out_until_an_operator_enables_it(client: Client, stack: RunningStack) -> None:
    token = client.token()
    relax = [a["id"] for a in stack.accounts if a["mode"] == "relax"]
    assert stack.simulator is not None
    for account in relax:
        stack.simulator.trigger(_sim_account(stack, account), "captcha")
    failed = client.wait_job(token, _imagine(client, token, "a captcha test", mode="relax")["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "account_captcha"
    devices = {
        d["device"]: d for d in client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
    }
    hit = [a for a in relax if devices[a]["health"] == "captcha"]
    assert len(hit) == 1
    assert devices[hit[0]]["status"] == "captcha"
    # The job is refused by the other relax account too, which then also leaves the rotation.
    second = client.wait_job(token, _imagine(client, token, "another captcha test", mode="relax")["id"])
    assert second["status"] == "failed"
    # Nothing usable is left in relax mode: new relax jobs wait in the queue instead of failing.
    queued = _imagine(client, token, "waits for a human", mode="relax")
    assert queued["status"] == "queued"
    for account in relax:
        stack.simulator.clear_event(_sim_account(stack, account), "captcha")
        enabled = client.http.post(f"/admin/accounts/{account}/enable", headers={"x-admin-key": ADMIN})
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["health"] == "ok"
    done = client.wait_job(token, queued["id"])
    assert done["status"] == "succeeded", done
    _no_slot_leaked()


def test_ban_mid_run_fails_running_jobs_clearly_and_spares_the_others(client: Client, stack: RunningStack) -> None:
    token = client.token()
    fast = [a["id"] for a in stack.accounts if a["mode"] == "fast"]
    victim = fast[0]
    jobs = [_imagine(client, token, f"ban test {n} simslow", mode="fast") for n in range(6)]
    for job in jobs:
        client.wait_job(token, job["id"], until=lambda b: b["status"] in ("running", "succeeded"))
    assert stack.simulator is not None
    stack.simulator.trigger(_sim_account(stack, victim), "ban")
    # The next job that lands on the banned account brings back "Blocked"; keep submitting until one does (the
    # scheduler prefers the least loaded account, so that may take a few probes).
    probe_ids: list[str] = []
    devices: dict[str, Any] = {}
    for n in range(20):
        probe_ids.append(_imagine(client, token, f"after the ban {n}", mode="fast")["id"])
        client.wait_job(token, probe_ids[-1])
        devices = {
            d["device"]: d for d in client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
        }
        if devices[victim]["health"] == "banned":
            break
    assert devices[victim]["health"] == "banned"
    assert devices[victim]["health_reason"]
    results = _wait_all(client, token, [j["id"] for j in jobs] + probe_ids)
    victim_channel = next(a["channel_id"] for a in stack.accounts if a["id"] == victim)
    for result in results:
        if result["client_id"] == victim_channel and result["status"] == "failed":
            assert result["error"]["code"] in ("account_banned", "blocked")
        elif result["client_id"] != victim_channel:
            assert result["status"] == "succeeded", result
    assert any(r["status"] == "failed" for r in results if r["client_id"] == victim_channel)
    stack.simulator.clear_event(_sim_account(stack, victim), "ban")
    client.http.post(f"/admin/accounts/{victim}/enable", headers={"x-admin-key": ADMIN})
    _no_slot_leaked()
