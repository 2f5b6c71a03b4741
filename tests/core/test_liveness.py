"""Liveness comes from the relay's heartbeat, not from a stored session id.

The rule (``Account.connected_at``), the conditional slot reservation that enforces it, the heartbeat writes the relay
makes with its lease, what ``get_devices`` shows, and the gauges the relay publishes to CloudWatch.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway_relay import health, metrics
from mjapi.api.views import device_view
from mjapi.clock import now_ms
from mjapi.ids import new_job_id, new_nonce
from mjapi.models import Account, AccountConfig, Health, Job, JobKind, JobStatus
from mjapi.store.accounts import clear_heartbeat, get_account, heartbeat, set_session, sync_accounts
from mjapi.store.jobs import JobStore, SlotTaken
from mjapi.store.table import Table
from mjapi.store.tokens import create_token

NOW = 1_700_000_000_000


def _account(**fields: object) -> Account:
    return Account.model_validate({"id": "a1", "channel_id": "c1", **fields})


# -- the rule -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_id", "heartbeat_until", "connected"),
    [
        ("s" * 32, NOW + 1, True),  # a relay vouches for it beyond now
        ("s" * 32, NOW, False),  # the heartbeat ran out exactly now
        ("s" * 32, NOW - 96_000, False),  # the relay died 96 s ago: a session id alone is not enough
        ("s" * 32, 0, False),  # never heard from a relay (an item from before heartbeats)
        (None, NOW + 30_000, False),  # a fresh heartbeat without a session: nothing would be heard
        ("", NOW + 30_000, False),
    ],
)
def test_connected_needs_a_session_and_a_fresh_heartbeat(
    session_id: str | None, heartbeat_until: int, connected: bool
) -> None:
    account = _account(session_id=session_id, heartbeat_until=heartbeat_until)
    assert account.connected_at(NOW) is connected
    assert account.live_health_at(NOW) == (Health.OK if connected else Health.DISCONNECTED)


def test_a_stale_heartbeat_never_hides_a_worse_health() -> None:
    banned = _account(session_id="s", heartbeat_until=0, health=Health.BANNED)
    assert banned.live_health_at(NOW) == Health.BANNED
    captcha = _account(session_id="s", heartbeat_until=NOW + 1, health=Health.CAPTCHA)
    assert captcha.live_health_at(NOW) == Health.CAPTCHA


def test_get_devices_shows_disconnected_when_the_relay_stopped_vouching() -> None:
    live = device_view(_account(session_id="s", heartbeat_until=now_ms() + 60_000), queued=0)
    assert (live["status"], live["health"], live["health_reason"]) == ("idle", "ok", None)
    stale = device_view(_account(session_id="s", heartbeat_until=now_ms() - 1), queued=2)
    assert (stale["status"], stale["health"]) == ("disconnected", "disconnected")
    assert stale["health_reason"] == "no live gateway relay holds this account"
    assert stale["queued"] == 2
    off = device_view(_account(session_id="s", heartbeat_until=0, enabled=False), queued=0)
    assert off["status"] == "disabled"


# -- the table ------------------------------------------------------------------------------------------------------


def _sync(table: Table, account_id: str = "a1") -> None:
    config = AccountConfig(id=account_id, token=SecretStr("t"), channel_id=f"c-{account_id}")
    sync_accounts(table, [config])


def _job(token_hash: str, account_id: str = "a1") -> Job:
    now = now_ms()
    return Job(
        id=new_job_id(),
        kind=JobKind.IMAGINE,
        status=JobStatus.SUBMITTED,
        token_hash=token_hash,
        prompt="a cat",
        account_id=account_id,
        channel_id=f"c-{account_id}",
        nonce=new_nonce(),
        holds_slot=True,
        created_at=now,
        submitted_at=now,
    )


def test_the_slot_reservation_refuses_an_account_whose_heartbeat_ran_out(table: Table) -> None:
    """The conditional write is the authority: a stale list read (or another process's cache) cannot place a job
    on an account no relay listens to."""
    _sync(table)
    set_session(table, "a1", "s" * 32, owner="relay-1", live_seconds=30)
    _clear, token = create_token(table, count=5, days=1)
    store = JobStore(table)
    store.create_running(_job(token.token_hash), charge=True, mode=None)  # live: the slot is taken

    assert heartbeat(table, "a1", "relay-1", live_seconds=-1)  # the relay's last word has run out
    account = get_account(table, "a1")
    assert account is not None and account.session_id and not account.connected and not account.usable
    with pytest.raises(SlotTaken):
        store.create_running(_job(token.token_hash), charge=True, mode=None)
    after = get_account(table, "a1")
    assert after is not None and after.slots_used == 1

    assert heartbeat(table, "a1", "relay-2", live_seconds=30)  # a successor relay vouches again
    store.create_running(_job(token.token_hash), charge=True, mode=None)
    again = get_account(table, "a1")
    assert again is not None and again.slots_used == 2 and again.connected


def test_heartbeat_of_an_unknown_account_is_refused(table: Table) -> None:
    assert not heartbeat(table, "ghost", "relay-1", live_seconds=30)
    assert get_account(table, "ghost") is None


def test_a_relay_clears_only_its_own_heartbeat(table: Table) -> None:
    _sync(table)
    set_session(table, "a1", "s" * 32, owner="relay-old", live_seconds=30)
    heartbeat(table, "a1", "relay-new", live_seconds=30)  # the successor took over
    clear_heartbeat(table, "a1", "relay-old")  # the old relay's late shutdown must not unseat it
    account = get_account(table, "a1")
    assert account is not None and account.connected
    clear_heartbeat(table, "a1", "relay-new")  # the holder shutting down: out of rotation at once
    account = get_account(table, "a1")
    assert account is not None and not account.connected and account.live_health == Health.DISCONNECTED


def test_clearing_the_session_clears_the_heartbeat(table: Table) -> None:
    _sync(table)
    set_session(table, "a1", "s" * 32)
    account = get_account(table, "a1")
    assert account is not None and account.connected
    set_session(table, "a1", None)
    account = get_account(table, "a1")
    assert account is not None and account.heartbeat_until == 0 and not account.connected


# -- what the relay reports -----------------------------------------------------------------------------------------


def test_account_gauges_count_each_state_once() -> None:
    accounts = [
        _account(id="live", session_id="s", heartbeat_until=NOW + 1),
        _account(id="dead-relay", session_id="s", heartbeat_until=NOW - 1),
        _account(id="gateway-down", session_id="s", heartbeat_until=NOW + 1, health=Health.DISCONNECTED),
        _account(id="captcha", session_id="s", heartbeat_until=NOW + 1, health=Health.CAPTCHA),
        _account(id="off", session_id="s", heartbeat_until=0, enabled=False),
    ]
    assert metrics.account_gauges(accounts, NOW) == {
        "EnabledAccounts": 4,
        "ConnectedAccounts": 3,
        "DisconnectedAccounts": 2,
        "UnhealthyAccounts": 1,
    }


def test_gauges_are_printed_as_one_emf_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "mjapi-relay")
    out = io.StringIO()
    with redirect_stdout(out):
        metrics.publish({"DisconnectedAccounts": 2, "ConnectedAccounts": 1}, namespace="mjapi")
    document = json.loads(out.getvalue().strip().splitlines()[-1])
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "mjapi"
    assert directive["Dimensions"] == [["service"]]
    assert {m["Name"] for m in directive["Metrics"]} == {"DisconnectedAccounts", "ConnectedAccounts"}
    assert document["service"] == "mjapi-relay"
    assert document["DisconnectedAccounts"] in (2, [2], [2.0])


def test_the_health_check_reads_the_age_of_the_relays_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "relay.alive"
    monkeypatch.setenv(health.HEALTH_FILE_ENV, str(path))
    monkeypatch.setenv(health.MAX_AGE_ENV, "60")
    assert health.main() == 1  # never written: the relay has not started its loop
    assert "never written" in capsys.readouterr().err
    health.touch(path)
    assert health.main() == 0
    touched_at = float(path.read_text(encoding="ascii"))
    assert health.healthy(path, 60, now=touched_at + 59)
    assert not health.healthy(path, 60, now=touched_at + 61)  # no touch for 61 s: the event loop is stuck
    path.write_text("not a time", encoding="ascii")
    assert not health.healthy(path, 60)
