"""Job endpoints through the Lambda handler against moto: isolation, actions, describe input checks, queueing,
devices, and what happens when Discord is unreachable (refund, slot freed)."""

from __future__ import annotations

import importlib
import io
import json
from typing import Any

import pytest
from PIL import Image

from mjapi.clock import now_ms
from mjapi.ids import hash_token, new_job_id
from mjapi.models import Button, Health, Job, JobKind, JobStatus
from mjapi.models import Image as StoredImage
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.store.accounts import get_account, set_health, set_session, sync_accounts
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import get_token
from tests.support.apigw import ApiClient, multipart

ADMIN = "admin-key-for-job-tests-0123456789"
ACCOUNTS = [
    {
        "id": "acc-fast",
        "token": "discord-token-fast",
        "channel_id": "111",
        "guild_id": "900",
        "mode": "fast",
        "concurrency": 2,
    },
    {
        "id": "acc-relax",
        "token": "discord-token-relax",
        "channel_id": "222",
        "guild_id": "900",
        "mode": "relax",
        "concurrency": 1,
    },
]


@pytest.fixture
def api(table: Table, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": ADMIN, "accounts": ACCOUNTS}))
    # Nothing listens on port 9: every Discord call fails fast with a connection error.
    monkeypatch.setenv("MJAPI_DISCORD_API_BASE", "http://127.0.0.1:9/api/v9")
    monkeypatch.setenv("MJAPI_DISCORD_MAX_RETRIES", "0")
    monkeypatch.setenv("MJAPI_QUEUE_LIMIT", "2")
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    for account in get_secrets().accounts:
        set_session(table, account.id, f"session-{account.id}")  # as if a relay were connected
    module: Any = importlib.import_module("functions.api.app")
    return ApiClient(module.lambda_handler)


def _token(api: ApiClient, count: int = 10) -> str:
    resp = api.get("/midjourney/create_token", query={"count": count, "days": 1}, headers={"x-admin-key": ADMIN})
    assert resp.status == 200
    return str(resp.json()["token"])


def _finished_job(table: Table, token: str, *, account: str = "acc-fast") -> Job:
    """A grid as the relay leaves it once Midjourney has answered."""
    now = now_ms()
    job = Job(
        id=new_job_id(),
        kind=JobKind.IMAGINE,
        status=JobStatus.SUCCEEDED,
        token_hash=hash_token(token),
        prompt="a red fox",
        account_id=account,
        channel_id="111",
        result_message_id="5550001",
        message_hash="350fb24a-dd72-45f2-ade8-048379a2ed5a",
        created_at=now,
        finished_at=now,
        progress=100,
        images=[StoredImage(url="https://cdn.test.invalid/images/ab/abc.png", key="images/ab/abc.png")],
        buttons=[[Button(label="U1", custom_id="MJ::JOB::upsample::1::350fb24a-dd72-45f2-ade8-048379a2ed5a")]],
    )
    store = JobStore(table)
    from mjapi.store.jobs import job_item

    table.put(job_item(job))
    store.put_ref("message", "5550001", job.id)
    return job


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_jobs_are_invisible_to_other_tokens(api: ApiClient, table: Table) -> None:
    owner, stranger = _token(api), _token(api)
    job = _finished_job(table, owner)
    mine = api.get("/midjourney/job", query={"id": job.id, "token": owner})
    assert mine.status == 200
    body = mine.json()
    assert body["status"] == "succeeded"
    assert body["images"][0]["url"].startswith("https://cdn.test.invalid/")
    assert body["images"][0]["actions"] == [[{"label": "U1", "id": job.buttons[0][0].custom_id}]]
    for path in ("/midjourney/job", "/midjourney/progress", "/midjourney/descjob"):
        assert api.get(path, query={"id": job.id, "token": stranger}).status == 404, path
    assert api.get("/midjourney/history", query={"token": stranger}).json()["data"] == []
    assert [j["job_id"] for j in api.get("/midjourney/history", query={"token": owner}).json()["data"]] == [job.id]
    admin = api.get("/midjourney/job", query={"id": job.id}, headers={"x-admin-key": ADMIN})
    assert admin.status == 200
    # Actions on someone else's image are refused as if it did not exist.
    steal = api.get(
        "/midjourney/action", query={"token": stranger, "image": "5550001", "action": job.buttons[0][0].custom_id}
    )
    assert steal.status == 404


def test_unknown_action_id_is_400_and_charges_nothing(api: ApiClient, table: Table) -> None:
    token = _token(api, count=3)
    job = _finished_job(table, token)
    resp = api.get("/midjourney/action", query={"token": token, "image": "5550001", "action": "MJ::JOB::nope::9"})
    assert resp.status == 400
    assert resp.json()["code"] == "unknown_action"
    missing = api.get("/midjourney/action", query={"token": token, "action": job.buttons[0][0].custom_id})
    assert missing.status == 400
    assert missing.json()["code"] == "image_required"
    unknown_image = api.get("/midjourney/action", query={"token": token, "image": "123", "action": "x"})
    assert unknown_image.status == 404
    stored = get_token(table, hash_token(token))
    assert stored is not None and stored.remaining == 3


def test_action_on_unfinished_job_is_409(api: ApiClient, table: Table) -> None:
    token = _token(api)
    job = _finished_job(table, token)
    JobStore(table).update_fields(job.id, {"status": JobStatus.RUNNING.value})
    resp = api.post(
        "/midjourney/action", json_body={"token": token, "job": job.id, "action": job.buttons[0][0].custom_id}
    )
    assert resp.status == 409
    assert resp.json()["code"] == "job_not_finished"


def test_describe_rejects_bad_images(api: ApiClient) -> None:
    token = _token(api)
    body, ctype = multipart({"token": token}, {"image": ("cat.png", b"definitely not a png", "image/png")})
    resp = api.post("/midjourney/describe", raw_body=body, content_type=ctype)
    assert resp.status == 400
    assert resp.json()["code"] == "invalid_image"
    truncated = _png()[:40]
    body, ctype = multipart({"token": token}, {"image": ("cut.png", truncated, "image/png")})
    assert api.post("/midjourney/describe", raw_body=body, content_type=ctype).json()["code"] == "invalid_image"
    no_file, ctype = multipart({"token": token}, {})
    missing = api.post("/midjourney/describe", raw_body=no_file, content_type=ctype)
    assert missing.status == 400
    link = api.post("/midjourney/describe_link", json_body={"token": token, "link": "ftp://example.com/x.png"})
    assert link.status == 400
    assert link.json()["code"] == "invalid_link"
    by_get = api.get("/midjourney/describe_link", query={"token": token, "link": "ftp://example.com/x.png"})
    assert by_get.status == 400 and by_get.json()["code"] == "invalid_link"  # GET works like every original endpoint


def test_unreachable_discord_fails_the_job_refunds_and_frees_the_slot(api: ApiClient, table: Table) -> None:
    token = _token(api, count=2)
    resp = api.get("/midjourney/imagine", query={"token": token, "prompt": "a quiet lake", "mode": "fast"})
    assert resp.status == 200
    body = resp.json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "discord_unavailable"
    account = get_account(table, "acc-fast")
    assert account is not None and account.slots_used == 0
    stored = get_token(table, hash_token(token))
    assert stored is not None and stored.remaining == 2


def test_describe_upload_is_stored_and_sent(api: ApiClient, table: Table) -> None:
    token = _token(api)
    body, ctype = multipart({"token": token}, {"image": ("my cat.png", _png(), "image/png")})
    resp = api.post("/midjourney/describe", raw_body=body, content_type=ctype)
    assert resp.status == 200
    data = resp.json()
    assert data["image_url"].startswith("https://cdn.test.invalid/uploads/")
    assert "imagePath" not in data  # the original leaked the server's file path
    job = JobStore(table).get(data["id"])
    assert job is not None and job.kind == JobKind.DESCRIBE
    assert job.options["filename"] == "mycat.png"


def test_no_free_slot_queues_until_the_limit(api: ApiClient, table: Table) -> None:
    token = _token(api, count=10)
    for account in ("acc-fast", "acc-relax"):
        set_health(table, account, Health.CAPTCHA, "test")
    first = api.get("/midjourney/imagine", query={"token": token, "prompt": "one"})
    second = api.get("/midjourney/imagine", query={"token": token, "prompt": "two"})
    assert first.json()["status"] == "queued"
    assert second.json()["status"] == "queued"
    third = api.get("/midjourney/imagine", query={"token": token, "prompt": "three"})
    assert third.status == 429
    assert third.json()["code"] == "queue_full"
    queue = api.get("/midjourney/get_queue", query={"token": token}).json()
    assert queue["data"] == 2
    stored = get_token(table, hash_token(token))
    assert stored is not None and stored.remaining == 8


def test_mode_without_accounts_is_503(api: ApiClient) -> None:
    token = _token(api)
    resp = api.get("/midjourney/imagine", query={"token": token, "prompt": "x", "mode": "turbo"})
    assert resp.status == 503
    assert resp.json()["code"] == "no_account"


def test_devices_show_health_and_never_tokens(api: ApiClient, table: Table) -> None:
    token = _token(api)
    set_health(table, "acc-relax", Health.PENDING_MOD, "Pending mod message")
    resp = api.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN})
    assert resp.status == 200
    devices = {d["device"]: d for d in resp.json()}
    assert devices["acc-fast"]["patternType"] == "fast"
    assert devices["acc-fast"]["status"] == "idle"
    assert devices["acc-relax"]["status"] == "pending_mod"
    assert devices["acc-relax"]["health_reason"] == "Pending mod message"
    assert devices["acc-fast"]["channelID"] == "111"
    assert "discord-token" not in resp.text
    assert api.get("/midjourney/get_devices").status == 401
    # A client sees the same shape, but neither ids nor account details.
    client = api.get("/midjourney/get_devices", query={"token": token})
    assert client.status == 200
    seen = client.json()
    assert sorted(d["status"] for d in seen) == sorted(d["status"] for d in devices.values())
    assert {d["patternType"] for d in seen} == {d["patternType"] for d in devices.values()}
    assert all(d["channelID"] is None and d["guildID"] is None and d["info"] is None for d in seen)
    assert all(d["device"].startswith("device-") and d["health_reason"] is None for d in seen)
    assert "acc-fast" not in client.text and "discord-token" not in client.text


def test_switch_is_admin_only_and_validated(api: ApiClient) -> None:
    token = _token(api)
    assert api.get("/midjourney/switch", query={"type": "fast", "client_id": "111", "token": token}).status == 401
    bad = api.get("/midjourney/switch", query={"type": "imagine", "client_id": "111"}, headers={"x-admin-key": ADMIN})
    assert bad.status == 400
    assert bad.json()["code"] == "invalid_type"
    unknown = api.get("/midjourney/switch", query={"type": "info", "client_id": "999"}, headers={"x-admin-key": ADMIN})
    assert unknown.status == 404
