"""One relay per account: a lease item in the table, renewed while the session runs.

Fargate's deployment settings already stop the old task first; the lease makes two gateway sessions on one account
impossible even when an operator starts a second relay by hand, or a killed task's replacement starts early.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from mjapi.clock import now_ms
from mjapi.store import keys
from mjapi.store.table import ConditionFailed, Table


def acquire(table: Table, account_id: str, owner: str, seconds: float) -> bool:
    now = now_ms()
    try:
        table.put(
            {
                "pk": keys.lease_pk(account_id),
                "sk": keys.LEASE_SK,
                "owner": owner,
                "lease_until": now + int(seconds * 1000),
                "expires_at": now // 1000 + int(seconds) + 3600,
            },
            condition="attribute_not_exists(pk) OR lease_until < :now OR #owner = :me",
            names={"#owner": "owner"},
            vals={":now": now, ":me": owner},
        )
    except ConditionFailed:
        return False
    return True


def release(table: Table, account_id: str, owner: str) -> None:
    with contextlib.suppress(ConditionFailed):
        table.update(
            keys.lease_pk(account_id),
            keys.LEASE_SK,
            "SET lease_until = :zero",
            condition="#owner = :me",
            names={"#owner": "owner"},
            vals={":zero": 0, ":me": owner},
        )


@dataclass(frozen=True)
class Holder:
    owner: str
    lease_until_ms: int


def holders(table: Table, account_ids: Sequence[str]) -> dict[str, Holder]:
    """The current lease of each account that has one (batched reads; released or expired leases included)."""
    by_pk = {keys.lease_pk(a): a for a in account_ids}
    items = table.batch_get([(pk, keys.LEASE_SK) for pk in by_pk])
    return {
        by_pk[str(i["pk"])]: Holder(str(i.get("owner", "")), int(i.get("lease_until", 0)))
        for i in items
        if str(i.get("pk")) in by_pk
    }
