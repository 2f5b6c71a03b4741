"""Submitting jobs: reserve a slot (or queue), send the interaction, and undo cleanly when Discord refuses."""

from __future__ import annotations

import logging
import time
from typing import Any

from mjapi.clock import now_ms, now_s
from mjapi.ids import new_job_id, new_nonce
from mjapi.models import SLOT_KINDS, Account, ApiToken, ErrorInfo, Health, Job, JobKind, JobStatus
from mjapi.service.context import Context
from mjapi.service.errors import ApiError
from mjapi.service.scheduler import has_candidates, rank_accounts
from mjapi.service.submitter import SubmitFailure
from mjapi.store import keys
from mjapi.store.accounts import drop_bot, get_account, list_accounts, set_health
from mjapi.store.jobs import QueueFull, SlotTaken, TokenRejected
from mjapi.store.table import ConditionFailed
from mjapi.store.tokens import get_token
from mjapi.webhooks.targets import check_notify_hook

logger = logging.getLogger(__name__)

MAX_RESERVATION_ATTEMPTS = 6


def new_job(kind: JobKind, token: ApiToken | None, **fields: Any) -> Job:
    """A fresh job of ``kind`` charged to ``token`` (None: an operator's job, charged to nobody)."""
    if "notify_hook" in fields:  # where a caller's webhook URL enters, for both API faces: 400 if the guard refuses it
        fields["notify_hook"] = check_notify_hook(fields["notify_hook"])
    now = now_ms()
    return Job(
        id=new_job_id(),
        kind=kind,
        token_hash=token.token_hash if token else "",
        created_at=now,
        updated_at=now,
        **fields,
    )


def submit(ctx: Context, job: Job, *, charge: bool = True) -> Job:
    """Place a new job: on a free account slot (then send it), or in the queue. ``job.account_id`` pins the job to one
    account (buttons must be pressed by the account that owns the message)."""
    pinned = job.account_id
    if pinned:
        account = get_account(ctx.table, pinned)
        if account is None:
            raise ApiError(409, "account_gone", "The account that produced this job is no longer configured.")
        candidates = [account] if account.usable and (account.free_slots > 0 or job.kind not in SLOT_KINDS) else []
    else:
        accounts = list_accounts(ctx.table, max_age=1.0)
        if not has_candidates(accounts, bot=job.bot, mode=job.mode):
            mode = f" in {job.mode.value} mode" if job.mode else ""
            raise ApiError(503, "no_account", f"No enabled {job.bot.value} account serves jobs{mode}.")
        candidates = rank_accounts(accounts, bot=job.bot, mode=job.mode)

    for account in candidates[:MAX_RESERVATION_ATTEMPTS]:
        placed = _place(job, account)
        try:
            ctx.jobs.create_running(placed, charge=charge, mode=job.mode.value if job.mode else None)
        except SlotTaken:
            continue
        except TokenRejected as exc:
            raise _token_rejected(ctx, job.token_hash) from exc
        return send(ctx, placed, account)

    if job.kind not in SLOT_KINDS:
        raise ApiError(503, "account_unavailable", "The account is not available right now.")
    queued = job.model_copy(
        update={
            "status": JobStatus.QUEUED,
            "queue_key": keys.account_queue_key(pinned)
            if pinned
            else keys.pool_queue_key(job.bot.value, job.mode.value if job.mode else None),
        }
    )
    try:
        ctx.jobs.create_queued(queued, charge=charge, limit=ctx.settings.queue_limit)
    except TokenRejected as exc:
        raise _token_rejected(ctx, job.token_hash) from exc
    except QueueFull as exc:
        raise ApiError(429, "queue_full", "All accounts are busy and the queue is full; try again later.") from exc
    return queued


def _place(job: Job, account: Account) -> Job:
    now = now_ms()
    return job.model_copy(
        update={
            "status": JobStatus.SUBMITTED,
            "account_id": account.id,
            "channel_id": account.channel_id,
            "guild_id": account.guild_id,
            "nonce": new_nonce(),
            "holds_slot": job.kind in SLOT_KINDS,
            "submitted_at": now,
            "updated_at": now,
        }
    )


def send(ctx: Context, job: Job, account: Account) -> Job:
    """Send a placed job's interaction; on failure fail it, free its slot and refund the token."""
    config = ctx.secrets.account(account.id)
    try:
        if config is None:
            raise SubmitFailure(
                "account_unconfigured", "The account has no credentials configured.", account_fault=True
            )
        try:
            ctx.submitter.send(job, account, config)
        except SubmitFailure:
            raise
        except Exception as exc:  # a bug or an outage on our side must not leave the job holding its slot
            logger.exception("job %s: unexpected error while sending", job.id)
            raise SubmitFailure("submit_error", "The job could not be sent to Discord.") from exc
    except SubmitFailure as failure:
        logger.warning("job %s could not be sent on %s: %s", job.id, account.id, failure.code)
        if failure.missing_bot:
            drop_bot(ctx.table, account.id, job.bot.value)
        if failure.account_fault:
            health = Health.BAD_TOKEN if failure.code == "account_unauthorized" else Health.DISABLED
            set_health(ctx.table, account.id, health, failure.message)
        failed = ctx.jobs.finish(
            job,
            JobStatus.FAILED,
            {"error": ErrorInfo(code=failure.code, message=failure.message).model_dump()},
            refund=True,
        )
        return failed or job
    return job


def dispatch_queued(ctx: Context, *, max_jobs: int = 50) -> int:
    """Move queued jobs onto free slots, oldest first within each queue. Returns how many were sent."""
    sent = 0
    accounts = list_accounts(ctx.table)
    depths = ctx.jobs.queue_depths()
    for queue_key, depth in sorted(depths.items()):
        if depth <= 0:
            continue
        for job in ctx.jobs.queued(queue_key, limit=min(depth, max_jobs)):
            if sent >= max_jobs:
                return sent
            if job.account_id and keys.is_account_queue_key(queue_key):
                pool = [a for a in accounts if a.id == job.account_id]
            else:
                pool = rank_accounts(accounts, bot=job.bot, mode=job.mode)
            claimed = _claim(ctx, job, pool)
            if claimed is None:
                break  # nothing free for this queue now; keep FIFO order and look at the next queue
            job_after, account = claimed
            account.slots_used += 1  # mirror the reservation locally instead of re-reading every account
            send(ctx, job_after, account)
            sent += 1
    return sent


def _claim(ctx: Context, job: Job, pool: list[Account]) -> tuple[Job, Account] | None:
    for account in pool:
        if not account.usable or account.free_slots <= 0:
            continue
        try:
            claimed = ctx.jobs.claim_queued(
                job,
                account_id=account.id,
                channel_id=account.channel_id,
                guild_id=account.guild_id,
                nonce=new_nonce(),
                mode=job.mode.value if job.mode else None,
            )
        except SlotTaken:
            continue
        except ConditionFailed:
            return None  # someone else took or cancelled it
        return claimed, account
    return None


def reap(ctx: Context, *, now: int | None = None) -> int:
    """Fail jobs stuck past their deadline and free their slots. Returns how many were failed."""
    now = now if now is not None else now_ms()
    failed = 0
    for account in list_accounts(ctx.table):
        for job in ctx.jobs.active(account.id):
            started = job.submitted_at or job.created_at
            silent = job.status == JobStatus.SUBMITTED and not job.message_id
            limit_ms = (ctx.settings.submit_timeout_seconds if silent else ctx.settings.job_timeout_seconds) * 1000
            if now - started < limit_ms:
                continue
            error = ErrorInfo(
                code="timeout",
                message="Midjourney never acknowledged the job." if silent else "The job did not finish in time.",
            )
            if ctx.jobs.finish(job, JobStatus.FAILED, {"error": error.model_dump()}, refund=silent):
                failed += 1
    return failed + _expire_queued(ctx, now) + _expire_modals(ctx, now)


def _expire_queued(ctx: Context, now: int) -> int:
    """Jobs that waited longer than ``queue_timeout_seconds`` for a free account fail (refunded): an account pool
    that stays unusable must not hold callers forever."""
    expired = 0
    limit_ms = ctx.settings.queue_timeout_seconds * 1000
    for queue_key, depth in ctx.jobs.queue_depths().items():
        if depth <= 0:
            continue
        for job in ctx.jobs.queued(queue_key, limit=100):  # oldest first: stop at the first young one
            if now - job.created_at < limit_ms:
                break
            error = ErrorInfo(code="queue_timeout", message="No account could take the job in time.")
            if ctx.jobs.finish(job, JobStatus.FAILED, {"error": error.model_dump()}, refund=True):
                expired += 1
    return expired


def _expire_modals(ctx: Context, now: int) -> int:
    """MODAL placeholders whose form never came fail after ``modal_timeout_seconds`` (nothing to refund: only the
    form's submission is charged), so a caller polling one, or waiting for its webhook, gets an answer."""
    expired = 0
    limit_ms = ctx.settings.modal_timeout_seconds * 1000
    for job in ctx.jobs.modal_placeholders(limit=100):  # oldest first: stop at the first young one
        if now - job.created_at < limit_ms:
            break
        minutes = max(1, ctx.settings.modal_timeout_seconds // 60)
        error = ErrorInfo(code="form_timeout", message=f"The form was not submitted within {minutes} minutes.")
        if ctx.jobs.finish(job, JobStatus.FAILED, {"error": error.model_dump()}):
            expired += 1
    return expired


def _token_rejected(ctx: Context, token_hash: str) -> ApiError:
    """Why the charge failed (read only on this path): no uses left or expired (403), or too many jobs at once (429,
    fair sharing: one token cannot take every slot and queue place)."""
    token = get_token(ctx.table, token_hash)
    if token is not None and token.remaining >= 1 and token.valid_until > now_s():
        limit = ctx.jobs.max_active_per_token
        return ApiError(
            429,
            "token_busy",
            f"This token already has {token.active} jobs running or queued (at most {limit}); wait for one to finish.",
            headers={"Retry-After": "10"},
        )
    return ApiError(403, "quota_exhausted", "This API token has no uses left or has expired.")


def wait_for(ctx: Context, job: Job, seconds: float) -> Job:
    """Poll until ``job`` is terminal or ``seconds`` pass (the relay writes the outcome)."""
    deadline = time.monotonic() + seconds
    current = job
    while not current.is_terminal and time.monotonic() < deadline:
        time.sleep(0.2)
        current = ctx.jobs.get(job.id) or current
    return current
