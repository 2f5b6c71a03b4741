"""No secret in any log line at any level: the relay process at DEBUG (botocore wire logs included) while it reads the
secret, holds gateway sessions and runs a job."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import RunningStack
from mjapi.service.context import Context
from mjapi.store.accounts import list_accounts
from tests.e2e.conftest import ADMIN, Client, launch


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch(relay=False, sim_accounts=2, store="dynamodb")  # the AWS path: the secret through botocore


def test_the_relay_at_debug_logs_no_secret(client: Client, stack: RunningStack, tmp_path: Path) -> None:
    log_file = tmp_path / "relay.log"
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "DEBUG"}
    with log_file.open("wb") as sink:
        relay = subprocess.Popen([sys.executable, "-m", "gateway_relay"], env=env, stdout=sink, stderr=sink)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                accounts = list_accounts(Context.current().table)
                if accounts and all(a.connected for a in accounts):
                    break
                time.sleep(0.1)
            token = client.token()
            job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a lamp at debug"}).json()
            assert client.wait_job(token, job["id"])["status"] == "succeeded"
        finally:
            relay.terminate()
            relay.wait(timeout=30)
    logged = log_file.read_text(encoding="utf-8", errors="replace")
    assert "DEBUG" in logged and "botocore" in logged  # wire-level logging was on: the check is not vacuous
    assert "secretsmanager" in logged.lower()  # ... and it covered reading the secret
    assert ADMIN not in logged
    for account in stack.accounts:
        assert account["token"] not in logged
    assert token not in logged
