"""Webhooks on the whole offline stack: jobs submitted with a notify hook on both API faces reach a receiver on
loopback as Ed25519-signed POSTs (submitted -> progress -> success), verified with the key the API publishes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from nacl.signing import VerifyKey

from devstack.stack import RunningStack
from tests.e2e.conftest import Client, launch
from tests.support.hook_receiver import Received, Receiver, hook_receiver


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch(sim_accounts=1, extra_env={"MJAPI_WEBHOOK_PROGRESS_INTERVAL_SECONDS": "0.5"})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with hook_receiver() as server:
        yield server


def public_key(client: Client) -> VerifyKey:
    resp = client.http.get("/mj/webhook/public-key")  # no token: the key is public
    assert resp.status_code == 200, resp.text
    assert client.http.get("/midjourney/webhook_public_key").json() == resp.json()
    return VerifyKey(bytes.fromhex(resp.json()["public_key"]))


def verified(key: VerifyKey, request: Received) -> dict[str, Any]:
    timestamp = request.headers["x-signature-timestamp"]
    key.verify(timestamp.encode() + request.body, bytes.fromhex(request.headers["x-signature-ed25519"]))
    body: dict[str, Any] = json.loads(request.body)
    return body


def bodies_until(receiver: Receiver, key: VerifyKey, done: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Every delivery (verified) up to and including the first one ``done`` accepts."""
    count = 1
    while True:
        bodies = [verified(key, r) for r in receiver.wait_for(count, timeout=timeout)]
        if done(bodies[-1]):
            return bodies
        count += 1


def test_original_face_signed_deliveries_submitted_progress_success(client: Client, receiver: Receiver) -> None:
    key = public_key(client)
    token = client.token()
    resp = client.http.post(
        "/midjourney/imagine",
        json={"prompt": "a lighthouse at dusk", "token": token, "notify_hook": f"{receiver.url}/a"},
    )
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["id"]

    bodies = bodies_until(receiver, key, lambda b: b["status"] in ("succeeded", "failed"))
    assert {b["id"] for b in bodies} == {job_id}
    statuses = [b["status"] for b in bodies]
    assert statuses[0] == "submitted"
    assert statuses[-1] == "succeeded"
    running = [b["progress"] for b in bodies if b["status"] == "running"]
    assert running, statuses
    assert running == sorted(running)
    assert bodies[-1]["images"][0]["url"].startswith(client.stack.api_url)
    assert all(r.path == "/a" and r.headers["x-mjapi-delivery"].startswith(f"{job_id}:") for r in receiver.requests)
    assert len({r.headers["x-mjapi-delivery"] for r in receiver.requests}) == len(receiver.requests)


def test_mj_face_posts_the_task_json(client: Client, receiver: Receiver) -> None:
    key = public_key(client)
    token = client.token()
    resp = client.http.post(
        "/mj/submit/imagine",
        json={"prompt": "a paper crane", "notifyHook": f"{receiver.url}/task", "state": "abc"},
        headers={"mj-api-secret": token},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["code"] == 1, resp.text
    task_id = resp.json()["result"]

    bodies = bodies_until(receiver, key, lambda b: b["status"] in ("SUCCESS", "FAILURE"))
    assert {(b["id"], b["state"]) for b in bodies} == {(task_id, "abc")}
    statuses = [b["status"] for b in bodies]
    assert statuses[0] == "SUBMITTED"
    assert "IN_PROGRESS" in statuses
    assert statuses[-1] == "SUCCESS"
    assert bodies[-1]["progress"] == "100%"
    fetched = client.http.get(f"/mj/task/{task_id}/fetch", headers={"mj-api-secret": token}).json()
    assert fetched["status"] == "SUCCESS"
    assert fetched["imageUrl"] == bodies[-1]["imageUrl"]


def test_a_private_hook_is_refused_at_submit(client: Client) -> None:
    """Loopback is allowed on this stack (everything runs there); private networks are not."""
    token = client.token()
    resp = client.http.post(
        "/midjourney/imagine", json={"prompt": "a cat", "token": token, "notify_hook": "http://10.1.2.3/hook"}
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_notify_hook"
