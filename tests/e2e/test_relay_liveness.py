"""A dead relay is noticed: SIGKILL the stack's relay process and every account shows ``disconnected`` in
get_devices within the lease time; new jobs queue instead of being sent to Discord where nobody would hear the bot;
the dev stack's supervisor restarts the relay (as ECS would) and the queued jobs are done.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack.stack import RunningStack
from devstack.supervisor import Backoff
from tests.e2e.conftest import ADMIN, Client, launch

LEASE_SECONDS = 3.0
RESTART_DELAY = 8.0  # long enough to watch the accounts while no relay runs, short enough for a fast test


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch(
        sim_accounts=2,
        relay_backoff=Backoff(initial=RESTART_DELAY, maximum=RESTART_DELAY),
        extra_env={"MJAPI_RELAY_LEASE_SECONDS": str(LEASE_SECONDS), "MJAPI_RELAY_RESUME_SAVE_INTERVAL_SECONDS": "0.5"},
    )


def _devices(client: Client) -> list[dict[str, Any]]:
    resp = client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN})
    assert resp.status_code == 200, resp.text
    devices: list[dict[str, Any]] = resp.json()
    return devices


def _wait_devices(client: Client, ok: Callable[[list[dict[str, Any]]], bool], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    devices = _devices(client)
    while not ok(devices) and time.monotonic() < deadline:
        time.sleep(0.1)
        devices = _devices(client)
    return devices


def test_a_killed_relay_takes_its_accounts_out_until_the_supervisor_restarts_it(
    client: Client, stack: RunningStack
) -> None:
    assert stack.relay is not None
    token = client.token()
    devices = _wait_devices(client, lambda ds: all(d["health"] == "ok" for d in ds), timeout=10)
    assert len(devices) == 2
    assert all((d["health"], d["status"]) == ("ok", "idle") for d in devices), devices
    warm = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "before the crash"}).json()
    assert client.wait_job(token, warm["id"])["status"] == "succeeded"  # the relay serves jobs before the kill

    pid = stack.relay.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()

    devices = _wait_devices(
        client, lambda ds: all(d["health"] == "disconnected" for d in ds), timeout=LEASE_SECONDS + 3
    )
    noticed_after = time.monotonic() - killed_at
    assert all((d["health"], d["status"]) == ("disconnected", "disconnected") for d in devices), devices
    # The heartbeat runs out within the lease time; the margin covers polling and a loaded machine's API latency.
    assert noticed_after <= LEASE_SECONDS + 2.5, f"disconnected only after {noticed_after:.1f}s"
    assert stack.relay.pid is None  # the supervisor waits out its backoff before the restart

    jobs = []
    for n in range(3):
        resp = client.http.get("/midjourney/imagine", params={"token": token, "prompt": f"while no relay runs {n}"})
        assert resp.status_code == 200, resp.text
        jobs.append(resp.json())
    for job in jobs:
        body = client.http.get("/midjourney/job", params={"token": token, "id": job["id"]}).json()
        assert body["status"] == "queued", body
    assert stack.simulator is not None
    sent = [j.prompt for j in stack.simulator.jobs() if "while no relay runs" in j.prompt]
    assert sent == []  # nothing reached Discord while nobody could hear the bot

    results = [client.wait_job(token, job["id"], timeout=45) for job in jobs]
    assert [r["status"] for r in results] == ["succeeded"] * 3, results
    assert stack.relay.restarts == 1
    assert stack.relay.exits[0] == -signal.SIGKILL
    devices = _wait_devices(client, lambda ds: all(d["health"] == "ok" for d in ds), timeout=10)
    assert all(d["health"] == "ok" for d in devices), devices
