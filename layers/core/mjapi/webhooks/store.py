"""Webhook items in the table (layout in docs/DATA.md): per job a hook state, its deliveries, one item per attempt.

Every transition is conditional, so replayed feed records, a crashed attempt picked up again by the drain, and two
drainers racing for one delivery all end with each attempt recorded once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from mjapi.settings import get_settings
from mjapi.store import keys
from mjapi.store.table import ConditionFailed, Table, TransactionCancelled
from mjapi.webhooks.triggers import Trigger


class DeliveryState(StrEnum):
    PENDING = "pending"  # an attempt is due (or in flight)
    DELIVERED = "delivered"  # a 2xx answer
    DEAD = "dead"  # the last attempt failed: dead-lettered
    REFUSED = "refused"  # the URL guard refused the target: never retried
    SUPERSEDED = "superseded"  # a later delivery of the job made this one moot (never a step backwards)


class Outcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"


@dataclass(frozen=True)
class Delivery:
    job_id: str
    sequence: str  # the change's feed sequence number: the delivery's identity and its place in the job's order
    trigger: Trigger
    job_status: str
    url: str
    body: str
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    created_at: int = 0
    due_at: int | None = None
    due_key: str | None = None  # its current gsi2sk while pending (the drain claims it by this value)

    @property
    def sk(self) -> str:
        return keys.delivery_sk(self.sequence)

    @property
    def delivery_id(self) -> str:
        """What receivers see in ``X-Mjapi-Delivery`` (stable across attempts: deduplicate on it)."""
        return f"{self.job_id}:{self.sequence}"


@dataclass(frozen=True)
class HookState:
    latest: str | None = None  # sk of the newest delivery created
    delivered: str | None = None  # sk of the newest delivery that got a 2xx
    terminal: bool = False


@dataclass(frozen=True)
class Attempt:
    number: int
    at: int
    outcome: Outcome
    duration_ms: int
    http_status: int | None = None
    error_code: str | None = None
    error: str | None = None
    address: str | None = None


def _expires_at(now_ms: int) -> int:
    days = get_settings().job_retention_days
    return now_ms // 1000 + max(days, 1) * 86400


def _delivery(item: Mapping[str, Any]) -> Delivery:
    return Delivery(
        job_id=str(item["job_id"]),
        sequence=str(item["sequence"]),
        trigger=Trigger(item["trigger"]),
        job_status=str(item.get("job_status", "")),
        url=str(item["url"]),
        body=str(item["body"]),
        state=DeliveryState(item["state"]),
        attempts=int(item.get("attempts", 0)),
        created_at=int(item.get("created_at", 0)),
        due_at=int(item["due_at"]) if item.get("due_at") is not None else None,
        due_key=str(item["gsi2sk"]) if item.get("gsi2pk") == keys.HOOKS_DUE_GSI else None,
    )


class DeliveryStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- creation -----------------------------------------------------------------------------------------------------

    def create(self, delivery: Delivery, *, terminal: bool, progress_cutoff: int | None, now: int) -> Delivery | None:
        """Record a new delivery, due at ``delivery.due_at`` (the creator's claim), in one transaction with the job's
        hook state. Returns None, writing nothing, when the change was seen before (replay), when a progress comes
        within the coalescing window (``last_at > progress_cutoff``), or when the job's terminal delivery exists."""
        assert delivery.due_at is not None
        condition = "attribute_not_exists(terminal_at) AND (attribute_not_exists(latest) OR latest < :sk)"
        values: dict[str, Any] = {":sk": delivery.sk, ":now": now, ":exp": _expires_at(now)}
        if progress_cutoff is not None:
            condition += " AND (attribute_not_exists(last_at) OR last_at <= :cutoff)"
            values[":cutoff"] = progress_cutoff
        expression = "SET last_at = :now, latest = :sk, expires_at = :exp"
        if terminal:
            expression += ", terminal_at = :now"
        due_key = keys.hook_due_sort_key(delivery.due_at, delivery.job_id, delivery.sequence)
        item = {
            "pk": keys.hook_pk(delivery.job_id),
            "sk": delivery.sk,
            "kind": "delivery",
            "job_id": delivery.job_id,
            "sequence": delivery.sequence,
            "trigger": delivery.trigger.value,
            "job_status": delivery.job_status,
            "url": delivery.url,
            "body": delivery.body,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "due_at": delivery.due_at,
            "gsi2pk": keys.HOOKS_DUE_GSI,
            "gsi2sk": due_key,
            "expires_at": _expires_at(now),
        }
        try:
            self.table.transact(
                [
                    {
                        "Update": {
                            "Key": {"pk": keys.hook_pk(delivery.job_id), "sk": keys.HOOK_STATE_SK},
                            "UpdateExpression": expression,
                            "ConditionExpression": condition,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
            )
        except TransactionCancelled:
            return None
        return _delivery(item)

    # -- reads --------------------------------------------------------------------------------------------------------

    def state(self, job_id: str) -> HookState:
        item = self.table.get(keys.hook_pk(job_id), keys.HOOK_STATE_SK) or {}
        return HookState(
            latest=item.get("latest"), delivered=item.get("delivered"), terminal=item.get("terminal_at") is not None
        )

    def get(self, job_id: str, sequence: str) -> Delivery | None:
        item = self.table.get(keys.hook_pk(job_id), keys.delivery_sk(sequence))
        return _delivery(item) if item else None

    def deliveries(self, job_id: str) -> list[Delivery]:
        """Every delivery of a job, in feed order."""
        items = self.table.query_all(
            "pk = :pk AND begins_with(sk, :prefix)",
            vals={":pk": keys.hook_pk(job_id), ":prefix": keys.DELIVERY_SK_PREFIX},
        )
        return [_delivery(i) for i in items]

    def attempts(self, job_id: str, sequence: str) -> list[Attempt]:
        prefix = keys.attempt_sk(sequence, 0)[:-3]
        items = self.table.query_all(
            "pk = :pk AND begins_with(sk, :prefix)", vals={":pk": keys.hook_pk(job_id), ":prefix": prefix}
        )
        return [
            Attempt(
                number=int(i["attempt"]),
                at=int(i["at"]),
                outcome=Outcome(i["outcome"]),
                duration_ms=int(i.get("duration_ms", 0)),
                http_status=i.get("http_status"),
                error_code=i.get("error_code"),
                error=i.get("error"),
                address=i.get("address"),
            )
            for i in items
        ]

    def due(self, now: int, limit: int) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest first."""
        items, _ = self.table.query(
            "gsi2pk = :p AND gsi2sk < :until",
            vals={":p": keys.HOOKS_DUE_GSI, ":until": keys.due_until(now)},
            index="gsi2",
            limit=limit,
        )
        return [_delivery(i) for i in items]

    def dead_letters(self, limit: int = 100) -> list[Delivery]:
        """Deliveries that gave up, newest first."""
        items, _ = self.table.query(
            "gsi2pk = :p", vals={":p": keys.HOOKS_DEAD_GSI}, index="gsi2", forward=False, limit=limit
        )
        return [_delivery(i) for i in items]

    # -- transitions --------------------------------------------------------------------------------------------------

    def claim(self, delivery: Delivery, *, until: int) -> Delivery | None:
        """Take a due delivery for one attempt: its due time moves to ``until`` (if the attempt dies, the drain takes
        it again then). None if another drainer took it first or it is no longer pending."""
        assert delivery.due_key is not None
        new_key = keys.hook_due_sort_key(until, delivery.job_id, delivery.sequence)
        try:
            self.table.update(
                keys.hook_pk(delivery.job_id),
                delivery.sk,
                "SET gsi2sk = :new, due_at = :until",
                condition="gsi2sk = :seen AND #state = :pending",
                names={"#state": "state"},
                vals={":new": new_key, ":until": until, ":seen": delivery.due_key, ":pending": "pending"},
                return_item=False,
            )
        except ConditionFailed:
            return None
        return replace(delivery, due_at=until, due_key=new_key)

    def revive(self, delivery: Delivery, *, now: int) -> Delivery | None:
        """A dead letter back into the due index for one more attempt (an operator fixed the receiver). None if it
        is not dead (any more): a second revive, or one racing with the first, changes nothing."""
        due_key = keys.hook_due_sort_key(now, delivery.job_id, delivery.sequence)
        try:
            self.table.update(
                keys.hook_pk(delivery.job_id),
                delivery.sk,
                "SET #state = :pending, due_at = :now, gsi2pk = :due, gsi2sk = :key, updated_at = :now",
                condition="#state = :dead",
                names={"#state": "state"},
                vals={
                    ":pending": DeliveryState.PENDING.value,
                    ":dead": DeliveryState.DEAD.value,
                    ":now": now,
                    ":due": keys.HOOKS_DUE_GSI,
                    ":key": due_key,
                },
                return_item=False,
            )
        except ConditionFailed:
            return None
        return replace(delivery, state=DeliveryState.PENDING, due_at=now, due_key=due_key)

    def close(self, delivery: Delivery, state: DeliveryState, *, now: int) -> bool:
        """A pending delivery leaves the due index without an attempt (superseded)."""
        try:
            self.table.update(
                keys.hook_pk(delivery.job_id),
                delivery.sk,
                "SET #state = :state, updated_at = :now REMOVE gsi2pk, gsi2sk",
                condition="#state = :pending AND attempts = :attempts",
                names={"#state": "state"},
                vals={":state": state.value, ":now": now, ":pending": "pending", ":attempts": delivery.attempts},
                return_item=False,
            )
        except ConditionFailed:
            return False
        return True

    def record_attempt(self, delivery: Delivery, attempt: Attempt, *, next_due: int | None, max_attempts: int) -> bool:
        """Record ``attempt`` and move the delivery on: delivered, refused, due again at ``next_due``, or dead after
        ``max_attempts``. False if this attempt number was already recorded (a racing attempter)."""
        pk = keys.hook_pk(delivery.job_id)
        attempt_item = {
            "pk": pk,
            "sk": keys.attempt_sk(delivery.sequence, attempt.number),
            "kind": "attempt",
            "job_id": delivery.job_id,
            "sequence": delivery.sequence,
            "attempt": attempt.number,
            "at": attempt.at,
            "outcome": attempt.outcome.value,
            "duration_ms": attempt.duration_ms,
            "http_status": attempt.http_status,
            "error_code": attempt.error_code,
            "error": attempt.error,
            "address": attempt.address,
            "expires_at": _expires_at(attempt.at),
        }
        if attempt.outcome is Outcome.DELIVERED:
            state = DeliveryState.DELIVERED
        elif attempt.outcome is Outcome.REFUSED:
            state = DeliveryState.REFUSED
        elif attempt.number >= max_attempts or next_due is None:
            state = DeliveryState.DEAD
        else:
            state = DeliveryState.PENDING
        vals: dict[str, Any] = {
            ":n": attempt.number,
            ":prev": attempt.number - 1,
            ":state": state.value,
            ":pending": DeliveryState.PENDING.value,
            ":now": attempt.at,
            ":outcome": attempt.outcome.value,
        }
        expression = "SET attempts = :n, #state = :state, updated_at = :now, last_outcome = :outcome"
        if attempt.http_status is not None:
            expression += ", last_http_status = :http"
            vals[":http"] = attempt.http_status
        if attempt.error_code is not None:
            expression += ", last_error = :err"
            vals[":err"] = attempt.error_code
        if state is DeliveryState.PENDING:
            assert next_due is not None
            expression += ", due_at = :due, gsi2sk = :due_key"
            vals[":due"] = next_due
            vals[":due_key"] = keys.hook_due_sort_key(next_due, delivery.job_id, delivery.sequence)
        elif state is DeliveryState.DEAD:
            expression += ", gsi2pk = :dead, gsi2sk = :dead_key REMOVE due_at"
            vals[":dead"] = keys.HOOKS_DEAD_GSI
            vals[":dead_key"] = keys.hook_due_sort_key(attempt.at, delivery.job_id, delivery.sequence)
        else:
            expression += " REMOVE gsi2pk, gsi2sk, due_at"
        try:
            self.table.transact(
                [
                    {"Put": {"Item": attempt_item, "ConditionExpression": "attribute_not_exists(pk)"}},
                    {
                        "Update": {
                            "Key": {"pk": pk, "sk": delivery.sk},
                            "UpdateExpression": expression,
                            "ConditionExpression": "#state = :pending AND attempts = :prev",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": vals,
                        }
                    },
                ]
            )
        except TransactionCancelled:
            return False
        if state is DeliveryState.DELIVERED:
            self._mark_delivered(delivery)
        return True

    def _mark_delivered(self, delivery: Delivery) -> None:
        with contextlib.suppress(ConditionFailed):  # a later delivery already arrived
            self.table.update(
                keys.hook_pk(delivery.job_id),
                keys.HOOK_STATE_SK,
                "SET delivered = :sk",
                condition="attribute_not_exists(delivered) OR delivered < :sk",
                vals={":sk": delivery.sk},
                return_item=False,
            )
