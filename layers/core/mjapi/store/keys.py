"""Key layout of the single table (documented in docs/DATA.md): the only module that spells a key.

Every partition key, sort key and GSI key value is built here; the rest of the code derives its keys from these
functions, so the layout can be read (and changed) in one place.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# -- sort keys of the one-item partitions ---------------------------------------------------------------------------

JOB_SK = "JOB"
REF_SK = "REF"
ACCOUNT_SK = "ACCOUNT"
TOKEN_SK = "APITOKEN"  # noqa: S105 - a sort key, not a secret
COUNTER_SK = "COUNTER"
LEASE_SK = "LEASE"

# -- partition keys -------------------------------------------------------------------------------------------------


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def token_pk(token_hash: str) -> str:
    return f"APITOKEN#{token_hash}"


def lease_pk(account_id: str) -> str:
    """The relay lease of one account (one gateway session per account)."""
    return f"LEASE#{account_id}"


RELAYS_PK = "RELAYS"  # the live relay processes, one item each: the lease balancing's membership


def relay_member_sk(owner_id: str) -> str:
    """One relay process's membership item (under ``RELAYS_PK``), renewed while it runs."""
    return f"RELAY#{owner_id}"


def nonce_pk(nonce: str) -> str:
    return f"NONCE#{nonce}"


def message_pk(message_id: str) -> str:
    return f"MSG#{message_id}"


def interaction_pk(interaction_id: str) -> str:
    return f"INTERACTION#{interaction_id}"


def hash_pk(message_hash: str) -> str:
    return f"HASH#{message_hash}"


REF_KINDS = {"nonce": nonce_pk, "message": message_pk, "interaction": interaction_pk, "hash": hash_pk}


def ref_pk(kind: str, key: str) -> str:
    return REF_KINDS[kind](key)


def queue_counter_pk(queue_key: str) -> str:
    return f"QUEUECOUNT#{queue_key}"


# -- GSI partition keys ---------------------------------------------------------------------------------------------


def history_pk(token_hash: str) -> str:
    """gsi1: the jobs of one API token (history)."""
    return f"TOKEN#{token_hash}"


def queue_gsi(queue_key: str) -> str:
    """gsi2: the jobs waiting in one queue (sparse: only while queued)."""
    return f"QUEUE#{queue_key}"


def active_gsi(account_id: str) -> str:
    """gsi2: the jobs running on one account (sparse: only while active; the reaper reads it)."""
    return f"ACTIVE#{account_id}"


MODALS_GSI = "MODALS"  # gsi2: /mj MODAL placeholders waiting for their form (sparse; the reaper expires them)
ACCOUNTS_GSI = "ACCOUNTS"
QUEUES_GSI = "QUEUES"

# -- time-ordered sort keys -----------------------------------------------------------------------------------------

# A millisecond timestamp zero-padded to 15 digits sorts as text in time order; the id makes the key unique.
_TIME_DIGITS = 15
_TIME_SORT_KEY = re.compile(r"([0-9]{15})#([0-9]{1,64})")


class TimeSortKey(NamedTuple):
    ts: int
    item_id: str


def time_sort_key(ts: int, item_id: str) -> str:
    """``<ts:015d>#<id>``: the sort key of the history (gsi1), queue and active (gsi2) indexes."""
    return f"{ts:0{_TIME_DIGITS}d}#{item_id}"


def parse_time_sort_key(value: str) -> TimeSortKey | None:
    """The parts of a ``time_sort_key`` of a job (numeric id), or None if ``value`` is not one.

    The history cursor handed to clients is such a key, so this is also how a client's cursor is checked."""
    match = _TIME_SORT_KEY.fullmatch(value)
    return TimeSortKey(int(match[1]), match[2]) if match else None


# -- queue names ----------------------------------------------------------------------------------------------------

_ACCOUNT_QUEUE_PREFIX = "acct#"


def pool_queue_key(bot: str, mode: str | None) -> str:
    """Queue for jobs any account of a bot (and mode, if one was asked for) may take."""
    return f"{bot}#{mode or 'any'}"


def account_queue_key(account_id: str) -> str:
    """Queue for jobs pinned to one account (buttons on its own messages)."""
    return f"{_ACCOUNT_QUEUE_PREFIX}{account_id}"


def is_account_queue_key(queue_key: str) -> bool:
    return queue_key.startswith(_ACCOUNT_QUEUE_PREFIX)


# -- webhook deliveries (mjapi.webhooks) ----------------------------------------------------------------------------

HOOK_STATE_SK = "STATE"
DELIVERY_SK_PREFIX = "DELIVERY#"
HOOKS_DUE_GSI = "HOOKS#DUE"  # gsi2: deliveries waiting for an attempt (sparse: only while pending)
HOOKS_DEAD_GSI = "HOOKS#DEAD"  # gsi2: deliveries that gave up after the last retry (dead letters)
_SEQUENCE_DIGITS = 40  # DynamoDB stream sequence numbers have 21-40 digits


def hook_pk(job_id: str) -> str:
    """The webhook partition of one job: its delivery state, its deliveries and their attempts."""
    return f"HOOK#{job_id}"


def change_sequence(sequence: str) -> str:
    """A change-feed sequence number (digits) padded so that text order is feed order."""
    if not sequence.isdigit() or len(sequence) > _SEQUENCE_DIGITS:
        raise ValueError(f"not a change sequence number: {sequence!r}")
    return sequence.zfill(_SEQUENCE_DIGITS)


def rate_pk(token_hash: str) -> str:
    """A token's request counter for one time window (sort key: ``rate_sk``); expires with the window."""
    return f"RATE#{token_hash}"


def rate_sk(window: int) -> str:
    return f"W#{window}"


def delivery_sk(sequence: str) -> str:
    """One delivery: the change (by its feed sequence number) that is being sent."""
    return f"{DELIVERY_SK_PREFIX}{change_sequence(sequence)}"


def attempt_sk(sequence: str, attempt: int) -> str:
    """One attempt (1, 2, ...) at one delivery."""
    return f"ATTEMPT#{change_sequence(sequence)}#{attempt:03d}"


def hook_due_sort_key(due_ms: int, job_id: str, sequence: str) -> str:
    """gsi2 sort key of a pending (``HOOKS_DUE_GSI``) or dead (``HOOKS_DEAD_GSI``) delivery: time first."""
    return time_sort_key(due_ms, f"{job_id}#{change_sequence(sequence)}")


def due_until(now_ms: int) -> str:
    """Upper bound (exclusive) of the due keys at ``now_ms``: every ``hook_due_sort_key`` with a time <= now sorts
    below it."""
    return f"{now_ms + 1:0{_TIME_DIGITS}d}"
