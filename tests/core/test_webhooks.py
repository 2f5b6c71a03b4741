"""Webhook deliveries from the table's real change stream (moto) to a receiver on loopback: signed, coalesced,
retried with backoff, dead-lettered, refused by the URL guard. Time is passed in (``now``): no test waits for it."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from nacl.signing import VerifyKey

from devstack.change_feed import DynamoStreamFeed
from mjapi.ids import hash_token, new_job_id
from mjapi.models import Button, Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache
from mjapi.service.context import Context
from mjapi.settings import get_settings
from mjapi.store import keys
from mjapi.store.jobs import job_item
from mjapi.store.table import Table
from mjapi.webhooks import signing
from mjapi.webhooks.changes import Change
from mjapi.webhooks.service import drain_due, process_changes
from mjapi.webhooks.store import Delivery, DeliveryState, DeliveryStore, Outcome
from mjapi.webhooks.triggers import Trigger
from tests.support.apigw import ApiClient
from tests.support.hook_receiver import Received, Receiver, hook_receiver

ADMIN = "admin-secret-for-webhook-tests-0123"
SEED = "5a" * 32
T0 = 1_900_000_000_000  # a fixed "now" (ms): the tests move time by passing it


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with hook_receiver() as server:
        yield server


def use_secret(monkeypatch: pytest.MonkeyPatch, secret: dict[str, str]) -> None:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps(secret))
    get_settings.cache_clear()
    clear_secrets_cache()


@pytest.fixture
def hooks_env(table: Table, monkeypatch: pytest.MonkeyPatch) -> Table:
    use_secret(monkeypatch, {"admin_key": ADMIN, "webhook_signing_key": SEED})
    monkeypatch.setenv("MJAPI_URL_ALLOWLIST", "127.0.0.0/8")
    monkeypatch.setenv("MJAPI_WEBHOOK_PROGRESS_INTERVAL_SECONDS", "5")
    monkeypatch.setenv("MJAPI_WEBHOOK_BACKOFF_SECONDS", "10")
    monkeypatch.setenv("MJAPI_WEBHOOK_BACKOFF_FACTOR", "3")
    monkeypatch.delenv("MJAPI_NOTIFY_HOOK", raising=False)
    return table


class Harness:
    """Jobs written to the table, the table's stream read back and handed to the webhook service."""

    def __init__(self, table: Table) -> None:
        self.ctx = Context.current()
        self.feed = DynamoStreamFeed(table.name)
        self.store = DeliveryStore(self.ctx.table)

    def new_job(self, hook: str | None, *, api: str = "midjourney", status: JobStatus = JobStatus.SUBMITTED) -> Job:
        job = Job(
            id=new_job_id(),
            kind=JobKind.IMAGINE,
            status=status,
            prompt="a glass frog",
            token_hash="t" * 64,
            notify_hook=hook,
            api=api,
            created_at=T0,
            updated_at=T0,
        )
        self.ctx.table.put(job_item(job))
        return job

    def progress(self, job: Job, value: int) -> None:
        assert self.ctx.jobs.record_progress(job.id, value, {})

    def finish(self, job: Job, status: JobStatus = JobStatus.SUCCEEDED) -> None:
        current = self.ctx.jobs.get(job.id)
        assert current is not None
        assert self.ctx.jobs.finish(current, status) is not None

    def pump(self, now: int) -> list[Change]:
        changes = self.feed.read()
        assert process_changes(self.ctx, changes, now=now) == []
        return changes


@pytest.fixture
def hx(hooks_env: Table) -> Harness:
    return Harness(hooks_env)


def public_key_from_route() -> str:
    module: Any = importlib.import_module("functions.api.app")
    api = ApiClient(module.lambda_handler)
    resp = api.get("/mj/webhook/public-key")
    assert resp.status == 200, resp.text
    other = api.get("/midjourney/webhook_public_key")
    assert other.status == 200
    assert other.json() == resp.json()
    assert SEED not in resp.text
    return str(resp.json()["public_key"])


def verified(request: Received, public_key: str) -> dict[str, Any]:
    """What a receiver does: check the signature over timestamp + body, then read the body."""
    timestamp = request.headers["x-signature-timestamp"]
    signature = bytes.fromhex(request.headers["x-signature-ed25519"])
    VerifyKey(bytes.fromhex(public_key)).verify(timestamp.encode() + request.body, signature)  # raises if forged
    assert request.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(request.body)
    return body


def test_signed_deliveries_verify_with_the_public_key_of_the_route(hx: Harness, receiver: Receiver) -> None:
    job = hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)
    hx.progress(job, 40)  # submitted -> running: a status change
    hx.pump(T0 + 10_000)
    hx.progress(job, 60)
    hx.pump(T0 + 20_000)
    hx.finish(job)
    hx.pump(T0 + 21_000)

    key = public_key_from_route()
    requests = receiver.wait_for(4)
    bodies = [verified(r, key) for r in requests]
    assert [(b["id"], b["status"], b["progress"]) for b in bodies] == [
        (job.id, "submitted", 0),
        (job.id, "running", 40),
        (job.id, "running", 60),
        (job.id, "succeeded", 60),
    ]
    assert [r.headers["x-mjapi-event"] for r in requests] == ["status", "status", "progress", "status"]
    assert len({r.headers["x-mjapi-delivery"] for r in requests}) == 4
    assert all(r.path == "/hook" and r.method == "POST" for r in requests)
    # a forged body does not verify
    tampered = Received("POST", "/hook", requests[0].headers, requests[0].body.replace(b"submitted", b"succeeded"))
    with pytest.raises(Exception, match="Signature was forged or corrupt"):
        verified(tampered, key)
    assert signing.verify(key, requests[0].headers["x-signature-timestamp"], requests[0].body, "00" * 64) is False

    deliveries = hx.store.deliveries(job.id)
    assert [(d.trigger, d.state, d.attempts) for d in deliveries] == [
        (Trigger.STATUS, DeliveryState.DELIVERED, 1),
        (Trigger.STATUS, DeliveryState.DELIVERED, 1),
        (Trigger.PROGRESS, DeliveryState.DELIVERED, 1),
        (Trigger.STATUS, DeliveryState.DELIVERED, 1),
    ]
    attempts = hx.store.attempts(job.id, deliveries[0].sequence)
    assert [(a.number, a.outcome, a.http_status, a.address) for a in attempts] == [
        (1, Outcome.DELIVERED, 200, "127.0.0.1")
    ]


def test_progress_is_coalesced_and_never_follows_the_end(hx: Harness, receiver: Receiver) -> None:
    job = hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)  # submitted: delivered at T0
    hx.progress(job, 10)
    hx.pump(T0 + 1_000)  # submitted -> running is a status change: never coalesced
    hx.progress(job, 20)
    hx.pump(T0 + 2_000)  # within 5 s of the last delivery: coalesced
    hx.progress(job, 30)
    hx.pump(T0 + 6_500)  # delivered
    hx.progress(job, 40)
    hx.progress(job, 45)
    hx.pump(T0 + 7_000)  # coalesced (both)
    hx.finish(job)
    last = hx.pump(T0 + 7_500)  # the end is never coalesced
    assert [verified_status(r) for r in receiver.wait_for(4)] == [
        ("submitted", 0),
        ("running", 10),
        ("running", 30),
        ("succeeded", 45),
    ]

    # a progress change arriving after the terminal one (as a late or reordered record would) is not delivered
    old = dict(last[-1].new or {})
    late = Change(
        sequence=str(int(last[-1].sequence) + 1),
        old={**old, "status": "running", "progress": 45},
        new={**old, "status": "running", "progress": 99},
    )
    assert process_changes(hx.ctx, [late], now=T0 + 60_000) == []
    assert len(hx.store.deliveries(job.id)) == 4
    assert len(receiver.requests) == 4


def verified_status(request: Received) -> tuple[str, int]:
    body = json.loads(request.body)
    return body["status"], body["progress"]


def test_retries_with_exponential_backoff_then_success(hx: Harness, receiver: Receiver) -> None:
    receiver.script = [500, 503]
    job = hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)
    (delivery,) = hx.store.deliveries(job.id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert delivery.due_at is not None
    assert T0 + 8_000 <= delivery.due_at <= T0 + 12_000  # 10 s +- 20 %

    assert drain_due(hx.ctx, now=T0 + 7_900) == 0  # not yet
    first_due = delivery.due_at
    assert drain_due(hx.ctx, now=first_due) == 1
    (delivery,) = hx.store.deliveries(job.id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 2)
    assert delivery.due_at is not None
    assert first_due + 24_000 <= delivery.due_at <= first_due + 36_000  # 30 s +- 20 %: exponential

    assert drain_due(hx.ctx, now=delivery.due_at) == 1
    (delivery,) = hx.store.deliveries(job.id)
    assert (delivery.state, delivery.attempts, delivery.due_at) == (DeliveryState.DELIVERED, 3, None)
    assert drain_due(hx.ctx, now=T0 + 10**9) == 0  # nothing left in the due index

    key = public_key_from_route()
    requests = receiver.wait_for(3)
    assert [r.headers["x-mjapi-attempt"] for r in requests] == ["1", "2", "3"]
    assert len({r.headers["x-mjapi-delivery"] for r in requests}) == 1
    assert all(verified(r, key)["status"] == "submitted" for r in requests)
    attempts = hx.store.attempts(job.id, delivery.sequence)
    assert [(a.outcome, a.http_status, a.error_code) for a in attempts] == [
        (Outcome.FAILED, 500, "http_500"),
        (Outcome.FAILED, 503, "http_503"),
        (Outcome.DELIVERED, 200, None),
    ]


def test_dead_letter_after_the_last_retry(hx: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MJAPI_WEBHOOK_MAX_ATTEMPTS", "3")
    receiver.default = 500
    job = hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)
    now = T0
    for _ in range(2):
        now += 10**7  # far beyond any backoff
        assert drain_due(hx.ctx, now=now) == 1
    (delivery,) = hx.store.deliveries(job.id)
    assert (delivery.state, delivery.attempts, delivery.due_at) == (DeliveryState.DEAD, 3, None)
    assert drain_due(hx.ctx, now=now + 10**9) == 0
    assert len(receiver.requests) == 3
    dead = hx.store.dead_letters()
    assert [(d.job_id, d.sequence, d.state) for d in dead] == [(job.id, delivery.sequence, DeliveryState.DEAD)]
    assert [a.outcome for a in hx.store.attempts(job.id, delivery.sequence)] == [Outcome.FAILED] * 3


def test_owners_see_their_deliveries_and_operators_revive_dead_letters(
    hx: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mjapi.store.tokens import create_token

    monkeypatch.setenv("MJAPI_WEBHOOK_MAX_ATTEMPTS", "2")
    owner, owner_token = create_token(hx.ctx.table, count=5, days=1)
    stranger, _ = create_token(hx.ctx.table, count=5, days=1)
    receiver.default = 503
    job = hx.new_job(f"{receiver.url}/hook").model_copy(update={"token_hash": owner_token.token_hash})
    hx.ctx.table.put(job_item(job))
    hx.pump(T0)
    assert drain_due(hx.ctx, now=T0 + 10**7) == 1  # the second and last attempt: dead
    api = ApiClient(importlib.import_module("functions.api.app").lambda_handler)

    seen = api.get("/midjourney/webhooks", query={"id": job.id}, headers={"authorization": f"Bearer {owner}"})
    assert seen.status == 200, seen.text
    (delivery,) = seen.json()["deliveries"]
    assert (delivery["state"], delivery["attempts"], delivery["event"]) == ("dead", 2, "status")
    assert [(a["number"], a["outcome"], a["http_status"]) for a in delivery["attempt_log"]] == [
        (1, "failed", 503),
        (2, "failed", 503),
    ]
    assert delivery["delivery_id"] == f"{job.id}:{delivery['sequence']}"
    hidden = api.get("/midjourney/webhooks", query={"id": job.id}, headers={"authorization": f"Bearer {stranger}"})
    assert hidden.status == 404 and hidden.json()["code"] == "job_not_found"

    admin = {"x-admin-key": ADMIN}
    assert api.get("/admin/webhooks/dead", headers={"authorization": f"Bearer {owner}"}).status in (401, 403)
    dead = api.get("/admin/webhooks/dead", headers=admin).json()["dead_letters"]
    assert [(d["job_id"], d["sequence"]) for d in dead] == [(job.id, delivery["sequence"])]

    receiver.default = 200  # the receiver is fixed: one more attempt
    body = {"job_id": job.id, "sequence": delivery["sequence"]}
    revived = api.post("/admin/webhooks/redeliver", json_body=body, headers=admin)
    assert revived.status == 200 and revived.json()["state"] == "pending", revived.text
    again = api.post("/admin/webhooks/redeliver", json_body=body, headers=admin)
    assert again.status == 404 and again.json()["code"] == "dead_letter_not_found"  # no longer a dead letter
    assert drain_due(hx.ctx, now=T0 + 2 * 10**7) == 1
    assert len(receiver.requests) == 3 and receiver.requests[-1].headers["x-mjapi-attempt"] == "3"
    (after,) = hx.store.deliveries(job.id)
    assert (after.state, after.attempts) == (DeliveryState.DELIVERED, 3)
    assert api.get("/admin/webhooks/dead", headers=admin).json()["dead_letters"] == []


def test_a_failed_retry_is_superseded_by_a_later_delivery(hx: Harness, receiver: Receiver) -> None:
    """Never a step backwards: once 'succeeded' arrived, the retry of 'submitted' is dropped."""
    receiver.script = [500]
    job = hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)
    hx.finish(job)
    hx.pump(T0 + 1_000)
    assert drain_due(hx.ctx, now=T0 + 10**7) == 0
    first, last = hx.store.deliveries(job.id)
    assert (first.state, first.attempts) == (DeliveryState.SUPERSEDED, 1)
    assert last.state == DeliveryState.DELIVERED
    assert [verified_status(r)[0] for r in receiver.requests] == ["submitted", "succeeded"]


@pytest.mark.parametrize(
    ("hook", "code"),
    [
        ("http://10.0.0.1/hook", "forbidden_address"),
        ("http://169.254.169.254/latest/meta-data/", "forbidden_address"),
        ("http://[::1]:9/hook", "forbidden_address"),
        ("ftp://example.com/hook", "bad_scheme"),
    ],
)
def test_refused_targets_are_recorded_and_never_retried(hx: Harness, hook: str, code: str) -> None:
    job = hx.new_job(hook)
    hx.pump(T0)
    (delivery,) = hx.store.deliveries(job.id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.REFUSED, 1)
    (attempt,) = hx.store.attempts(job.id, delivery.sequence)
    assert (attempt.outcome, attempt.error_code, attempt.http_status) == (Outcome.REFUSED, code, None)
    assert drain_due(hx.ctx, now=T0 + 10**9) == 0


def test_loopback_is_refused_without_the_allow_list(
    hx: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MJAPI_URL_ALLOWLIST", "")
    job = hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)
    (delivery,) = hx.store.deliveries(job.id)
    assert delivery.state == DeliveryState.REFUSED
    assert receiver.requests == []


def test_a_redirect_is_not_followed(hx: Harness, receiver: Receiver) -> None:
    job = hx.new_job(f"{receiver.url}/redirect?to=http://10.0.0.1/steal")
    hx.pump(T0)
    (delivery,) = hx.store.deliveries(job.id)
    (attempt,) = hx.store.attempts(job.id, delivery.sequence)
    assert (attempt.outcome, attempt.http_status, attempt.error_code) == (Outcome.FAILED, 302, "redirect_not_followed")
    assert delivery.state == DeliveryState.PENDING  # retried later, never followed
    assert len(receiver.requests) == 1


def test_replayed_records_are_delivered_once(hx: Harness, receiver: Receiver) -> None:
    job = hx.new_job(f"{receiver.url}/hook")
    changes = hx.pump(T0)
    assert process_changes(hx.ctx, changes, now=T0 + 1) == []  # the stream hands the batch over again
    assert len(hx.store.deliveries(job.id)) == 1
    assert len(receiver.requests) == 1


def test_an_attempt_that_died_is_taken_over_by_the_drain(hx: Harness, receiver: Receiver) -> None:
    """The delivery was recorded but its process died before the POST: the drain sends it once the claim ends."""
    job = hx.new_job(f"{receiver.url}/hook")
    sequence = "77" * 11
    created = hx.store.create(
        Delivery(
            job_id=job.id,
            sequence=sequence,
            trigger=Trigger.STATUS,
            job_status="submitted",
            url=f"{receiver.url}/hook",
            body='{"id":"x"}',
            due_at=T0 + 60_000,
        ),
        terminal=False,
        progress_cutoff=None,
        now=T0,
    )
    assert created is not None
    assert drain_due(hx.ctx, now=T0 + 59_000) == 0
    assert drain_due(hx.ctx, now=T0 + 60_000) == 1
    assert receiver.wait_for(1)[0].body == b'{"id":"x"}'
    got = hx.store.get(job.id, sequence)
    assert got is not None
    assert got.state == DeliveryState.DELIVERED


def test_global_default_hook_and_no_hook(hx: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    silent = hx.new_job(None)
    hx.pump(T0)
    assert hx.store.deliveries(silent.id) == []
    assert hx.ctx.table.get(keys.hook_pk(silent.id), keys.HOOK_STATE_SK) is None
    monkeypatch.setenv("MJAPI_NOTIFY_HOOK", f"{receiver.url}/global")
    job = hx.new_job(None)
    own = hx.new_job(f"{receiver.url}/own")
    hx.pump(T0 + 1)
    assert sorted(r.path for r in receiver.wait_for(2)) == ["/global", "/own"]
    assert {d.state for d in hx.store.deliveries(job.id) + hx.store.deliveries(own.id)} == {DeliveryState.DELIVERED}


def test_mj_face_jobs_post_the_task_json(hx: Harness, receiver: Receiver) -> None:
    from mjapi.api.proxy_views import task_view

    job = hx.new_job(f"{receiver.url}/hook", api="mj")
    hx.pump(T0)
    body = json.loads(receiver.wait_for(1)[0].body)
    assert body == task_view(job)
    assert body["id"] == job.id
    assert body["status"] == "SUBMITTED"


def test_signing_key_is_derived_from_the_admin_key_when_not_configured(
    hx: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_secret(monkeypatch, {"admin_key": ADMIN})
    hx.ctx = Context.current()
    hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)
    key = public_key_from_route()
    assert verified(receiver.wait_for(1)[0], key)["status"] == "submitted"
    use_secret(monkeypatch, {"admin_key": ADMIN, "webhook_signing_key": SEED})
    assert public_key_from_route() != key


def test_a_bad_signing_key_fails_the_attempt_and_the_route_says_so(
    hx: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_secret(monkeypatch, {"admin_key": ADMIN, "webhook_signing_key": "not-hex"})
    hx.ctx = Context.current()
    job = hx.new_job(f"{receiver.url}/hook")
    hx.pump(T0)
    (delivery,) = hx.store.deliveries(job.id)
    (attempt,) = hx.store.attempts(job.id, delivery.sequence)
    assert (delivery.state, attempt.error_code) == (DeliveryState.PENDING, "bad_signing_key")
    assert receiver.requests == []
    module: Any = importlib.import_module("functions.api.app")
    resp = ApiClient(module.lambda_handler).get("/mj/webhook/public-key")
    assert (resp.status, resp.json()["code"]) == (503, "webhook_key_invalid")
    assert "not-hex" not in resp.text


@pytest.mark.parametrize(
    ("hook", "reason"),
    [
        ("ftp://example.com/hook", "bad_scheme"),
        ("not a url", "bad_url"),
        ("http://10.0.0.1/hook", "forbidden_address"),
        ("http://localhost:9000/hook", "forbidden_address"),
        ("http://169.254.169.254/latest/meta-data/", "forbidden_address"),
        ("http://[::1]/hook", "forbidden_address"),
    ],
)
def test_a_bad_notify_hook_is_refused_at_submit_on_both_faces(
    hooks_env: Table, monkeypatch: pytest.MonkeyPatch, hook: str, reason: str
) -> None:
    monkeypatch.setenv("MJAPI_URL_ALLOWLIST", "")
    module: Any = importlib.import_module("functions.api.app")
    api = ApiClient(module.lambda_handler)
    token = api.get("/midjourney/create_token", query={"count": 5}, headers={"x-admin-key": ADMIN}).json()["token"]

    original = api.post("/midjourney/imagine", json_body={"prompt": "a cat", "token": token, "notify_hook": hook})
    assert original.status == 400, original.text
    assert (original.json()["code"], original.json()["reason"]) == ("invalid_notify_hook", reason)

    proxy = api.post(
        "/mj/submit/imagine", json_body={"prompt": "a cat", "notifyHook": hook}, headers={"mj-api-secret": token}
    )
    assert proxy.status == 200
    assert proxy.json()["code"] == 4
    assert "notify_hook" in proxy.json()["description"]

    # nothing was charged; an empty hook means "none" and gets as far as the (empty) account pool
    none = api.post("/midjourney/imagine", json_body={"prompt": "a cat", "token": token, "notify_hook": ""})
    assert none.json()["code"] == "no_account"
    assert hooks_env.get(keys.token_pk(hash_token(token)), keys.TOKEN_SK)["remaining"] == 5


def test_a_bad_notify_hook_is_refused_when_a_button_is_pressed(
    hooks_env: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MJAPI_URL_ALLOWLIST", "")
    module: Any = importlib.import_module("functions.api.app")
    api = ApiClient(module.lambda_handler)
    token = api.get("/midjourney/create_token", query={"count": 5}, headers={"x-admin-key": ADMIN}).json()["token"]
    parent = Job(
        id=new_job_id(),
        kind=JobKind.IMAGINE,
        status=JobStatus.SUCCEEDED,
        token_hash=hash_token(token),
        result_message_id="1234567890123",
        account_id="a1",
        buttons=[[Button(label="U1", custom_id="MJ::JOB::upsample::1::0f6a8b9c-1d2e-4f30-9a4b-5c6d7e8f9a0b")]],
    )
    hooks_env.put(job_item(parent))
    resp = api.post(
        "/midjourney/action",
        json_body={"token": token, "job": parent.id, "action": "U1", "notify_hook": "http://192.168.0.10/x"},
    )
    assert resp.status == 400, resp.text
    assert resp.json()["code"] == "invalid_notify_hook"


def test_an_unreachable_receiver_costs_a_batch_one_attempt_and_the_drain_sends_the_newest(
    hx: Harness, receiver: Receiver
) -> None:
    receiver.default = 500
    job = hx.new_job(f"{receiver.url}/hook")
    hx.progress(job, 50)
    hx.finish(job)
    hx.pump(T0)  # one batch: submitted, running, succeeded
    assert len(receiver.requests) == 1  # only the first was attempted; the others wait in the due index
    assert [(d.state, d.attempts, d.due_at) for d in hx.store.deliveries(job.id)][1:] == [
        (DeliveryState.PENDING, 0, T0),
        (DeliveryState.PENDING, 0, T0),
    ]

    assert drain_due(hx.ctx, now=T0) == 1  # still down: the newest is tried once, the older one waits its turn
    running = hx.store.deliveries(job.id)[1]
    assert (running.state, running.attempts) == (DeliveryState.PENDING, 0)
    assert running.due_at is not None
    assert running.due_at > T0

    receiver.default = 200
    assert drain_due(hx.ctx, now=T0 + 10**7) == 1  # the newest arrives; 'running' and 'submitted' are then moot
    assert [d.state for d in hx.store.deliveries(job.id)] == [
        DeliveryState.SUPERSEDED,
        DeliveryState.SUPERSEDED,
        DeliveryState.DELIVERED,
    ]
    assert [verified_status(r)[0] for r in receiver.requests] == ["submitted", "succeeded", "succeeded"]


def test_the_public_key_routes_are_documented_without_credentials(hooks_env: Table) -> None:
    module: Any = importlib.import_module("functions.api.app")
    document = ApiClient(module.lambda_handler).get("/openapi.json").json()
    for path in ("/mj/webhook/public-key", "/midjourney/webhook_public_key"):
        operation = document["paths"][path]["get"]
        assert operation["security"] == [{}]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/PublicKey")
