"""The read and operator services behind the routes (history, tokens, devices, queue, enable, switch) on moto."""

from __future__ import annotations

import json

import pytest

from mjapi.clock import now_ms, now_s
from mjapi.ids import new_job_id
from mjapi.models import ApiToken, Health, Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.service import accounts, queue, tokens
from mjapi.service.context import Context
from mjapi.service.errors import ApiError
from mjapi.service.history import history
from mjapi.store import keys
from mjapi.store.accounts import set_health, set_session, sync_accounts
from mjapi.store.table import Table


@pytest.fixture
def ctx(table: Table, monkeypatch: pytest.MonkeyPatch) -> Context:
    pool = [
        {"id": "p1", "token": "t", "channel_id": "101", "concurrency": 3},
        {"id": "p2", "token": "t", "channel_id": "102", "concurrency": 3},
    ]
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"accounts": pool}))
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    set_session(table, "p1", "s" * 32)
    return Context.current()


def _queued(ctx: Context, token: ApiToken, queue_key: str, *, created_at: int | None = None) -> Job:
    job = Job(
        id=new_job_id(),
        kind=JobKind.IMAGINE,
        status=JobStatus.QUEUED,
        token_hash=token.token_hash,
        prompt="x",
        queue_key=queue_key,
        created_at=created_at if created_at is not None else now_ms(),
    )
    ctx.jobs.create_queued(job, charge=True, limit=100)
    return job


def test_history_pages_follow_next_cursor_to_the_end(ctx: Context) -> None:
    _clear, owner = tokens.mint(ctx, count=10, days=1)
    made = [_queued(ctx, owner, keys.pool_queue_key("mj", None), created_at=1_000 + n) for n in range(5)]
    seen: list[Job] = []
    cursor = None
    for _ in range(5):
        page = history(ctx, owner, limit=2, cursor=cursor)
        seen.extend(page.jobs)
        if page.next_cursor is None:
            break
        last = page.jobs[-1]
        assert keys.parse_time_sort_key(page.next_cursor) == keys.TimeSortKey(last.created_at, last.id)
        cursor = page.next_cursor
    assert [j.id for j in seen] == [j.id for j in reversed(made)]
    _clear2, stranger = tokens.mint(ctx, count=1)
    assert history(ctx, stranger, limit=10).jobs == []


@pytest.mark.parametrize("cursor", ["", "nope", "000000000001000#", "1000#123", "000000000001000#12#3"])
def test_history_rejects_a_cursor_it_did_not_hand_out(ctx: Context, cursor: str) -> None:
    _clear, owner = tokens.mint(ctx, count=1)
    with pytest.raises(ApiError) as caught:
        history(ctx, owner, limit=5, cursor=cursor)
    assert (caught.value.status, caught.value.code) == (400, "invalid_cursor")


def test_mint_defaults_to_thirty_days(ctx: Context) -> None:
    clear, token = tokens.mint(ctx, count=7, label="ci")
    assert clear.startswith("mjk_")
    assert (token.remaining, token.label) == (7, "ci")
    assert abs(token.valid_until - (now_s() + 30 * 86400)) <= 5
    _clear, short = tokens.mint(ctx, count=1, days=0.5)
    assert abs(short.valid_until - (now_s() + 43200)) <= 5


def test_devices_count_the_jobs_pinned_to_each_account(ctx: Context) -> None:
    _clear, owner = tokens.mint(ctx, count=10)
    _queued(ctx, owner, keys.account_queue_key("p2"))
    _queued(ctx, owner, keys.account_queue_key("p2"))
    _queued(ctx, owner, keys.pool_queue_key("mj", None))  # waits for any account: no device's own queue
    devices = accounts.devices(ctx)
    assert [(d.account.id, d.queued) for d in devices] == [("p1", 0), ("p2", 2)]
    assert queue.waiting(ctx) == {keys.account_queue_key("p2"): 2, keys.pool_queue_key("mj", None): 1}


def test_waiting_leaves_out_drained_queues(ctx: Context) -> None:
    _clear, owner = tokens.mint(ctx, count=10)
    job = _queued(ctx, owner, keys.pool_queue_key("mj", "fast"))
    assert queue.waiting(ctx) == {"mj#fast": 1}
    assert ctx.jobs.finish(job, JobStatus.CANCELLED) is not None
    assert ctx.jobs.queue_depths() == {"mj#fast": 0}
    assert queue.waiting(ctx) == {}


def test_enable_puts_an_account_back_and_unknown_ones_are_404(ctx: Context) -> None:
    set_health(ctx.table, "p1", Health.CAPTCHA, "solve me")
    device = accounts.enable(ctx, "p1")
    assert device.account.health == Health.OK
    assert device.account.health_reason == "enabled by operator"
    assert device.queued == 0
    with pytest.raises(ApiError) as caught:
        accounts.enable(ctx, "nobody")
    assert (caught.value.status, caught.value.code) == (404, "account_not_found")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"command": "imagine", "account_id": "p1"}, 400, "invalid_type"),
        ({"command": "fast"}, 400, "account_required"),
        ({"command": "fast", "account_id": "nobody"}, 404, "account_not_found"),
        ({"command": "info", "channel_id": "999"}, 404, "account_not_found"),
        ({"command": "relax", "channel_id": "102"}, 503, "account_unavailable"),  # p2 has no live gateway session
    ],
)
def test_switch_refusals(ctx: Context, kwargs: dict[str, str], status: int, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        accounts.switch(ctx, **kwargs)
    assert (caught.value.status, caught.value.code) == (status, code)
