"""Key layout of the single table (documented in docs/DATA.md)."""

from __future__ import annotations

JOB_SK = "JOB"
REF_SK = "REF"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def token_pk(token_hash: str) -> str:
    return f"APITOKEN#{token_hash}"


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


def history_pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


def queue_gsi(queue_key: str) -> str:
    return f"QUEUE#{queue_key}"


def active_gsi(account_id: str) -> str:
    return f"ACTIVE#{account_id}"


ACCOUNTS_GSI = "ACCOUNTS"
QUEUES_GSI = "QUEUES"


def pool_queue_key(bot: str, mode: str | None) -> str:
    """Queue for jobs any account of a bot (and mode, if one was asked for) may take."""
    return f"{bot}#{mode or 'any'}"


def account_queue_key(account_id: str) -> str:
    """Queue for jobs pinned to one account (buttons on its own messages)."""
    return f"acct#{account_id}"
