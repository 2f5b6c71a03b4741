"""Whatever goes wrong while sending, a job never keeps its slot or the caller's money."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.models import Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.service.context import Context
from mjapi.service.jobs import submit
from mjapi.service.submitter import Submitter
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.table import Table
from mjapi.store.tokens import create_token, get_token


class ExplodingSubmitter(Submitter):
    def send(self, job: Job, account: Any, config: Any) -> None:
        raise RuntimeError("bug in the submit path")


@pytest.fixture
def ctx(table: Table, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"accounts": [{"id": "x1", "token": "t", "channel_id": "1"}]}))
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    set_session(table, "x1", "s" * 32)
    return Context.current(submitter=ExplodingSubmitter())


def test_unexpected_send_error_fails_the_job_frees_the_slot_and_refunds(ctx: Context) -> None:
    _clear, token = create_token(ctx.table, count=1, days=1)
    job = Job(id=new_job_id(), kind=JobKind.IMAGINE, token_hash=token.token_hash, prompt="x", created_at=now_ms())
    placed = submit(ctx, job)
    assert placed.status == JobStatus.FAILED
    assert placed.error is not None and placed.error.code == "submit_error"
    account = get_account(ctx.table, "x1")
    assert account is not None and account.slots_used == 0
    stored = get_token(ctx.table, token.token_hash)
    assert stored is not None and stored.remaining == 1
