"""The reaper: jobs stuck past their deadline are failed, their slots freed, and silent ones refunded."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.models import Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.service.context import Context
from mjapi.service.jobs import reap
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.table import Table
from mjapi.store.tokens import create_token, get_token


@pytest.fixture
def ctx(table: Table, monkeypatch: pytest.MonkeyPatch) -> Context:
    accounts = [{"id": "r1", "token": "t", "channel_id": "1", "concurrency": 3}]
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"accounts": accounts}))
    monkeypatch.setenv("MJAPI_SUBMIT_TIMEOUT_SECONDS", "60")
    monkeypatch.setenv("MJAPI_JOB_TIMEOUT_SECONDS", "600")
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    set_session(table, "r1", "s" * 32)
    return Context.current()


def _running(ctx: Context, token_hash: str, *, age_s: int, message_id: str | None) -> Job:
    started = now_ms() - age_s * 1000
    job = Job(
        id=new_job_id(),
        kind=JobKind.IMAGINE,
        status=JobStatus.SUBMITTED,
        token_hash=token_hash,
        prompt="x",
        account_id="r1",
        channel_id="1",
        nonce=new_job_id(),
        holds_slot=True,
        created_at=started,
        submitted_at=started,
    )
    ctx.jobs.create_running(job, charge=True, mode=None)
    if message_id:
        ctx.jobs.update_fields(job.id, {"message_id": message_id, "status": JobStatus.RUNNING.value})
    return job


def _with_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Context:
    """A context whose settings include ``env``."""
    from mjapi.settings import get_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return Context.current()


def _waiting(token_hash: str, age_s: int, status: JobStatus, **fields: Any) -> Job:
    """A job waiting (queued, or a MODAL placeholder) for ``age_s`` seconds."""
    return Job(
        id=new_job_id(), status=status, token_hash=token_hash, prompt="x", created_at=now_ms() - age_s * 1000, **fields
    )


def test_reaper_fails_stuck_jobs_and_frees_their_slots(ctx: Context) -> None:
    _clear, token = create_token(ctx.table, count=10, days=1)
    silent = _running(ctx, token.token_hash, age_s=120, message_id=None)  # never acknowledged by the bot
    stalled = _running(ctx, token.token_hash, age_s=900, message_id="m1")  # started but never finished
    fresh = _running(ctx, token.token_hash, age_s=5, message_id="m2")
    assert reap(ctx) == 2
    for job, code, message in ((silent, "timeout", "never acknowledged"), (stalled, "timeout", "did not finish")):
        failed = ctx.jobs.get(job.id)
        assert failed is not None
        assert failed.status == JobStatus.FAILED
        assert failed.error is not None
        assert failed.error.code == code
        assert message in failed.error.message
    still = ctx.jobs.get(fresh.id)
    assert still is not None and still.status == JobStatus.RUNNING
    account = get_account(ctx.table, "r1")
    assert account is not None and account.slots_used == 1
    stored = get_token(ctx.table, token.token_hash)
    assert stored is not None and stored.remaining == 8  # 3 charged, the silent one refunded
    assert reap(ctx) == 0  # idempotent


def test_reaper_expires_jobs_queued_too_long(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    from mjapi.store import keys

    ctx = _with_env(monkeypatch, MJAPI_QUEUE_TIMEOUT_SECONDS="300")
    _clear, token = create_token(ctx.table, count=10, days=1)
    pool = keys.pool_queue_key("mj", None)
    old, young = (
        _waiting(token.token_hash, age, JobStatus.QUEUED, kind=JobKind.IMAGINE, queue_key=pool) for age in (600, 10)
    )
    for job in (old, young):
        ctx.jobs.create_queued(job, charge=True, limit=10)
    assert reap(ctx) == 1
    expired = ctx.jobs.get(old.id)
    assert expired is not None and expired.status == JobStatus.FAILED
    assert expired.error is not None and expired.error.code == "queue_timeout"
    waiting = ctx.jobs.get(young.id)
    assert waiting is not None and waiting.status == JobStatus.QUEUED
    assert ctx.jobs.queue_depths() == {pool: 1}
    stored = get_token(ctx.table, token.token_hash)
    assert stored is not None and stored.remaining == 9


def test_reaper_fails_modal_placeholders_whose_form_never_came(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _with_env(monkeypatch, MJAPI_MODAL_TIMEOUT_SECONDS="600")
    _clear, token = create_token(ctx.table, count=10, days=1)
    old, young = (
        _waiting(
            token.token_hash,
            age,
            JobStatus.MODAL,
            kind=JobKind.ACTION,
            account_id="r1",
            parent_id=new_job_id(),
            custom_id="MJ::CustomZoom::0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
            api="mj",
        )
        for age in (900, 30)
    )
    for job in (old, young):
        ctx.jobs.create_modal(job)
    assert reap(ctx) == 1
    expired = ctx.jobs.get(old.id)
    assert expired is not None and expired.status == JobStatus.FAILED
    assert expired.error is not None and expired.error.code == "form_timeout" and "10 minutes" in expired.error.message
    waiting = ctx.jobs.get(young.id)
    assert waiting is not None and waiting.status == JobStatus.MODAL
    assert [j.id for j in ctx.jobs.modal_placeholders()] == [young.id]  # the failed one left the index
    stored = get_token(ctx.table, token.token_hash)
    assert stored is not None and stored.remaining == 10  # placeholders are never charged, nothing to refund
    account = get_account(ctx.table, "r1")
    assert account is not None and account.slots_used == 0
    assert reap(ctx) == 0
