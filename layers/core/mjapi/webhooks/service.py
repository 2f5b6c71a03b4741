"""Webhook deliveries: from feed changes to signed POSTs, retried with backoff, dead-lettered after the last attempt.

Entry points: :func:`process_changes` (the change feed: the ``notifier`` Lambda, the offline poller) and
:func:`drain_due` (the dispatcher schedule: retries whose backoff is over, and attempts that died half-way).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from mjapi import __version__, net_guard
from mjapi.clock import now_ms, now_s
from mjapi.service.context import Context
from mjapi.store import keys
from mjapi.webhooks import signing
from mjapi.webhooks.changes import Change
from mjapi.webhooks.config import WebhookSettings
from mjapi.webhooks.payload import body_for
from mjapi.webhooks.store import Attempt, Delivery, DeliveryState, DeliveryStore, Outcome
from mjapi.webhooks.triggers import Trigger, as_job, trigger_for

logger = logging.getLogger(__name__)

DELIVERY_HEADER = "X-Mjapi-Delivery"
ATTEMPT_HEADER = "X-Mjapi-Attempt"
EVENT_HEADER = "X-Mjapi-Event"


def backoff_ms(settings: WebhookSettings, attempt: int) -> int:
    """Wait after failed attempt ``attempt`` (1, 2, ...): base x factor^(attempt-1), capped, with +-20 % jitter so
    that many deliveries failing together do not retry together."""
    delay = min(
        settings.webhook_backoff_max_seconds,
        settings.webhook_backoff_seconds * settings.webhook_backoff_factor ** (attempt - 1),
    )
    return int(delay * 1000 * random.uniform(0.8, 1.2))  # jitter, not cryptography


# -- the change feed --------------------------------------------------------------------------------------------------


def process_changes(ctx: Context, changes: Sequence[Change], *, now: int | None = None) -> list[str]:
    """Turn job writes into deliveries and attempt each at once. Jobs are handled in parallel, each job's changes in
    feed order. Returns the sequence numbers that failed (a table error): the feed hands them (and what follows them)
    over again, which is harmless since a change already recorded is skipped."""
    settings = WebhookSettings()
    groups: dict[str, list[Change]] = {}
    for change in changes:
        item = change.new or change.old or {}
        if item.get("sk") == keys.JOB_SK:  # jobs only: deliveries, references, accounts... are no news
            groups.setdefault(str(item.get("pk", "")), []).append(change)
    if not groups:
        return []
    store = DeliveryStore(ctx.table)
    workers = min(settings.webhook_concurrency, len(groups))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
        results = pool.map(lambda group: _process_group(ctx, settings, store, group, now), groups.values())
        return [sequence for failed in results for sequence in failed]


def _process_group(
    ctx: Context, settings: WebhookSettings, store: DeliveryStore, group: list[Change], now: int | None
) -> list[str]:
    receiver_ok = True  # after a failed attempt, the job's later changes in this batch are only scheduled
    for index, change in enumerate(group):
        try:
            outcome = _process_change(ctx, settings, store, change, now, attempt_now=receiver_ok)
        except Exception:
            logger.exception("webhook change %s not processed", change.sequence)
            return [c.sequence for c in group[index:]]
        receiver_ok = receiver_ok and outcome in (None, Outcome.DELIVERED)
    return []


def _process_change(
    ctx: Context,
    settings: WebhookSettings,
    store: DeliveryStore,
    change: Change,
    now: int | None,
    *,
    attempt_now: bool,
) -> Outcome | None:
    """Record the delivery a change calls for and attempt it (or, with ``attempt_now`` False, leave it due at once
    for the drain: one unreachable receiver costs a batch one timeout, not one per change)."""
    new = as_job(change.new)
    if new is None:
        return None
    trigger = trigger_for(as_job(change.old), new)
    url = new.notify_hook or settings.notify_hook
    if trigger is None or not url:
        return None
    at = now if now is not None else now_ms()
    claim_ms = int(settings.webhook_claim_seconds * 1000)
    delivery = Delivery(
        job_id=new.id,
        sequence=change.sequence,
        trigger=trigger,
        job_status=new.status.value,
        url=url,
        body=body_for(new),
        due_at=at + claim_ms if attempt_now else at,  # claimed by us until then; the drain takes over if we die
    )
    cutoff = at - int(settings.webhook_progress_interval_seconds * 1000) if trigger is Trigger.PROGRESS else None
    created = store.create(delivery, terminal=new.is_terminal, progress_cutoff=cutoff, now=at)
    if created is None:
        logger.debug("webhook change %s of job %s: replayed, coalesced or after the end", change.sequence, new.id)
        return None
    if not attempt_now:
        return Outcome.FAILED
    return attempt(ctx, settings, store, created, now=now)


# -- the retry schedule -----------------------------------------------------------------------------------------------


def drain_due(ctx: Context, *, now: int | None = None, limit: int | None = None) -> int:
    """Attempt the deliveries whose time has come (retries after their backoff, attempts that died). Returns how
    many were attempted. Safe to run from several places at once: each delivery is claimed before its attempt."""
    settings = WebhookSettings()
    store = DeliveryStore(ctx.table)
    at = now if now is not None else now_ms()
    claim_ms = int(settings.webhook_claim_seconds * 1000)
    by_job: dict[str, list[Delivery]] = {}
    for due in store.due(at, limit or settings.webhook_drain_batch):
        taken = store.claim(due, until=at + claim_ms)
        if taken is not None:
            by_job.setdefault(taken.job_id, []).append(taken)
    if not by_job:
        return 0

    def run(deliveries: list[Delivery]) -> int:
        """Newest first, one at a time: once it arrives the older ones are moot, so no receiver sees a step back.
        If it fails, the older ones wait for the next run (one unreachable receiver costs a run one timeout)."""
        attempted, failing = 0, False
        for delivery in sorted(deliveries, key=lambda d: d.sk, reverse=True):
            if _superseded(store, delivery):
                store.close(delivery, DeliveryState.SUPERSEDED, now=at)
            elif failing:
                store.claim(delivery, until=at + backoff_ms(settings, delivery.attempts + 1))
            else:
                failing = attempt(ctx, settings, store, delivery, now=now) is not Outcome.DELIVERED
                attempted += 1
        return attempted

    with ThreadPoolExecutor(max_workers=min(settings.webhook_concurrency, len(by_job))) as pool:
        return sum(pool.map(run, by_job.values()))


def _superseded(store: DeliveryStore, delivery: Delivery) -> bool:
    """Never a step backwards: a retry is moot once a later delivery of its job arrived, and a progress retry is
    moot as soon as any later delivery exists (it carries newer news, possibly the end)."""
    state = store.state(delivery.job_id)
    if state.delivered is not None and state.delivered > delivery.sk:
        return True
    return delivery.trigger is Trigger.PROGRESS and state.latest is not None and state.latest > delivery.sk


# -- what callers and operators see -----------------------------------------------------------------------------------


def deliveries_of(ctx: Context, job_id: str) -> list[tuple[Delivery, list[Attempt]]]:
    """A job's deliveries in feed order, each with its attempts: why a webhook did (not) arrive."""
    store = DeliveryStore(ctx.table)
    return [(d, store.attempts(d.job_id, d.sequence)) for d in store.deliveries(job_id)]


def dead_letters(ctx: Context, limit: int) -> list[Delivery]:
    return DeliveryStore(ctx.table).dead_letters(limit)


def redeliver(ctx: Context, job_id: str, sequence: str) -> Delivery | None:
    """One more attempt of a dead letter, due now (the drain takes it within a dispatcher run; it is still skipped
    if a later delivery of its job has arrived meanwhile: never a step backwards). None: no such dead letter."""
    store = DeliveryStore(ctx.table)
    try:
        delivery = store.get(job_id, sequence)
    except ValueError:  # not a sequence number: no delivery has it
        return None
    if delivery is None or delivery.state is not DeliveryState.DEAD:
        return None
    return store.revive(delivery, now=now_ms())


# -- one attempt ------------------------------------------------------------------------------------------------------


def attempt(
    ctx: Context, settings: WebhookSettings, store: DeliveryStore, delivery: Delivery, *, now: int | None = None
) -> Outcome:
    """POST the delivery once, signed, through the URL guard; record the attempt and schedule what comes next."""
    at = now if now is not None else now_ms()
    number = delivery.attempts + 1
    started = time.monotonic()
    status: int | None = None
    code: str | None = None
    message: str | None = None
    address: str | None = None
    try:
        key = signing.signing_key(ctx.secrets)
    except signing.SigningKeyInvalid as exc:
        key, code, message = None, "bad_signing_key", str(exc)
    if key is None:
        outcome = Outcome.FAILED
        code = code or "no_signing_key"
        message = message or "The secret has neither webhook_signing_key nor admin_key."
    else:
        body = delivery.body.encode()
        timestamp = str(now_s())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"mjapi-webhooks/{__version__}",
            signing.TIMESTAMP_HEADER: timestamp,
            signing.SIGNATURE_HEADER: signing.sign(key, timestamp, body),
            DELIVERY_HEADER: delivery.delivery_id,
            ATTEMPT_HEADER: str(number),
            EVENT_HEADER: delivery.trigger.value,
        }
        try:
            result = net_guard.fetch(
                "POST",
                delivery.url,
                headers=headers,
                content=body,
                max_body=settings.webhook_max_response_bytes,
                connect_timeout=settings.webhook_connect_timeout_seconds,
                total_timeout=settings.webhook_timeout_seconds,
            )
        except net_guard.UrlRefused as exc:
            outcome, code, message = Outcome.REFUSED, exc.code, exc.message
        except net_guard.FetchFailed as exc:
            outcome, code, message = Outcome.FAILED, exc.code, exc.message
        else:
            status, address = result.status, result.address
            if result.ok:
                outcome = Outcome.DELIVERED
            elif result.is_redirect:
                outcome, code, message = Outcome.FAILED, "redirect_not_followed", "Webhooks do not follow redirects."
            else:
                outcome, code = Outcome.FAILED, f"http_{result.status}"
    retry = outcome is Outcome.FAILED and number < settings.webhook_max_attempts
    record = Attempt(
        number=number,
        at=at,
        outcome=outcome,
        duration_ms=int((time.monotonic() - started) * 1000),
        http_status=status,
        error_code=code,
        error=message,
        address=address,
    )
    next_due = at + backoff_ms(settings, number) if retry else None
    if not store.record_attempt(delivery, record, next_due=next_due, max_attempts=settings.webhook_max_attempts):
        logger.info("webhook %s attempt %d was already recorded", delivery.delivery_id, number)
        return outcome
    level = logging.INFO if outcome is Outcome.DELIVERED or retry else logging.WARNING
    final = "" if outcome is Outcome.DELIVERED or retry else " (no more attempts)"
    logger.log(level, "webhook %s attempt %d: %s %s%s", delivery.delivery_id, number, outcome, code or "", final)
    return outcome
