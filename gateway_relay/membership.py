"""Which relay processes are alive, and which accounts each should hold: the lease balancing.

The lease alone makes one session per account certain, but not a fair share: every relay would race for every account
and the first one up would take them all. So each relay also keeps a membership item (``keys.RELAYS_PK``) alive in the
table, and every relay computes the same owner for an account from the live members by rendezvous hashing: each
account goes to the member with the highest hash of (member, account). A member that stops beating drops out after
its TTL and only its own accounts move, spread over the survivors; a member that joins takes about 1/n of each.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from mjapi.clock import now_ms
from mjapi.store import keys
from mjapi.store.table import ConditionFailed, Table


@dataclass(frozen=True)
class Member:
    owner: str
    since_ms: int  # when this process first beat: a member is trusted to take over only once it has settled
    alive_until_ms: int
    accounts: str = ""  # digest of the accounts it is configured with (`accounts_digest`)


def accounts_digest(account_ids: Iterable[str]) -> str:
    """Which accounts a relay is configured with, in a few bytes: members with the same digest would each take the
    same accounts, so one may hand another the accounts that hash to it."""
    joined = "\x00".join(sorted(account_ids))
    return hashlib.blake2b(joined.encode(), digest_size=8).hexdigest()


def beat(table: Table, owner: str, seconds: float, since_ms: int, accounts: str = "") -> None:
    """Say ``owner`` (configured with the accounts of digest ``accounts``) is alive for ``seconds`` more (one put:
    no read)."""
    now = now_ms()
    table.put(
        {
            "pk": keys.RELAYS_PK,
            "sk": keys.relay_member_sk(owner),
            "owner": owner,
            "since": since_ms,
            "accounts": accounts,
            "alive_until": now + int(seconds * 1000),
            "expires_at": now // 1000 + int(seconds) + 3600,
        }
    )


def leave(table: Table, owner: str) -> None:
    """A clean stop: the others re-hash this member's accounts at their next look instead of after its TTL."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            keys.RELAYS_PK,
            keys.relay_member_sk(owner),
            "SET alive_until = :zero",
            condition="#owner = :me",
            names={"#owner": "owner"},
            vals={":zero": 0, ":me": owner},
        )


def live_members(table: Table, at_ms: int | None = None) -> list[Member]:
    """The members whose beat has not run out, sorted by owner (one query of a small partition)."""
    now = now_ms() if at_ms is None else at_ms
    items = table.query_all("pk = :pk", vals={":pk": keys.RELAYS_PK})
    members = [
        Member(str(i["owner"]), int(i.get("since", 0)), int(i.get("alive_until", 0)), str(i.get("accounts", "")))
        for i in items
        if int(i.get("alive_until", 0)) >= now
    ]
    return sorted(members, key=lambda m: m.owner)


def _score(owner: str, account_id: str) -> bytes:
    return hashlib.blake2b(f"{owner}\x00{account_id}".encode(), digest_size=8).digest()


def owner_of(account_id: str, owners: Iterable[str]) -> str | None:
    """The member that should hold ``account_id`` (rendezvous hashing); None when there is no member."""
    return max(owners, key=lambda owner: _score(owner, account_id), default=None)


def share(account_ids: Iterable[str], owners: Iterable[str], me: str) -> set[str]:
    """The accounts among ``account_ids`` that hash to ``me`` among ``owners`` (``me`` counts as a member)."""
    everyone = sorted({*owners, me})
    return {a for a in account_ids if owner_of(a, everyone) == me}
