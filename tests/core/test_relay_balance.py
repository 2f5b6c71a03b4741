"""Lease balancing: relays share the accounts by rendezvous hashing over the live members, a dead relay's accounts are
re-hashed over the survivors once its beat and leases run out, and a joining relay is handed its share.

Real :class:`Relay` instances against the real stores (SQLite and moto); their gateway URL refuses connections, so a
worker holds its account's lease (the fact under test) while its connection keeps retrying.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest

from gateway_relay import lease, membership
from gateway_relay.relay import Relay
from gateway_relay.settings import RelaySettings
from mjapi.clock import now_ms
from mjapi.secrets import clear_secrets_cache
from mjapi.service.context import Context
from mjapi.settings import get_settings
from mjapi.store import keys
from mjapi.store.table import ConditionFailed, Table

ACCOUNTS = [f"acct{n:02d}" for n in range(24)]
LEASE_SECONDS = 1.5
DEADLINE = 60.0  # generous: a loaded machine; nothing here measures speed


def test_membership_keys() -> None:
    assert (keys.RELAYS_PK, keys.relay_member_sk("r1")) == ("RELAYS", "RELAY#r1")


def test_rendezvous_shares_partition_the_accounts_and_a_departure_moves_only_its_own() -> None:
    owners = ["r1", "r2", "r3", "r4"]
    ids = [f"a{n}" for n in range(2000)]
    shares = {o: membership.share(ids, owners, o) for o in owners}
    assert sum(len(s) for s in shares.values()) == len(ids)
    assert set().union(*shares.values()) == set(ids)
    assert all(350 < len(s) < 650 for s in shares.values()), {o: len(s) for o, s in shares.items()}
    survivors = ["r1", "r2", "r4"]
    after = {o: membership.share(ids, survivors, o) for o in survivors}
    for owner in survivors:
        assert shares[owner] <= after[owner]  # nobody loses an account when another leaves
    assert set().union(*(after[o] - shares[o] for o in survivors)) == shares["r3"]


def test_members_beat_expire_and_leave(backend: Table) -> None:
    membership.beat(backend, "r1", 30, since_ms=1)
    membership.beat(backend, "r2", 30, since_ms=2)
    membership.beat(backend, "r3", -1, since_ms=3)  # its beat already ran out: a dead relay
    assert [m.owner for m in membership.live_members(backend)] == ["r1", "r2"]
    assert membership.live_members(backend)[0].since_ms == 1
    membership.leave(backend, "r2")
    membership.leave(backend, "nobody")  # no item: nothing to do
    assert [m.owner for m in membership.live_members(backend)] == ["r1"]


def test_lease_holders_are_read_in_one_batch(backend: Table) -> None:
    assert lease.acquire(backend, "a1", "r1", 30)
    assert lease.acquire(backend, "a2", "r2", 30)
    lease.release(backend, "a2", "r2")
    found = lease.holders(backend, ["a1", "a2", "a3"])
    assert set(found) == {"a1", "a2"}
    assert found["a1"].owner == "r1" and found["a1"].lease_until_ms > now_ms()
    assert found["a2"].lease_until_ms == 0


# -- real relays ------------------------------------------------------------------------------------------------


class Severable:
    """The relay's view of the table, cut at will: a crashed relay (or one cut off from the table) renews nothing,
    releases nothing and leaves no membership behind, so its leases and beat simply run out."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self.cut = False
        self.refuse_leases = False  # every lease looks held by someone else (the relay cannot take one)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._table, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.cut:
                raise ConnectionError("the relay is gone")
            if self.refuse_leases and name == "put" and str(args[0].get("pk", "")).startswith("LEASE#"):
                raise ConditionFailed
            return attr(*args, **kwargs)

        return call


@pytest.fixture
def accounts(backend: Table, monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    raw = [{"id": a, "token": f"token-{a}", "channel_id": f"c-{a}", "guild_id": "g1"} for a in ACCOUNTS]
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": "k" * 20, "accounts": raw}))
    get_settings.cache_clear()
    clear_secrets_cache()
    yield backend
    clear_secrets_cache()


class Fleet:
    """Relays in one event loop, each with its own owner id and severable table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.relays: dict[str, Relay] = {}
        self.tables: dict[str, Severable] = {}
        self.runs: dict[str, asyncio.Task[None]] = {}

    def start(self, owner: str) -> Relay:
        settings = RelaySettings(
            owner_id=owner,
            lease_seconds=LEASE_SECONDS,
            gateway_url="ws://127.0.0.1:9",  # refused: the connection keeps retrying, the lease is held
            health_file="",
            metrics_interval_seconds=0,
            catch_up_messages=0,
            dispatch_interval_seconds=3600,
            reap_interval_seconds=3600,
        )
        severable = Severable(self.table)
        ctx = Context.current()
        ctx.table = cast(Table, severable)
        relay = Relay(settings, ctx=ctx)
        self.relays[owner], self.tables[owner] = relay, severable
        self.runs[owner] = asyncio.create_task(relay.run())
        return relay

    async def crash(self, owner: str) -> None:
        """Cut the relay off, then tear its tasks down (nothing it does reaches the table any more)."""
        self.tables[owner].cut = True
        relay = self.relays.pop(owner)
        relay.request_stop()
        await asyncio.wait_for(self.runs.pop(owner), timeout=DEADLINE)

    async def stop_all(self) -> None:
        for relay in self.relays.values():
            relay.request_stop()
        await asyncio.wait_for(asyncio.gather(*self.runs.values(), return_exceptions=True), timeout=DEADLINE)

    def holders(self) -> dict[str, str]:
        """Account -> owner of a lease that is currently held."""
        now = now_ms()
        return {a: h.owner for a, h in lease.holders(self.table, ACCOUNTS).items() if h.lease_until_ms >= now}


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE} s: {what}")
        await asyncio.sleep(0.1)


def _balanced(fleet: Fleet, owners: list[str]) -> bool:
    held = fleet.holders()
    return len(held) == len(ACCOUNTS) and all(held[a] == membership.owner_of(a, owners) for a in ACCOUNTS)


def test_relays_share_the_accounts_and_survivors_take_a_dead_relays_share(accounts: Table) -> None:
    async def scenario() -> None:
        fleet = Fleet(accounts)
        owners = ["relay-a", "relay-b", "relay-c"]
        try:
            for owner in owners:
                fleet.start(owner)
            await _until(lambda: _balanced(fleet, owners), "every account held by the relay it hashes to")
            spread = Counter(fleet.holders().values())
            assert set(spread) == set(owners) and all(n >= 2 for n in spread.values()), spread
            await _until(  # and each relay ends up running workers for its share only
                lambda: all(set(r.workers) == membership.share(ACCOUNTS, owners, o) for o, r in fleet.relays.items()),
                "each relay runs its share's workers only",
            )

            dead_share = membership.share(ACCOUNTS, owners, "relay-b")
            await fleet.crash("relay-b")
            survivors = ["relay-a", "relay-c"]
            await _until(lambda: _balanced(fleet, survivors), "the dead relay's accounts re-hashed to the survivors")
            held = fleet.holders()
            assert {held[a] for a in dead_share} <= set(survivors)
            for owner in survivors:  # the survivors kept what they had
                assert membership.share(ACCOUNTS, owners, owner) <= set(fleet.relays[owner].workers)
        finally:
            await fleet.stop_all()

    asyncio.run(scenario())


def test_a_joining_relay_is_handed_its_share(accounts: Table) -> None:
    async def scenario() -> None:
        fleet = Fleet(accounts)
        try:
            fleet.start("relay-a")
            await _until(lambda: _balanced(fleet, ["relay-a"]), "the only relay holds every account")
            fleet.start("relay-b")
            owners = ["relay-a", "relay-b"]
            await _until(lambda: _balanced(fleet, owners), "relay-a handed relay-b its share")
            mine = membership.share(ACCOUNTS, owners, "relay-a")
            await _until(lambda: set(fleet.relays["relay-a"].workers) == mine, "relay-a runs its share's workers only")
        finally:
            await fleet.stop_all()
        # A clean stop leaves: no member and no held lease remain.
        assert membership.live_members(accounts) == []
        assert fleet.holders() == {}

    asyncio.run(scenario())


def test_an_account_its_member_does_not_take_is_taken_by_another(accounts: Table) -> None:
    """relay-b is alive (it beats) but runs no relay and is configured with other accounts: once nobody held them for
    a while, relay-a takes the accounts that hash to relay-b, and keeps them (relay-b would not take them back)."""

    async def scenario() -> None:
        fleet = Fleet(accounts)
        beating = True

        async def ghost() -> None:
            while beating:
                await asyncio.to_thread(membership.beat, accounts, "relay-b", LEASE_SECONDS, 1, "other-accounts")
                await asyncio.sleep(LEASE_SECONDS / 3)

        beats = asyncio.create_task(ghost())
        try:
            await asyncio.sleep(0.3)
            relay = fleet.start("relay-a")
            owners = ["relay-a", "relay-b"]
            mine = membership.share(ACCOUNTS, owners, "relay-a")
            await _until(lambda: set(fleet.holders()) >= mine, "relay-a holds its share")
            await _until(lambda: len(fleet.holders()) == len(ACCOUNTS), "relay-a took the ghost's accounts")
            assert set(fleet.holders().values()) == {"relay-a"}
            await asyncio.sleep(3 * LEASE_SECONDS)  # several balancing rounds: nothing is handed back
            assert set(relay.workers) == set(ACCOUNTS)
        finally:
            beating = False
            await beats
            await fleet.stop_all()

    asyncio.run(scenario())


def test_accounts_taken_from_a_slow_member_go_back_to_it(accounts: Table) -> None:
    """relay-b runs and beats with the same accounts but cannot take a lease for a while (overloaded at start):
    relay-a takes relay-b's share, then hands it back once relay-b can take it, so the share ends even."""

    async def scenario() -> None:
        fleet = Fleet(accounts)
        try:
            fleet.start("relay-b")
            fleet.tables["relay-b"].refuse_leases = True
            fleet.start("relay-a")
            await _until(lambda: len(fleet.holders()) == len(ACCOUNTS), "relay-a took the slow member's accounts")
            assert set(fleet.holders().values()) == {"relay-a"}
            fleet.tables["relay-b"].refuse_leases = False
            owners = ["relay-a", "relay-b"]
            await _until(lambda: _balanced(fleet, owners), "relay-a handed relay-b its share back")
        finally:
            await fleet.stop_all()

    asyncio.run(scenario())
