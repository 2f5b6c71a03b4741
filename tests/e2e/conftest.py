"""The whole stack over loopback: moto, the simulator, the relay and the API served through the real Lambda handler."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import RunningStack, StackOptions, start_stack
from mjapi import aws
from mjapi.secrets import clear_secrets_cache
from mjapi.settings import get_settings

ADMIN = "e2e-admin-key-0123456789abcdef"


def launch(**overrides: Any) -> Iterator[RunningStack]:
    saved = dict(os.environ)
    extra = {
        "MJAPI_RELAY_DISPATCH_INTERVAL_SECONDS": "2",
        "MJAPI_RELAY_REAP_INTERVAL_SECONDS": "10",
        "MJAPI_RELAY_DISCONNECTED_AFTER_SECONDS": "5",
        "MJAPI_SWITCH_WAIT_SECONDS": "10",
        **overrides.pop("extra_env", {}),
    }
    options = StackOptions(
        port=0,
        sim_speed=200.0,
        sim_settings={"image_scale": 0.25},
        dispatcher_interval=10.0,
        admin_key=ADMIN,
        extra_env=extra,
        **overrides,
    )
    stack = start_stack(options)
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        clear_secrets_cache()
        aws.reset_clients()


class Client:
    """An API client over real HTTP, with bounded polling helpers."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.http = httpx.Client(base_url=stack.api_url, timeout=30.0)

    def token(self, count: int = 100) -> str:
        resp = self.http.get(
            "/midjourney/create_token", params={"count": count, "days": 1}, headers={"x-admin-key": ADMIN}
        )
        assert resp.status_code == 200, resp.text
        return str(resp.json()["token"])

    def wait_job(
        self, token: str, job_id: str, *, timeout: float = 45.0, until: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = self.http.get("/midjourney/job", params={"id": job_id, "token": token}).json()
            if (until or (lambda b: b["status"] in ("succeeded", "failed", "cancelled")))(body):
                return body
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} did not get there in {timeout}s: {body}")


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch()


@pytest.fixture(scope="module")
def client(stack: RunningStack) -> Iterator[Client]:
    c = Client(stack)
    yield c
    c.http.close()
