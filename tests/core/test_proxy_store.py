"""The MODAL placeholder in the store (moto): recorded without slot or charge, promoted exactly once into the real job
under the same id (running or queued), only by its own token, and cancellable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from mjapi.clock import now_ms
from mjapi.ids import new_job_id, new_nonce
from mjapi.models import AccountConfig, Job, JobKind, JobStatus
from mjapi.store import keys
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.jobs import JobExists, JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import create_token, get_token


def _account(table: Table, concurrency: int = 2) -> None:
    sync_accounts(table, [AccountConfig(id="a1", token=SecretStr("t"), channel_id="c-a1", concurrency=concurrency)])
    set_session(table, "a1", "session-a1")


def _modal(token_hash: str) -> Job:
    now = now_ms()
    return Job(
        id=new_job_id(),
        kind=JobKind.ACTION,
        status=JobStatus.MODAL,
        token_hash=token_hash,
        prompt="a red fox",
        account_id="a1",
        parent_id="1",
        custom_id="MJ::CustomZoom::350fb24a-dd72-45f2-ade8-048379a2ed5a",
        api="mj",
        created_at=now,
        updated_at=now,
    )


def _running(modal: Job, **changes: object) -> Job:
    update: dict[str, object] = {
        "status": JobStatus.SUBMITTED,
        "channel_id": "c-a1",
        "nonce": new_nonce(),
        "holds_slot": True,
        "submitted_at": now_ms(),
        "options": {"prompt": "a red fox --zoom 1.5"},
    }
    update.update(changes)
    return modal.model_copy(update=update)


def test_a_modal_placeholder_holds_nothing_and_is_promoted_once(table: Table) -> None:
    _account(table)
    _clear, token = create_token(table, count=5, days=1)
    store = JobStore(table)
    modal = _modal(token.token_hash)
    store.create_modal(modal)
    with pytest.raises(JobExists):
        store.create_modal(modal)  # an id is recorded once
    saved = store.get(modal.id)
    assert saved is not None and saved.status == JobStatus.MODAL and saved.api == "mj"
    assert get_token(table, token.token_hash).remaining == 5  # type: ignore[union-attr]
    account = get_account(table, "a1")
    assert account is not None and account.slots_used == 0
    assert store.active("a1") == []
    history, _ = store.history(token.token_hash, limit=10)
    assert [j.id for j in history] == [modal.id]  # the caller sees its waiting task

    promoted = _running(modal)
    store.create_running(promoted, charge=True, mode=None)
    with pytest.raises(JobExists):
        store.create_running(_running(modal), charge=True, mode=None)  # the form cannot be submitted twice
    current = store.get(modal.id)
    assert current is not None and current.status == JobStatus.SUBMITTED
    assert current.options["prompt"] == "a red fox --zoom 1.5"
    assert get_token(table, token.token_hash).remaining == 4  # type: ignore[union-attr]  # charged once
    account = get_account(table, "a1")
    assert account is not None and account.slots_used == 1  # the failed second attempt reserved nothing
    assert [j.id for j in store.active("a1")] == [modal.id]
    assert store.resolve_ref("nonce", promoted.nonce or "") == modal.id


def test_concurrent_promotions_of_one_placeholder_make_one_job(table: Table) -> None:
    _account(table, concurrency=4)
    _clear, token = create_token(table, count=5, days=1)
    store = JobStore(table)
    modal = _modal(token.token_hash)
    store.create_modal(modal)

    def promote(_: int) -> bool:
        try:
            store.create_running(_running(modal), charge=True, mode=None)
        except JobExists:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(promote, range(4)))
    assert results.count(True) == 1
    assert get_token(table, token.token_hash).remaining == 4  # type: ignore[union-attr]
    account = get_account(table, "a1")
    assert account is not None and account.slots_used == 1


def test_only_the_owner_can_promote_and_new_ids_still_must_be_free(table: Table) -> None:
    _account(table)
    _clear, owner = create_token(table, count=5, days=1)
    _clear2, stranger = create_token(table, count=5, days=1)
    store = JobStore(table)
    modal = _modal(owner.token_hash)
    store.create_modal(modal)
    with pytest.raises(JobExists):
        store.create_running(_running(modal, token_hash=stranger.token_hash), charge=True, mode=None)
    assert get_token(table, stranger.token_hash).remaining == 5  # type: ignore[union-attr]
    # An id held by a real (non-MODAL) job is never overwritten.
    promoted = _running(modal)
    store.create_running(promoted, charge=False, mode=None)
    store.finish(promoted, JobStatus.SUCCEEDED)
    with pytest.raises(JobExists):
        store.create_running(_running(modal), charge=False, mode=None)
    done = store.get(modal.id)
    assert done is not None and done.status == JobStatus.SUCCEEDED


def test_a_placeholder_can_be_promoted_into_the_queue(table: Table) -> None:
    _account(table, concurrency=1)
    _clear, token = create_token(table, count=5, days=1)
    store = JobStore(table)
    modal = _modal(token.token_hash)
    store.create_modal(modal)
    queued = modal.model_copy(update={"status": JobStatus.QUEUED, "queue_key": keys.account_queue_key("a1")})
    store.create_queued(queued, charge=True, limit=5)
    with pytest.raises(JobExists):
        store.create_queued(queued, charge=True, limit=5)
    assert store.queue_depths()[keys.account_queue_key("a1")] == 1
    assert [j.id for j in store.queued(keys.account_queue_key("a1"))] == [modal.id]
    assert get_token(table, token.token_hash).remaining == 4  # type: ignore[union-attr]


def test_a_placeholder_is_cancelled_without_refund_or_slot(table: Table) -> None:
    _account(table)
    _clear, token = create_token(table, count=5, days=1)
    store = JobStore(table)
    modal = _modal(token.token_hash)
    store.create_modal(modal)
    cancelled = store.finish(modal, JobStatus.CANCELLED)
    assert cancelled is not None and cancelled.status == JobStatus.CANCELLED
    assert store.finish(modal, JobStatus.CANCELLED) is None  # exactly once
    assert get_token(table, token.token_hash).remaining == 5  # type: ignore[union-attr]
    account = get_account(table, "a1")
    assert account is not None and account.slots_used == 0
    with pytest.raises(JobExists):  # a cancelled placeholder can no longer be submitted
        store.create_running(_running(modal), charge=True, mode=None)
