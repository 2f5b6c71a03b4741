"""The table's key layout: the documented wire formats (docs/DATA.md) and the time sort key / cursor round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mjapi.store import keys


def test_keys_follow_the_documented_layout() -> None:
    assert (keys.job_pk("17"), keys.JOB_SK) == ("JOB#17", "JOB")
    assert (keys.account_pk("a1"), keys.ACCOUNT_SK) == ("ACCOUNT#a1", "ACCOUNT")
    assert (keys.token_pk("ab12"), keys.TOKEN_SK) == ("APITOKEN#ab12", "APITOKEN")
    assert (keys.queue_counter_pk("mj#fast"), keys.COUNTER_SK) == ("QUEUECOUNT#mj#fast", "COUNTER")
    assert (keys.lease_pk("a1"), keys.LEASE_SK) == ("LEASE#a1", "LEASE")
    assert keys.ref_pk("nonce", "9") == "NONCE#9"
    assert keys.ref_pk("message", "9") == "MSG#9"
    assert keys.ref_pk("interaction", "9") == "INTERACTION#9"
    assert keys.ref_pk("hash", "u-u-i-d") == "HASH#u-u-i-d"
    assert keys.REF_SK == "REF"
    assert keys.history_pk("ab12") == "TOKEN#ab12"
    assert keys.queue_gsi("mj#any") == "QUEUE#mj#any"
    assert keys.active_gsi("a1") == "ACTIVE#a1"
    assert (keys.ACCOUNTS_GSI, keys.QUEUES_GSI) == ("ACCOUNTS", "QUEUES")
    assert keys.time_sort_key(1_700_000_000_123, "42") == "001700000000123#42"


def test_queue_names() -> None:
    assert keys.pool_queue_key("mj", None) == "mj#any"
    assert keys.pool_queue_key("niji", "relax") == "niji#relax"
    assert keys.account_queue_key("a1") == "acct#a1"
    assert keys.is_account_queue_key(keys.account_queue_key("a1"))
    assert not keys.is_account_queue_key(keys.pool_queue_key("mj", "fast"))


@given(ts=st.integers(min_value=0, max_value=10**15 - 1), item_id=st.from_regex(r"[0-9]{1,64}", fullmatch=True))
def test_time_sort_key_round_trips(ts: int, item_id: str) -> None:
    encoded = keys.time_sort_key(ts, item_id)
    assert keys.parse_time_sort_key(encoded) == keys.TimeSortKey(ts, item_id)
    assert keys.time_sort_key(*keys.TimeSortKey(ts, item_id)) == encoded


@given(a=st.integers(min_value=0, max_value=10**15 - 1), b=st.integers(min_value=0, max_value=10**15 - 1))
def test_time_sort_keys_sort_in_time_order(a: int, b: int) -> None:
    assert (keys.time_sort_key(a, "1") < keys.time_sort_key(b, "1")) == (a < b)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "#",
        "999#1",
        "0" * 15 + "#abc",
        "1" * 15 + "#",
        "1" * 16 + "#1",
        "1" * 15 + "#1#2",
        "\u0661" * 15 + "#1",
        "1" * 15 + "#" + "2" * 65,
        " " + "1" * 15 + "#1",
    ],
)
def test_malformed_time_sort_keys_are_refused(value: str) -> None:
    assert keys.parse_time_sort_key(value) is None
