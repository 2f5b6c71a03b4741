"""Job items and their transitions. Each transition is conditional on the job's current status, so a duplicate or
replayed gateway event can never apply twice, and a slot is released exactly once."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mjapi.clock import now_ms, now_s
from mjapi.models import ACTIVE_STATUSES, Job, JobStatus
from mjapi.settings import get_settings
from mjapi.store import keys
from mjapi.store.accounts import release_slot_operation, reserve_slot_operation
from mjapi.store.table import ConditionFailed, Table, TransactionCancelled
from mjapi.store.tokens import charge_operation, refund_operation, release_operation

_ACTIVE = tuple(sorted(s.value for s in ACTIVE_STATUSES))
_REF_TTL_SECONDS = 3 * 86400

#: A reference to write with a job's transition: ``(kind, key)``, kind one of ``keys.REF_KINDS``.
Ref = tuple[str, str]


class QueueFull(Exception):
    pass


class TokenRejected(Exception):
    """The token has no uses left or expired between the check and the charge."""


class InvalidCursor(ValueError):
    """A history cursor that is not the ``next_cursor`` of a previous page."""


class SlotTaken(Exception):
    """The chosen account had no free slot (or stopped being usable) when we tried to reserve it."""


class JobExists(Exception):
    """The job id is taken by a job that is not a MODAL placeholder of the same token (a form submitted twice)."""


# Nested documents we never query into are stored as JSON text: one string attribute instead of deep lists of maps
# (cheaper to (de)serialise for boto3 and DynamoDB alike, and the item stays small).
DOCUMENT_FIELDS = ("images", "videos", "buttons", "prompts", "info", "options")


def encode_documents(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v, separators=(",", ":"), ensure_ascii=False) if k in DOCUMENT_FIELDS and v is not None else v
        for k, v in fields.items()
    }


def job_item(job: Job) -> dict[str, Any]:
    data = encode_documents(job.model_dump(mode="json", exclude_none=True))
    item: dict[str, Any] = {"pk": keys.job_pk(job.id), "sk": keys.JOB_SK, **data}
    if job.token_hash:
        item["gsi1pk"] = keys.history_pk(job.token_hash)
        item["gsi1sk"] = keys.time_sort_key(job.created_at, job.id)
    gsi2 = _gsi2_for(job)
    if gsi2:
        item["gsi2pk"], item["gsi2sk"] = gsi2
    retention = get_settings().job_retention_days
    if retention > 0:
        item["expires_at"] = now_s() + retention * 86400
    return item


def _gsi2_for(job: Job) -> tuple[str, str] | None:
    if job.status == JobStatus.QUEUED and job.queue_key:
        return keys.queue_gsi(job.queue_key), keys.time_sort_key(job.created_at, job.id)
    if job.status in ACTIVE_STATUSES and job.account_id:
        return keys.active_gsi(job.account_id), keys.time_sort_key(job.submitted_at or job.created_at, job.id)
    if job.status == JobStatus.MODAL:
        return keys.MODALS_GSI, keys.time_sort_key(job.created_at, job.id)
    return None


_JOB_FIELDS = frozenset(Job.model_fields)  # read once: pydantic's class property costs a call per access


def to_job(item: Mapping[str, Any]) -> Job:
    data = {k: v for k, v in item.items() if k in _JOB_FIELDS}
    for name in DOCUMENT_FIELDS:
        if isinstance(data.get(name), str):
            data[name] = json.loads(data[name])
    return Job.model_validate(data)


def ref_put_operation(kind: str, key: str, job_id: str) -> dict[str, object]:
    pk = keys.ref_pk(kind, key)
    return {
        "Put": {
            "Item": {"pk": pk, "sk": keys.REF_SK, "job_id": job_id, "expires_at": now_s() + _REF_TTL_SECONDS},
        }
    }


def _create_operation(job: Job) -> dict[str, object]:
    """Write a new job. The id must be free, or hold the MODAL placeholder of the same token: a form submitted through
    /mj/submit/modal turns its placeholder into the real job under the same id, exactly once."""
    return {
        "Put": {
            "Item": job_item(job),
            "ConditionExpression": "attribute_not_exists(pk) OR (#status = :modal AND token_hash = :owner)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":modal": JobStatus.MODAL.value, ":owner": job.token_hash},
        }
    }


def _queue_push_operation(queue_key: str, limit: int) -> dict[str, object]:
    return {
        "Update": {
            "Key": {"pk": keys.queue_counter_pk(queue_key), "sk": keys.COUNTER_SK},
            "UpdateExpression": "ADD queue_depth :one SET gsi1pk = :gsi, gsi1sk = :key",
            "ConditionExpression": "attribute_not_exists(queue_depth) OR queue_depth < :limit",
            "ExpressionAttributeValues": {":one": 1, ":limit": limit, ":gsi": keys.QUEUES_GSI, ":key": queue_key},
        }
    }


def _queue_pop_operation(queue_key: str) -> dict[str, object]:
    return {
        "Update": {
            "Key": {"pk": keys.queue_counter_pk(queue_key), "sk": keys.COUNTER_SK},
            "UpdateExpression": "ADD queue_depth :minus",
            "ConditionExpression": "queue_depth >= :one",
            "ExpressionAttributeValues": {":minus": -1, ":one": 1},
        }
    }


class JobStore:
    def __init__(self, table: Table | None = None, *, max_active_per_token: int | None = None) -> None:
        """``max_active_per_token``: how many charged jobs one token may have running or queued at once (fair
        sharing: one flooding token cannot take every slot and queue place); default from the settings."""
        self.table = table or Table()
        self.max_active_per_token = (
            get_settings().max_active_per_token if max_active_per_token is None else max_active_per_token
        )

    def _charge(self, job: Job) -> dict[str, object]:
        return charge_operation(job.token_hash, now_s(), max_active=self.max_active_per_token)

    # -- creation ---------------------------------------------------------------------------------------------

    def create_running(self, job: Job, *, charge: bool, mode: str | None) -> None:
        """Charge the token (optional), reserve a slot on ``job.account_id`` (if the job needs one), write the job
        and its nonce reference, all in one transaction."""
        assert job.account_id
        assert job.nonce
        ops: list[Mapping[str, Any]] = []
        slot_index = token_index = -1
        if charge:
            token_index = len(ops)
            ops.append(self._charge(job))
        if job.holds_slot:
            slot_index = len(ops)
            ops.append(reserve_slot_operation(job.account_id, bot=job.bot.value, mode=mode))
        put_index = len(ops)
        ops.append(_create_operation(job.model_copy(update={"counted": charge})))
        ops.append(ref_put_operation("nonce", job.nonce, job.id))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if token_index >= 0 and exc.failed(token_index):
                raise TokenRejected from exc
            if slot_index >= 0 and exc.failed(slot_index):
                raise SlotTaken from exc
            if exc.failed(put_index):
                raise JobExists(job.id) from exc
            raise

    def create_queued(self, job: Job, *, charge: bool, limit: int) -> None:
        """Charge the token and park the job in its queue, refusing when the queue is at ``limit``."""
        assert job.queue_key
        assert job.status == JobStatus.QUEUED
        ops: list[Mapping[str, Any]] = []
        if charge:
            ops.append(self._charge(job))
        queue_index = len(ops)
        ops.append(_queue_push_operation(job.queue_key, limit))
        ops.append(_create_operation(job.model_copy(update={"counted": charge})))
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if charge and exc.failed(0):
                raise TokenRejected from exc
            if exc.failed(queue_index):
                raise QueueFull from exc
            if exc.failed(queue_index + 1):
                raise JobExists(job.id) from exc
            raise

    def create_modal(self, job: Job) -> None:
        """Record a MODAL placeholder: no slot, no queue place, no charge (the form's submission is charged)."""
        assert job.status == JobStatus.MODAL
        try:
            self.table.put(job_item(job), condition="attribute_not_exists(pk)")
        except ConditionFailed as exc:
            raise JobExists(job.id) from exc

    def claim_queued(
        self, job: Job, *, account_id: str, channel_id: str, guild_id: str | None, nonce: str, mode: str | None
    ) -> Job:
        """Move a queued job onto an account: reserve the slot, pop the queue counter, make it submitted."""
        assert job.queue_key
        now = now_ms()
        claimed = job.model_copy(
            update={
                "status": JobStatus.SUBMITTED,
                "account_id": account_id,
                "channel_id": channel_id,
                "guild_id": guild_id,
                "nonce": nonce,
                "holds_slot": True,
                "submitted_at": now,
                "updated_at": now,
            }
        )
        gsi2pk, gsi2sk = _gsi2_for(claimed) or ("", "")
        ops: list[Mapping[str, Any]] = [
            reserve_slot_operation(account_id, bot=job.bot.value, mode=mode),
            _queue_pop_operation(job.queue_key),
            {
                "Update": {
                    "Key": {"pk": keys.job_pk(job.id), "sk": keys.JOB_SK},
                    "UpdateExpression": "SET #status = :submitted, account_id = :acct, channel_id = :chan, "
                    "guild_id = :guild, nonce = :nonce, holds_slot = :true, submitted_at = :now, updated_at = :now, "
                    "gsi2pk = :g2pk, gsi2sk = :g2sk",
                    "ConditionExpression": "#status = :queued",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":submitted": JobStatus.SUBMITTED.value,
                        ":queued": JobStatus.QUEUED.value,
                        ":acct": account_id,
                        ":chan": channel_id,
                        ":guild": guild_id or "",
                        ":nonce": nonce,
                        ":true": True,
                        ":now": now,
                        ":g2pk": gsi2pk,
                        ":g2sk": gsi2sk,
                    },
                }
            },
            ref_put_operation("nonce", nonce, job.id),
        ]
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if exc.failed(0):
                raise SlotTaken from exc
            raise ConditionFailed("job is no longer queued") from exc
        return claimed

    # -- reads ------------------------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        item = self.table.get(keys.job_pk(job_id), keys.JOB_SK)
        return to_job(item) if item else None

    def get_many(self, job_ids: Sequence[str]) -> list[Job]:
        items = self.table.batch_get([(keys.job_pk(i), keys.JOB_SK) for i in job_ids])
        by_id = {item["id"]: to_job(item) for item in items}
        return [by_id[i] for i in job_ids if i in by_id]

    def resolve_ref(self, kind: str, key: str) -> str | None:
        item = self.table.get(keys.ref_pk(kind, key), keys.REF_SK)
        return str(item["job_id"]) if item else None

    def put_ref(self, kind: str, key: str, job_id: str) -> None:
        op = ref_put_operation(kind, key, job_id)["Put"]
        assert isinstance(op, dict)
        self.table.put(op["Item"])

    def put_refs(self, refs: Sequence[Ref], job_id: str) -> None:
        for kind, key in dict.fromkeys(refs):
            self.put_ref(kind, key, job_id)

    def history(self, token_hash: str, *, limit: int, cursor: str | None = None) -> tuple[list[Job], str | None]:
        """Newest first; ``cursor`` is the ``gsi1sk`` of the last job of the previous page (opaque to clients).
        Raises InvalidCursor when ``cursor`` is not such a key."""
        start = None
        if cursor is not None:
            after = keys.parse_time_sort_key(cursor)
            if after is None:
                raise InvalidCursor(cursor)
            start = {
                "pk": keys.job_pk(after.item_id),
                "sk": keys.JOB_SK,
                "gsi1pk": keys.history_pk(token_hash),
                "gsi1sk": keys.time_sort_key(after.ts, after.item_id),
            }
        items, last = self.table.query(
            "gsi1pk = :p",
            vals={":p": keys.history_pk(token_hash)},
            index="gsi1",
            forward=False,
            limit=limit,
            start_key=start,
        )
        return [to_job(i) for i in items], (str(last["gsi1sk"]) if last else None)

    def queued(self, queue_key: str, *, limit: int = 10) -> list[Job]:
        """Oldest first."""
        items, _ = self.table.query("gsi2pk = :p", vals={":p": keys.queue_gsi(queue_key)}, index="gsi2", limit=limit)
        return [to_job(i) for i in items]

    def modal_placeholders(self, *, limit: int = 100) -> list[Job]:
        """MODAL placeholders still waiting for their form, oldest first."""
        items, _ = self.table.query("gsi2pk = :p", vals={":p": keys.MODALS_GSI}, index="gsi2", limit=limit)
        return [to_job(i) for i in items]

    def active(self, account_id: str) -> list[Job]:
        items = self.table.query_all("gsi2pk = :p", vals={":p": keys.active_gsi(account_id)}, index="gsi2")
        return [to_job(i) for i in items]

    def queue_depths(self) -> dict[str, int]:
        items = self.table.query_all("gsi1pk = :p", vals={":p": keys.QUEUES_GSI}, index="gsi1")
        return {str(i["gsi1sk"]): int(i.get("queue_depth", 0)) for i in items}

    # -- transitions ------------------------------------------------------------------------------------------

    def update_fields(
        self,
        job_id: str,
        fields: Mapping[str, Any],
        *,
        allowed: Iterable[JobStatus] | None = None,
        extra_condition: str | None = None,
        extra_values: Mapping[str, Any] | None = None,
    ) -> Job:
        """SET ``fields`` (plus updated_at) if the job's status is one of ``allowed``; returns the updated job.
        Raises ConditionFailed."""
        item = self._update(job_id, fields, allowed, extra_condition, extra_values, return_item=True)
        return to_job(item)

    def set_fields(
        self,
        job_id: str,
        fields: Mapping[str, Any],
        *,
        allowed: Iterable[JobStatus] | None = None,
        extra_condition: str | None = None,
        extra_values: Mapping[str, Any] | None = None,
        refs: Sequence[Ref] = (),
    ) -> bool:
        """Like ``update_fields`` for hot paths that need no result: True if applied, False if the condition
        (status, monotonic progress...) did not hold.

        ``refs`` (``(kind, key)`` pairs pointing at this job) are written in the same call: one transaction instead
        of an update plus a put per reference. When the condition fails they are still written on their own, since a
        reference names the job whatever its state."""
        if not refs:
            try:
                self._update(job_id, fields, allowed, extra_condition, extra_values, return_item=False)
            except ConditionFailed:
                return False
            return True
        update = self._update_operation(job_id, fields, allowed, extra_condition, extra_values)
        unique = list(dict.fromkeys(refs))
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self.table.transact([update, *(ref_put_operation(kind, key, job_id) for kind, key in unique)])
            except TransactionCancelled as exc:
                if exc.conflicted:
                    _conflict_pause(attempt)
                    continue  # another transaction held the job for a moment (DynamoDB only)
                if not exc.failed(0):
                    raise
                break
            else:
                return True
        self.put_refs(unique, job_id)
        return False

    def _update(
        self,
        job_id: str,
        fields: Mapping[str, Any],
        allowed: Iterable[JobStatus] | None,
        extra_condition: str | None,
        extra_values: Mapping[str, Any] | None,
        *,
        return_item: bool,
    ) -> dict[str, Any]:
        spec = self._update_operation(job_id, fields, allowed, extra_condition, extra_values)["Update"]
        return self.table.update(
            keys.job_pk(job_id),
            keys.JOB_SK,
            spec["UpdateExpression"],
            condition=spec["ConditionExpression"],
            names=spec["ExpressionAttributeNames"],
            vals=spec["ExpressionAttributeValues"],
            return_item=return_item,
        )

    @staticmethod
    def _update_operation(
        job_id: str,
        fields: Mapping[str, Any],
        allowed: Iterable[JobStatus] | None,
        extra_condition: str | None,
        extra_values: Mapping[str, Any] | None,
    ) -> dict[str, dict[str, Any]]:
        expression, names, vals = _set_expression(encode_documents({**fields, "updated_at": now_ms()}))
        conditions = ["attribute_exists(pk)"]
        if allowed is not None:
            names["#status"] = "status"
            placeholders = []
            for n, status in enumerate(sorted(s.value for s in allowed)):
                vals[f":allowed{n}"] = status
                placeholders.append(f":allowed{n}")
            conditions.append(f"#status IN ({', '.join(placeholders)})")
        if extra_condition:
            conditions.append(f"({extra_condition})")
            vals.update(extra_values or {})
        return {
            "Update": {
                "Key": {"pk": keys.job_pk(job_id), "sk": keys.JOB_SK},
                "UpdateExpression": expression,
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": vals,
            }
        }

    def record_progress(
        self, job_id: str, progress: int, fields: Mapping[str, Any], *, refs: Sequence[Ref] = ()
    ) -> bool:
        """Monotonic: applies only if ``progress`` is higher than what is stored and the job is still active.
        ``refs`` as in ``set_fields``."""
        return self.set_fields(
            job_id,
            {**fields, "progress": progress, "status": JobStatus.RUNNING.value},
            allowed=ACTIVE_STATUSES,
            extra_condition="progress < :p",
            extra_values={":p": progress},
            refs=refs,
        )

    def finish(
        self,
        job: Job,
        status: JobStatus,
        fields: Mapping[str, Any] | None = None,
        *,
        refund: bool = False,
        refs: Sequence[Ref] = (),
    ) -> Job | None:
        """Move ``job`` to a terminal status exactly once, releasing its slot (or queue place) and optionally giving
        the token its use back. Returns the finished job, or None if another writer finished it first.

        No read first: the transaction is built from ``job`` as the caller knows it, and its condition checks every
        fact the side effects depend on (status, the slot held and on which account, the queue); only when ``job``
        turns out stale is the item read and the transaction built again. ``refs`` (references to this job, e.g. its
        result message) are written in the same transaction, so whoever finishes the job also records them."""
        assert status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
        current: Job | None = None if job.is_terminal else job
        unique = list(dict.fromkeys(refs))
        for attempt in range(5):
            if current is None:
                current = self.get(job.id)
                if current is None or current.is_terminal:
                    return None
            now = now_ms()
            updates = {
                **(fields or {}),
                "status": status.value,
                "finished_at": now,
                "updated_at": now,
                "holds_slot": False,
            }
            ops = [self._finish_operation(current, updates), *self._release_operations(current, refund=refund)]
            ops.extend(ref_put_operation(kind, key, job.id) for kind, key in unique)
            try:
                self.table.transact(ops)
            except TransactionCancelled as exc:
                if exc.failed(0):
                    current = None
                    continue  # the job moved under us (or we knew it stale): read it and decide again
                if exc.conflicted:
                    _conflict_pause(attempt)
                    continue  # another transaction held the account or token item: try again
                raise
            return Job.model_validate(
                {**current.model_dump(), **{k: v for k, v in updates.items() if k in _JOB_FIELDS}}
            )
        return None

    @staticmethod
    def _finish_operation(current: Job, updates: Mapping[str, Any]) -> dict[str, object]:
        """The job's terminal write, on condition that it still is what ``current`` says in every respect the release
        depends on."""
        expression, names, vals = _set_expression(encode_documents(updates), remove=("gsi2pk", "gsi2sk"))
        names["#cur"] = "status"
        if current.status in (JobStatus.QUEUED, JobStatus.MODAL):  # neither holds a slot
            condition = "#cur = :cur_waiting"
            vals[":cur_waiting"] = current.status.value
            if current.status == JobStatus.QUEUED and current.queue_key:
                condition += " AND queue_key = :cur_queue"
                vals[":cur_queue"] = current.queue_key
        else:
            condition = f"#cur IN ({', '.join(f':a{n}' for n in range(len(_ACTIVE)))}) AND holds_slot = :held"
            vals.update({f":a{n}": s for n, s in enumerate(_ACTIVE)})
            vals[":held"] = current.holds_slot
            if current.holds_slot and current.account_id:
                condition += " AND account_id = :cur_account"
                vals[":cur_account"] = current.account_id
        return {
            "Update": {
                "Key": {"pk": keys.job_pk(current.id), "sk": keys.JOB_SK},
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": vals,
            }
        }

    @staticmethod
    def _release_operations(current: Job, *, refund: bool) -> list[Mapping[str, Any]]:
        """What ending ``current`` gives back: its queue place or slot, and its token's count (or use)."""
        ops: list[Mapping[str, Any]] = []
        if current.status == JobStatus.QUEUED and current.queue_key:
            ops.append(_queue_pop_operation(current.queue_key))
        elif current.holds_slot and current.account_id:
            ops.append(release_slot_operation(current.account_id))
        if current.counted and current.token_hash:
            ops.append(release_operation(current.token_hash, refund=refund))
        elif refund and current.token_hash:
            ops.append(refund_operation(current.token_hash))
        return ops

    def requeue(self, job: Job, queue_key: str) -> Job | None:
        """Put an active job back in a queue (its account can no longer run it), freeing its slot. The token is not
        charged again. Returns None if the job already moved on."""
        current = self.get(job.id)
        if current is None or current.status not in ACTIVE_STATUSES:
            return None
        now = now_ms()
        ops: list[Mapping[str, Any]] = [
            {
                "Update": {
                    "Key": {"pk": keys.job_pk(job.id), "sk": keys.JOB_SK},
                    "UpdateExpression": "SET #status = :queued, queue_key = :qk, holds_slot = :false, "
                    "progress = :zero, updated_at = :now, gsi2pk = :g2pk, gsi2sk = :g2sk, "
                    "requeues = if_not_exists(requeues, :zero) + :one "
                    "REMOVE account_id, nonce, message_id, interaction_id, channel_id, guild_id, preview_url",
                    "ConditionExpression": f"#status IN ({', '.join(f':a{n}' for n in range(len(_ACTIVE)))}) "
                    "AND holds_slot = :held",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":queued": JobStatus.QUEUED.value,
                        ":qk": queue_key,
                        ":false": False,
                        ":zero": 0,
                        ":one": 1,
                        ":now": now,
                        ":g2pk": keys.queue_gsi(queue_key),
                        ":g2sk": keys.time_sort_key(current.created_at, current.id),
                        ":held": current.holds_slot,
                        **{f":a{n}": s for n, s in enumerate(_ACTIVE)},
                    },
                }
            },
            _queue_push_operation(queue_key, 1_000_000),
        ]
        if current.holds_slot and current.account_id:
            ops.append(release_slot_operation(current.account_id))
        try:
            self.table.transact(ops)
        except TransactionCancelled:
            return None
        return self.get(job.id)

    def add_child(self, parent_id: str, child_id: str) -> None:
        self.table.update(
            keys.job_pk(parent_id),
            keys.JOB_SK,
            "SET children = list_append(if_not_exists(children, :empty), :child)",
            condition="attribute_exists(pk)",
            vals={":empty": [], ":child": [child_id]},
        )


_CONFLICT_ATTEMPTS = 5


def _conflict_pause(attempt: int) -> None:
    time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # jitter


def _set_expression(
    fields: Mapping[str, Any], remove: Sequence[str] = ()
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``SET`` every field with a value and ``REMOVE`` the ``None`` ones (plus ``remove``), in one expression."""
    names: dict[str, str] = {}
    vals: dict[str, Any] = {}
    parts: list[str] = []
    removes: list[str] = list(remove)
    for n, (name, value) in enumerate(fields.items()):
        names[f"#f{n}"] = name
        if value is None:
            removes.append(f"#f{n}")
            continue
        vals[f":v{n}"] = value
        parts.append(f"#f{n} = :v{n}")
    expression = "SET " + ", ".join(parts)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression, names, vals
