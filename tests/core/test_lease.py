"""The relay lease: one owner per account at a time, taken over only after expiry or release."""

from __future__ import annotations

from gateway_relay import lease
from mjapi.store import keys
from mjapi.store.table import Table


def test_one_owner_per_account_until_release(table: Table) -> None:
    assert lease.acquire(table, "a1", "relay-1", 30)
    assert lease.acquire(table, "a1", "relay-1", 30)  # renewal by the holder
    assert not lease.acquire(table, "a1", "relay-2", 30)
    assert lease.acquire(table, "a2", "relay-2", 30)  # other accounts are independent
    item = table.get(keys.lease_pk("a1"), keys.LEASE_SK)
    assert item is not None and item["owner"] == "relay-1"
    lease.release(table, "a1", "relay-2")  # not the holder: no effect
    assert not lease.acquire(table, "a1", "relay-2", 30)
    lease.release(table, "a1", "relay-1")
    assert lease.acquire(table, "a1", "relay-2", 30)


def test_an_expired_lease_can_be_taken_over(table: Table) -> None:
    assert lease.acquire(table, "a1", "relay-1", -1)  # already past its end: the holder died
    assert lease.acquire(table, "a1", "relay-2", 30)
