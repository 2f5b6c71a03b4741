"""Storage invariants against moto's real DynamoDB server: atomic quota, slot reservation, exactly-once finish."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from devstack.aws_local import create_table
from devstack.template import load_template, table_definition
from mjapi import aws
from mjapi.clock import now_ms
from mjapi.ids import hash_token, new_job_id, new_nonce
from mjapi.models import AccountConfig, Bot, Health, Job, JobKind, JobStatus, Mode
from mjapi.store import keys
from mjapi.store.accounts import get_account, list_accounts, set_health, set_session, sync_accounts
from mjapi.store.jobs import InvalidCursor, JobStore, QueueFull, SlotTaken, TokenRejected
from mjapi.store.table import Table
from mjapi.store.tokens import create_token, get_token


def _account(table: Table, account_id: str = "a1", concurrency: int = 3, mode: Mode = Mode.FAST) -> None:
    sync_accounts(
        table,
        [
            AccountConfig(
                id=account_id, token=SecretStr("t"), channel_id=f"c-{account_id}", mode=mode, concurrency=concurrency
            )
        ],
    )
    set_session(table, account_id, f"session-{account_id}")  # a relay is listening


def _job(token_hash: str, account_id: str | None = "a1", **kw: object) -> Job:
    now = now_ms()
    base: dict[str, object] = {
        "id": new_job_id(),
        "kind": JobKind.IMAGINE,
        "status": JobStatus.SUBMITTED if account_id else JobStatus.QUEUED,
        "token_hash": token_hash,
        "prompt": "a cat",
        "account_id": account_id,
        "channel_id": f"c-{account_id}" if account_id else None,
        "nonce": new_nonce() if account_id else None,
        "holds_slot": bool(account_id),
        "created_at": now,
        "submitted_at": now if account_id else None,
    }
    base.update(kw)
    return Job.model_validate(base)


def test_table_matches_template(table: Table) -> None:
    desc = aws.client("dynamodb").describe_table(TableName=table.name)["Table"]
    definition = table_definition(load_template())["create_table"]
    assert desc["KeySchema"] == definition["KeySchema"]
    assert sorted(i["IndexName"] for i in desc["GlobalSecondaryIndexes"]) == ["gsi1", "gsi2"]
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"


def test_create_table_is_idempotent(table: Table, moto_endpoint: str) -> None:
    create_table(moto_endpoint, table.name)  # second call must not raise
    assert aws.client("dynamodb").describe_table(TableName=table.name)["Table"]["TableStatus"] == "ACTIVE"


def test_token_is_stored_hashed_only(table: Table) -> None:
    clear, token = create_token(table, count=5, days=1)
    assert clear.startswith("mjk_") and len(clear) > 40
    assert token.token_hash == hash_token(clear)
    raw = aws.client("dynamodb").scan(TableName=table.name)["Items"]
    assert clear not in repr(raw)
    stored = get_token(table, token.token_hash)
    assert stored is not None and stored.remaining == 5


def test_quota_cannot_be_overspent_under_concurrency(table: Table) -> None:
    _account(table, concurrency=12)
    _clear, token = create_token(table, count=5, days=1)
    store = JobStore(table)

    def attempt(_: int) -> str:
        try:
            store.create_running(_job(token.token_hash), charge=True, mode=None)
        except TokenRejected:
            return "rejected"
        except SlotTaken:
            return "slot"
        return "ok"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(10)))
    assert results.count("ok") + results.count("slot") <= 5
    assert results.count("ok") >= 1
    after = get_token(table, token.token_hash)
    assert after is not None
    assert after.remaining == 5 - results.count("ok")
    assert after.remaining >= 0


def test_slots_never_exceed_concurrency(table: Table) -> None:
    _account(table, concurrency=3)
    _clear, token = create_token(table, count=100, days=1)
    store = JobStore(table)

    def attempt(_: int) -> bool:
        try:
            store.create_running(_job(token.token_hash), charge=True, mode=None)
        except SlotTaken:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        ok = sum(pool.map(attempt, range(16)))
    assert ok == 3
    account = get_account(table, "a1")
    assert account is not None and account.slots_used == 3
    remaining = get_token(table, token.token_hash)
    assert remaining is not None and remaining.remaining == 97  # failed reservations charged nothing


def test_finish_releases_slot_exactly_once(table: Table) -> None:
    _account(table, concurrency=2)
    _clear, token = create_token(table, count=10, days=1)
    store = JobStore(table)
    job = _job(token.token_hash)
    store.create_running(job, charge=True, mode=None)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda _: store.finish(job, JobStatus.SUCCEEDED), range(6)))
    assert sum(1 for o in outcomes if o is not None) == 1
    account = get_account(table, "a1")
    assert account is not None and account.slots_used == 0
    finished = store.get(job.id)
    assert finished is not None and finished.status == JobStatus.SUCCEEDED and not finished.holds_slot


def test_unhealthy_or_wrong_mode_account_refuses_slot(table: Table) -> None:
    _account(table, "fast1", mode=Mode.FAST)
    _clear, token = create_token(table, count=10, days=1)
    store = JobStore(table)
    with pytest.raises(SlotTaken):
        store.create_running(_job(token.token_hash, "fast1"), charge=True, mode="relax")
    set_health(table, "fast1", Health.CAPTCHA, "Action needed to continue")
    with pytest.raises(SlotTaken):
        store.create_running(_job(token.token_hash, "fast1"), charge=True, mode=None)
    account = get_account(table, "fast1")
    assert account is not None and account.health == Health.CAPTCHA and account.slots_used == 0


def test_expired_token_is_rejected(table: Table) -> None:
    _account(table)
    _clear, token = create_token(table, count=10, days=-1)
    with pytest.raises(TokenRejected):
        JobStore(table).create_running(_job(token.token_hash), charge=True, mode=None)


def test_queue_limit_and_fifo_claim(table: Table) -> None:
    _account(table, concurrency=1)
    _clear, token = create_token(table, count=10, days=1)
    store = JobStore(table)
    qkey = keys.pool_queue_key(Bot.MJ.value, None)
    queued = []
    for n in range(2):
        job = _job(token.token_hash, None, queue_key=qkey, created_at=now_ms() + n)
        store.create_queued(job, charge=True, limit=2)
        queued.append(job)
    with pytest.raises(QueueFull):
        store.create_queued(_job(token.token_hash, None, queue_key=qkey), charge=True, limit=2)
    assert store.queue_depths() == {qkey: 2}
    oldest = store.queued(qkey)
    assert [j.id for j in oldest] == [j.id for j in queued]
    claimed = store.claim_queued(oldest[0], account_id="a1", channel_id="c-a1", guild_id=None, nonce="n1", mode=None)
    assert claimed.status == JobStatus.SUBMITTED
    assert store.resolve_ref("nonce", "n1") == oldest[0].id
    assert store.queue_depths() == {qkey: 1}
    with pytest.raises(SlotTaken):  # the only slot is taken now
        store.claim_queued(oldest[1], account_id="a1", channel_id="c-a1", guild_id=None, nonce="n2", mode=None)
    cancelled = store.finish(oldest[1], JobStatus.CANCELLED, refund=True)
    assert cancelled is not None and cancelled.status == JobStatus.CANCELLED
    assert store.queue_depths() == {qkey: 0}
    after = get_token(table, token.token_hash)
    assert after is not None and after.remaining == 9  # 2 charged, the refused one cost nothing, 1 refunded


def test_progress_is_monotonic_and_stops_at_terminal(table: Table) -> None:
    _account(table)
    _clear, token = create_token(table, count=10, days=1)
    store = JobStore(table)
    job = _job(token.token_hash)
    store.create_running(job, charge=True, mode=None)
    assert store.record_progress(job.id, 40, {})
    assert not store.record_progress(job.id, 20, {})  # late/replayed update ignored
    current = store.get(job.id)
    assert current is not None and current.progress == 40 and current.status == JobStatus.RUNNING
    store.finish(current, JobStatus.SUCCEEDED, {"progress": 100})
    assert not store.record_progress(job.id, 90, {})


def test_history_pages_newest_first(table: Table) -> None:
    _account(table, concurrency=12)
    _clear, token = create_token(table, count=10, days=1)
    store = JobStore(table)
    ids = []
    for n in range(5):
        job = _job(token.token_hash, created_at=1_000 + n)
        store.create_running(job, charge=True, mode=None)
        ids.append(job.id)
    page1, cursor = store.history(token.token_hash, limit=3)
    assert [j.id for j in page1] == ids[::-1][:3]
    assert cursor
    page2, _ = store.history(token.token_hash, limit=3, cursor=cursor)
    assert [j.id for j in page2] == ids[::-1][3:]
    _clear2, other = create_token(table, count=1, days=1)
    assert store.history(other.token_hash, limit=10)[0] == []


@pytest.mark.parametrize("cursor", ["", "garbage", "1" * 15 + "#", "1" * 15 + "#x"])
def test_history_refuses_a_cursor_it_did_not_hand_out(table: Table, cursor: str) -> None:
    _clear, token = create_token(table, count=1, days=1)
    with pytest.raises(InvalidCursor):
        JobStore(table).history(token.token_hash, limit=3, cursor=cursor)


def test_list_accounts_and_sync_keeps_live_state(table: Table) -> None:
    _account(table, "a1")
    _account(table, "a2", mode=Mode.RELAX)
    set_health(table, "a2", Health.BANNED, "Blocked")
    _account(table, "a2", mode=Mode.FAST)  # re-sync must not reset health or mode
    accounts = {a.id: a for a in list_accounts(table)}
    assert set(accounts) == {"a1", "a2"}
    assert accounts["a2"].health == Health.BANNED
    assert accounts["a2"].mode == Mode.RELAX


def test_account_without_a_live_session_gets_no_slot(table: Table) -> None:
    _account(table, "quiet")
    set_session(table, "quiet", None)  # no relay listening: the bot's answers would be lost
    _clear, token = create_token(table, count=5, days=1)
    with pytest.raises(SlotTaken):
        JobStore(table).create_running(_job(token.token_hash, "quiet"), charge=True, mode=None)
    account = get_account(table, "quiet")
    assert account is not None
    assert not account.usable
    assert account.slots_used == 0


def test_a_stale_copy_of_a_job_finishes_it_on_the_account_it_moved_to(table: Table) -> None:
    """``finish`` builds its transaction from the caller's copy without reading; a copy that no longer says which
    slot the job holds must not release the wrong account's slot."""
    _account(table, "a1")
    _account(table, "a2")
    _clear, token = create_token(table, count=10, days=1)
    store = JobStore(table)
    stale = _job(token.token_hash, "a1")
    store.create_running(stale, charge=True, mode=None)
    qkey = keys.pool_queue_key(Bot.MJ.value, None)
    requeued = store.requeue(stale, qkey)
    assert requeued is not None
    store.claim_queued(requeued, account_id="a2", channel_id="c-a2", guild_id=None, nonce="n-moved", mode=None)

    finished = store.finish(stale, JobStatus.SUCCEEDED, {"progress": 100})
    assert finished is not None and finished.status == JobStatus.SUCCEEDED
    slots = {a.id: a.slots_used for a in list_accounts(table)}
    assert slots == {"a1": 0, "a2": 0}
    assert store.finish(stale, JobStatus.FAILED) is None  # exactly once, stale copy or not
    assert store.queue_depths() == {qkey: 0}


def test_references_go_with_the_jobs_write_and_survive_a_failed_condition(table: Table) -> None:
    _account(table)
    _clear, token = create_token(table, count=10, days=1)
    store = JobStore(table)
    job = _job(token.token_hash)
    store.create_running(job, charge=True, mode=None)

    assert store.record_progress(job.id, 40, {"message_id": "m-1"}, refs=[("message", "m-1"), ("hash", "h-1")])
    assert (store.resolve_ref("message", "m-1"), store.resolve_ref("hash", "h-1")) == (job.id, job.id)
    assert not store.record_progress(job.id, 30, {}, refs=[("interaction", "i-1")])  # lower: not applied...
    assert store.resolve_ref("interaction", "i-1") == job.id  # ...but the reference still names the job
    current = store.get(job.id)
    assert current is not None and current.progress == 40

    finished = store.finish(current, JobStatus.SUCCEEDED, {"progress": 100}, refs=[("message", "r-1")])
    assert finished is not None
    assert store.resolve_ref("message", "r-1") == job.id
    assert store.finish(current, JobStatus.SUCCEEDED, refs=[("message", "r-2")]) is None
    assert store.resolve_ref("message", "r-2") is None  # only the writer that finishes the job records its refs
