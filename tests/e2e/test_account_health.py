"""Account health from the bot's and the gateway's own signals, end to end, on a one-account stack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import RunningStack
from tests.e2e.conftest import ADMIN, Client, launch


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch(sim_accounts=1)


def _device(client: Client) -> dict[str, Any]:
    devices = client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
    assert len(devices) == 1
    device: dict[str, Any] = devices[0]
    return device


def _sim_account(stack: RunningStack) -> Any:
    assert stack.simulator is not None
    return stack.simulator.accounts()[0]


def test_out_of_fast_hours_falls_back_to_relax_and_the_job_still_runs(client: Client, stack: RunningStack) -> None:
    token = client.token()
    assert _device(client)["patternType"] == "fast"
    assert stack.simulator is not None
    stack.simulator.trigger(_sim_account(stack), "out_of_fast_hours")
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a lantern in the rain"}).json()
    done = client.wait_job(token, job["id"], timeout=60)
    assert done["status"] == "succeeded", done
    assert _device(client)["patternType"] == "relax"
    assert _sim_account(stack).mode == "relax"  # the relay sent /relax on the account
    final = stack.simulator.messages(done["client_id"])[-1]
    assert "(relaxed)" in final["content"]


def test_revoked_token_takes_the_account_out_for_good(client: Client, stack: RunningStack) -> None:
    token = client.token()
    assert stack.simulator is not None
    stack.simulator.trigger(_sim_account(stack), "disable_token")  # gateway closes with 4004
    deadline = time.monotonic() + 20
    while _device(client)["health"] != "bad_token" and time.monotonic() < deadline:
        time.sleep(0.2)
    device = _device(client)
    assert device["health"] == "bad_token"
    assert "bad_token" in device["health_reason"]
    queued = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "nobody can run this"}).json()
    assert queued["status"] == "queued"
