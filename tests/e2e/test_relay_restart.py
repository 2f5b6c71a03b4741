"""The relay killed (SIGKILL) or stopped (SIGTERM) mid-job and started again: no job lost, no slot leaked.

The relay runs as its own process here, exactly as on Fargate. The successor waits for the dead relay's account
leases to expire, RESUMEs the saved gateway sessions, and receives everything the bot said in the meantime.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import RunningStack
from mjapi.service.context import Context
from mjapi.store.accounts import list_accounts
from tests.e2e.conftest import Client, launch


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch(
        relay=False,
        sim_accounts=3,
        extra_env={"MJAPI_RELAY_LEASE_SECONDS": "3", "MJAPI_RELAY_RESUME_SAVE_INTERVAL_SECONDS": "0.5"},
    )


def _start_relay() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway_relay"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_connected(timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        accounts = list_accounts(Context.current().table)
        if accounts and all(a.connected for a in accounts):
            return
        time.sleep(0.1)
    raise AssertionError("the relay never connected every account")


def _slots() -> dict[str, int]:
    return {a.id: a.slots_used for a in list_accounts(Context.current().table)}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_relay_restart_mid_job_loses_nothing(client: Client, stack: RunningStack, sig: signal.Signals) -> None:
    relay = _start_relay()
    try:
        _wait_connected()
        token = client.token()
        jobs: list[dict[str, Any]] = []
        for n in range(6):
            resp = client.http.get("/midjourney/imagine", params={"token": token, "prompt": f"restart {n} simslow"})
            assert resp.status_code == 200, resp.text
            jobs.append(resp.json())
        client.wait_job(token, jobs[0]["id"], until=lambda b: b["status"] in ("running", "succeeded"))
        relay.send_signal(sig)
        relay.wait(timeout=30)
        time.sleep(0.5)  # the bot keeps working while no relay listens
        relay = _start_relay()
        results = [client.wait_job(token, j["id"], timeout=90) for j in jobs]
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    assert [r["status"] for r in results] == ["succeeded"] * 6, results
    assert len({r["images"][0]["url"] for r in results}) == 6
    deadline = time.monotonic() + 10
    while any(_slots().values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_slots().values()), _slots()
