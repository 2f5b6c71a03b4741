"""The store contract: every behaviour the store modules rely on, on DynamoDB (moto's server) and on the
single-machine SQLite store, so the two cannot drift.

Two parts. The tests written here ask for ``backend`` and run on both. And the store's existing behaviour tests
(tokens, slots, queues, the exactly-once finish, leases, MODAL placeholders, the reaper, event tracking and the API
races through the real handler) are collected from their modules below and run again on SQLite: their moto run is
their own module's. A new test in those modules joins the contract by itself; one that inspects moto directly goes in
``_MOTO_ONLY``.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image as PILImage

from devstack.cdn import serve_cdn
from devstack.change_feed import DynamoStreamFeed
from mjapi.images import load_object, store_image
from mjapi.store import keys
from mjapi.store.backends.items import ValidationError
from mjapi.store.backends.objects import LocalObjectStore, ObjectNotFound, object_store
from mjapi.store.backends.sqlite_feed import SqliteChangeFeed
from mjapi.store.backends.sqlite_table import SqliteTable, close_databases, database_path
from mjapi.store.table import ConditionFailed, Table, TransactionCancelled
from mjapi.webhooks.changes import Change, ChangeFeed
from tests.core import test_api_races, test_lease, test_proxy_store, test_reaper, test_store, test_tracking

ROOT = Path(__file__).resolve().parents[2]
REFUSED = (ClientError, ValidationError)  # DynamoDB's ValidationException, as each backend raises it

# -- the existing store tests, again on SQLite --------------------------------------------------------------------

_MOTO_ONLY = {
    "test_table_matches_template",  # describe_table / describe_time_to_live
    "test_create_table_is_idempotent",
    "test_token_is_stored_hashed_only",  # scans through boto3 (the SQLite twin is below)
    "test_full_lifecycle_rehosts_images_and_releases_the_slot",  # reads the image back from S3 with boto3
}
_FIXTURES = {"ctx": test_reaper.ctx, "world": test_tracking.world, "sim": test_api_races.sim, "api": test_api_races.api}
for _module in (test_store, test_lease, test_proxy_store, test_reaper, test_tracking, test_api_races):
    _short = _module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    for _name, _test in list(vars(_module).items()):
        if _name.startswith("test_") and callable(_test) and _name not in _MOTO_ONLY:
            globals()[f"test_sqlite__{_short}__{_name.removeprefix('test_')}"] = _test
globals().update(_FIXTURES)


@pytest.fixture
def table(sqlite_table: Table) -> Table:
    """The collected tests' ``table``: the SQLite store (their moto run is in their own modules)."""
    return sqlite_table


# -- items and conditional writes ---------------------------------------------------------------------------------


def test_items_round_trip_as_dynamodb_returns_them(backend: Table) -> None:
    item = {
        "pk": "T#1",
        "sk": "A",
        "text": "ünïcode ✓",
        "empty": "",
        "n": 3,
        "big": 12345678901234567890,
        "f": 2.5,
        "whole": 4.0,  # a float that is a whole number comes back as an int
        "neg": -0.125,
        "yes": True,
        "no": False,
        "list": [1, "a", None, [2.0], {"k": "v"}],
        "tuple": (1, 2),
        "map": {"a": 1, "gone": None, "nested": {"b": [True]}},
        "none": None,  # left out
        "empty_list": [],
        "empty_map": {},
    }
    backend.put(item)
    got = backend.get("T#1", "A")
    assert got == {
        "pk": "T#1",
        "sk": "A",
        "text": "ünïcode ✓",
        "empty": "",
        "n": 3,
        "big": 12345678901234567890,
        "f": 2.5,
        "whole": 4,
        "neg": -0.125,
        "yes": True,
        "no": False,
        "list": [1, "a", None, [2], {"k": "v"}],
        "tuple": [1, 2],
        "map": {"a": 1, "nested": {"b": [True]}},
        "empty_list": [],
        "empty_map": {},
    }
    assert type(got["whole"]) is int and type(got["yes"]) is bool
    assert backend.get("T#1", "B") is None
    assert backend.get("T#2", "A") is None


def test_put_conditions(backend: Table) -> None:
    backend.put({"pk": "L#1", "sk": "L", "owner": "a", "until": 10}, condition="attribute_not_exists(pk)")
    with pytest.raises(ConditionFailed):
        backend.put({"pk": "L#1", "sk": "L", "owner": "b"}, condition="attribute_not_exists(pk)")
    condition = "attribute_not_exists(pk) OR #o = :me OR #u < :now"
    with pytest.raises(ConditionFailed):
        backend.put(
            {"pk": "L#1", "sk": "L", "owner": "b"},
            condition=condition,
            names={"#o": "owner", "#u": "until"},
            vals={":me": "b", ":now": 5},
        )
    assert backend.get("L#1", "L") == {"pk": "L#1", "sk": "L", "owner": "a", "until": 10}
    backend.put(
        {"pk": "L#1", "sk": "L", "owner": "b"},
        condition=condition,
        names={"#o": "owner", "#u": "until"},
        vals={":me": "b", ":now": 11},
    )
    assert backend.get("L#1", "L") == {"pk": "L#1", "sk": "L", "owner": "b"}  # a put replaces the whole item


def test_update_creates_the_item_and_returns_it(backend: Table) -> None:
    new = backend.update(
        "C#1", "C", "ADD queue_depth :one SET gsi1pk = :g, gsi1sk = :k", vals={":one": 1, ":g": "QUEUES", ":k": "q"}
    )
    assert new == {"pk": "C#1", "sk": "C", "queue_depth": 1, "gsi1pk": "QUEUES", "gsi1sk": "q"}
    assert backend.update("C#1", "C", "ADD queue_depth :minus", vals={":minus": -1}, return_item=False) == {}
    assert backend.get("C#1", "C") == {"pk": "C#1", "sk": "C", "queue_depth": 0, "gsi1pk": "QUEUES", "gsi1sk": "q"}
    with pytest.raises(ConditionFailed):
        backend.update("C#2", "C", "SET x = :x", condition="attribute_exists(pk)", vals={":x": 1})
    assert backend.get("C#2", "C") is None


def test_update_actions(backend: Table) -> None:
    backend.put({"pk": "U#1", "sk": "U", "slots": 1, "gone": "x", "also": 1, "f": 0.1})
    new = backend.update(
        "U#1",
        "U",
        "SET slots = slots + :one, used = if_not_exists(used, :zero) + :one, #m = if_not_exists(#m, :mode), "
        "kids = list_append(if_not_exists(kids, :empty), :kid), f = f + :f, copied = slots "
        "REMOVE gone, also, never ADD hits :one",
        names={"#m": "mode"},
        vals={":one": 1, ":zero": 0, ":mode": "fast", ":empty": [], ":kid": ["k1"], ":f": 0.2},
    )
    assert new == {
        "pk": "U#1",
        "sk": "U",
        "slots": 2,
        "used": 1,
        "mode": "fast",
        "kids": ["k1"],
        "f": 0.3,  # decimal arithmetic, as DynamoDB's numbers (not 0.30000000000000004)
        "copied": 1,  # every value reads the item as it was before the update
        "hits": 1,
    }
    again = backend.update(
        "U#1",
        "U",
        "SET kids = list_append(kids, :kid), #m = if_not_exists(#m, :mode), slots = slots - :one",
        names={"#m": "mode"},
        vals={":kid": ["k2"], ":mode": "relax", ":one": 1},
    )
    assert again["kids"] == ["k1", "k2"] and again["mode"] == "fast" and again["slots"] == 1
    backend.update("U#1", "U", "SET doc = :d", vals={":d": {"session_id": "s", "seq": 7, "skip": None}})
    assert backend.get("U#1", "U")["doc"] == {"session_id": "s", "seq": 7}  # type: ignore[index]


_MOTO_DIFFERS = "moto differs from DynamoDB here"


@pytest.mark.parametrize(
    ("condition", "vals", "holds", "moto_differs"),
    [
        ("n < :five", {":five": 5}, True, False),
        ("n < :text", {":text": "5"}, False, True),  # different types never compare (moto: HTTP 500)
        ("n <> :text", {":text": "3"}, True, False),
        ("absent <> :v", {":v": 1}, True, False),
        ("absent = :v", {":v": 1}, False, False),
        ("absent < :v", {":v": 1}, False, False),
        ("flag = :one", {":one": 1}, False, True),  # a boolean is not a number (moto: True == 1)
        ("flag = :t", {":t": True}, True, False),
        ("s > :empty", {":empty": ""}, True, False),
        ("s BETWEEN :a AND :z", {":a": "a", ":z": "z"}, True, False),
        ("n BETWEEN :a AND :b", {":a": 4, ":b": 9}, False, False),
        ("s IN (:x, :y)", {":x": "nope", ":y": "sess"}, True, False),
        ("n IN (:x)", {":x": "3"}, False, False),
        ("begins_with(s, :p)", {":p": "se"}, True, False),
        ("begins_with(n, :p)", {":p": "3"}, False, False),
        ("contains(bots, :b)", {":b": "niji"}, True, False),
        ("contains(bots, :b)", {":b": "nij"}, False, False),
        ("contains(s, :b)", {":b": "ess"}, True, False),
        ("NOT contains(bots, :b)", {":b": "mj"}, False, False),
        ("attribute_exists(s) AND attribute_not_exists(absent)", None, True, False),
        ("n = :x OR n = :y AND s = :z", {":x": 3, ":y": 4, ":z": "no"}, True, False),  # AND binds tighter than OR
        ("(n = :x OR n = :y) AND s = :z", {":x": 3, ":y": 4, ":z": "no"}, False, False),
        ("size(bots) = :two", {":two": 2}, True, False),
        ("doc = :doc", {":doc": {"a": [1, "b"]}}, True, False),
        ("doc = :doc", {":doc": {"a": [1, "c"]}}, False, False),
    ],
)
def test_condition_semantics(
    backend: Table, condition: str, vals: dict[str, Any] | None, holds: bool, moto_differs: bool
) -> None:
    if moto_differs and not isinstance(backend, SqliteTable):
        pytest.skip(_MOTO_DIFFERS)
    backend.put(
        {"pk": "K#1", "sk": "K", "n": 3, "s": "sess", "flag": True, "bots": ["mj", "niji"], "doc": {"a": [1, "b"]}}
    )
    try:
        backend.update("K#1", "K", "SET touched = :touched", condition=condition, vals={**(vals or {}), ":touched": 1})
    except ConditionFailed:
        applied = False
    else:
        applied = True
    assert applied is holds


@pytest.mark.parametrize(
    ("expression", "condition", "vals"),
    [
        ("SET n = absent + :one", None, {":one": 1}),  # arithmetic on an attribute the item lacks
        ("SET n = s + :one", None, {":one": 1}),  # arithmetic on a string
        ("SET n = :one", None, {":one": 1, ":unused": 2}),  # a value no expression uses
        ("SET n = :one, n = :two", None, {":one": 1, ":two": 2}),  # two actions on one path
        ("SET pk = :one", None, {":one": "X"}),  # the key cannot change
        ("SET gsi2pk = :empty, gsi2sk = :one", None, {":empty": "", ":one": "x"}),  # an empty index key
        ("SET n = :one", "n = :undefined", {":one": 1}),
        ("SET #n = :one", None, {":one": 1}),  # an undefined name
        ("SET copy = :one", None, {":one": 1}),  # a reserved word, bare
    ],
)
def test_invalid_requests_are_refused_not_failed(
    backend: Table, expression: str, condition: str | None, vals: dict[str, Any]
) -> None:
    backend.put({"pk": "V#1", "sk": "V", "n": 1, "s": "text"})
    with pytest.raises(REFUSED):
        backend.update("V#1", "V", expression, condition=condition, vals=vals)
    assert backend.get("V#1", "V") == {"pk": "V#1", "sk": "V", "n": 1, "s": "text"}


def test_oversized_and_keyless_items_are_refused(backend: Table) -> None:
    with pytest.raises(REFUSED):
        backend.put({"pk": "B#1", "sk": "B", "blob": "x" * 410_000})
    with pytest.raises(REFUSED):
        backend.put({"pk": "B#1", "sk": "B", "gsi1pk": "", "gsi1sk": "x"})
    assert backend.get("B#1", "B") is None


# -- transactions -------------------------------------------------------------------------------------------------


def _charge(pk: str) -> dict[str, Any]:
    return {
        "Update": {
            "Key": {"pk": pk, "sk": "T"},
            "UpdateExpression": "SET remaining = remaining - :one",
            "ConditionExpression": "remaining >= :one",
            "ExpressionAttributeValues": {":one": 1},
        }
    }


def test_a_transaction_is_all_or_nothing(backend: Table) -> None:
    backend.put({"pk": "TOK#1", "sk": "T", "remaining": 1})
    backend.put({"pk": "ACC#1", "sk": "T", "remaining": 0})
    job = {
        "Put": {
            "Item": {"pk": "JOB#1", "sk": "JOB", "status": "submitted"},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    with pytest.raises(TransactionCancelled) as cancelled:
        backend.transact([_charge("TOK#1"), _charge("ACC#1"), job])
    assert [cancelled.value.failed(i) for i in range(3)] == [False, True, False]
    assert not cancelled.value.conflicted
    assert backend.get("TOK#1", "T") == {"pk": "TOK#1", "sk": "T", "remaining": 1}
    assert backend.get("JOB#1", "JOB") is None

    backend.update("ACC#1", "T", "SET remaining = :one", vals={":one": 1})
    backend.transact([_charge("TOK#1"), _charge("ACC#1"), job])
    assert backend.get("TOK#1", "T") == {"pk": "TOK#1", "sk": "T", "remaining": 0}
    assert backend.get("JOB#1", "JOB") == {"pk": "JOB#1", "sk": "JOB", "status": "submitted"}
    with pytest.raises(TransactionCancelled) as again:  # the job exists now, and the token is spent
        backend.transact([_charge("TOK#1"), job])
    assert again.value.failed(0) and again.value.failed(1)


def test_condition_checks_and_deletes_in_a_transaction(backend: Table) -> None:
    backend.put({"pk": "G#1", "sk": "G", "open": True})
    backend.put({"pk": "D#1", "sk": "D", "v": 1})
    check = {
        "ConditionCheck": {
            "Key": {"pk": "G#1", "sk": "G"},
            "ConditionExpression": "#o = :t",
            "ExpressionAttributeNames": {"#o": "open"},
            "ExpressionAttributeValues": {":t": True},
        }
    }
    backend.transact([check, {"Delete": {"Key": {"pk": "D#1", "sk": "D"}}}])
    assert backend.get("D#1", "D") is None
    assert backend.get("G#1", "G") == {"pk": "G#1", "sk": "G", "open": True}
    backend.update("G#1", "G", "SET #o = :f", names={"#o": "open"}, vals={":f": False})
    put = {"Put": {"Item": {"pk": "D#2", "sk": "D"}}}
    with pytest.raises(TransactionCancelled) as cancelled:
        backend.transact([check, put])
    assert cancelled.value.failed(0) and not cancelled.value.failed(1)
    assert backend.get("D#2", "D") is None


def test_one_item_twice_in_a_transaction_is_refused(backend: Table) -> None:
    backend.put({"pk": "TOK#1", "sk": "T", "remaining": 5})
    with pytest.raises(REFUSED):
        backend.transact([_charge("TOK#1"), _charge("TOK#1")])
    assert backend.get("TOK#1", "T") == {"pk": "TOK#1", "sk": "T", "remaining": 5}


# -- queries ------------------------------------------------------------------------------------------------------


def _rows(backend: Table) -> None:
    for n in range(7):
        backend.put(
            {
                "pk": "HOOK#1",
                "sk": f"DELIVERY#{n:03d}" if n < 5 else f"ATTEMPT#{n:03d}",
                "gsi2pk": "DUE" if n % 2 == 0 else "DEAD",
                "gsi2sk": f"{n:015d}#j",
                **({"gsi1pk": "TOKEN#x", "gsi1sk": f"{100 - n:015d}#{n}"} if n != 3 else {"gsi1pk": "TOKEN#x"}),
                "n": n,
            }
        )


def test_queries_by_key_range_and_order(backend: Table) -> None:
    _rows(backend)
    deliveries = list(backend.query_all("pk = :pk AND begins_with(sk, :p)", vals={":pk": "HOOK#1", ":p": "DELIVERY#"}))
    assert [i["n"] for i in deliveries] == [0, 1, 2, 3, 4]
    items, last = backend.query("pk = :pk", vals={":pk": "HOOK#1"}, forward=False)
    assert [i["sk"] for i in items][:3] == ["DELIVERY#004", "DELIVERY#003", "DELIVERY#002"] and last is None
    due, _ = backend.query("gsi2pk = :p AND gsi2sk < :until", vals={":p": "DUE", ":until": f"{5:015d}"}, index="gsi2")
    assert [i["n"] for i in due] == [0, 2, 4]
    between, _ = backend.query(
        "#h = :p AND #r BETWEEN :a AND :b",
        names={"#h": "gsi2pk", "#r": "gsi2sk"},
        vals={":p": "DEAD", ":a": f"{1:015d}", ":b": f"{3:015d}~"},
        index="gsi2",
    )
    assert [i["n"] for i in between] == [1, 3]
    dead, _ = backend.query("gsi2pk = :p", vals={":p": "DEAD"}, index="gsi2", forward=False, limit=2)
    assert [i["n"] for i in dead] == [5, 3]
    filtered = list(backend.query_all("pk = :pk", vals={":pk": "HOOK#1", ":three": 3}, filter_expression="n > :three"))
    assert [i["n"] for i in filtered] == [5, 6, 4]  # ATTEMPT# sorts before DELIVERY#
    assert backend.query("pk = :pk", vals={":pk": "NOPE"}) == ([], None)


def test_a_sparse_index_holds_only_items_with_both_keys(backend: Table) -> None:
    _rows(backend)
    history = list(backend.query_all("gsi1pk = :p", vals={":p": "TOKEN#x"}, index="gsi1", forward=False))
    assert [i["n"] for i in history] == [0, 1, 2, 4, 5, 6]  # item 3 has no gsi1sk
    backend.update("HOOK#1", "DELIVERY#000", "REMOVE gsi2pk, gsi2sk")
    due = list(backend.query_all("gsi2pk = :p", vals={":p": "DUE"}, index="gsi2"))
    assert [i["n"] for i in due] == [2, 4, 6]


def test_pages_follow_the_last_evaluated_key(backend: Table) -> None:
    for n in range(7):
        backend.put({"pk": f"JOB#{n}", "sk": "JOB", "gsi1pk": "TOKEN#p", "gsi1sk": f"{1000 + n:015d}#{n}", "n": n})
    seen: list[int] = []
    start: dict[str, Any] | None = None
    pages = 0
    while True:
        items, start = backend.query(
            "gsi1pk = :p", vals={":p": "TOKEN#p"}, index="gsi1", forward=False, limit=3, start_key=start
        )
        pages += 1
        seen += [i["n"] for i in items]
        if start is None:
            break
        assert set(start) == {"pk", "sk", "gsi1pk", "gsi1sk"}
        assert start["gsi1sk"] == items[-1]["gsi1sk"]
    assert seen == [6, 5, 4, 3, 2, 1, 0]
    assert pages == 3
    base, last = backend.query("pk = :pk", vals={":pk": "JOB#3"}, limit=1)
    assert [i["n"] for i in base] == [3] and last is None  # no more items: no key to go on from


def test_batch_get(backend: Table) -> None:
    for n in range(3):
        backend.put({"pk": f"JOB#{n}", "sk": "JOB", "n": n})
    items = backend.batch_get([("JOB#0", "JOB"), ("JOB#2", "JOB"), ("JOB#9", "JOB"), ("JOB#0", "JOB")])
    assert sorted(i["n"] for i in items) == [0, 2]
    assert backend.batch_get([]) == []


# -- races --------------------------------------------------------------------------------------------------------


def test_conditional_counters_never_pass_their_limit_under_concurrency(backend: Table) -> None:
    def push(_: int) -> bool:
        try:
            backend.update(
                "QC#1",
                "C",
                "ADD queue_depth :one",
                condition="attribute_not_exists(queue_depth) OR queue_depth < :limit",
                vals={":one": 1, ":limit": 7},
                return_item=False,
            )
        except ConditionFailed:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(push, range(20)))
    assert results.count(True) == 7
    assert backend.get("QC#1", "C") == {"pk": "QC#1", "sk": "C", "queue_depth": 7}


def test_concurrent_transactions_on_shared_items_stay_consistent(backend: Table) -> None:
    backend.put({"pk": "TOK#1", "sk": "T", "remaining": 6})

    def spend(n: int) -> str:
        ops = [_charge("TOK#1"), {"Put": {"Item": {"pk": f"JOB#{n}", "sk": "JOB"}}}]
        for attempt in range(20):
            try:
                backend.transact(ops)
            except TransactionCancelled as exc:
                if exc.conflicted and attempt < 19:  # DynamoDB's answer to two transactions on one item at once
                    time.sleep(0.01 * (attempt + 1))
                    continue
                return "refused"
            return "ok"
        return "conflicted"

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(spend, range(12)))
    assert results.count("ok") == 6
    assert backend.get("TOK#1", "T") == {"pk": "TOK#1", "sk": "T", "remaining": 0}
    assert len(backend.batch_get([(f"JOB#{n}", "JOB") for n in range(12)])) == 6


# -- the change feed ----------------------------------------------------------------------------------------------


def _feed(backend: Table) -> ChangeFeed:
    return SqliteChangeFeed(backend.name) if isinstance(backend, SqliteTable) else DynamoStreamFeed(backend.name)


def _read_all(feed: ChangeFeed, expected: int) -> list[Change]:
    changes: list[Change] = []
    deadline = time.monotonic() + 10
    while len(changes) < expected and time.monotonic() < deadline:
        changes += feed.read()
    return changes


def test_the_change_feed_carries_each_write_in_order(backend: Table) -> None:
    feed = _feed(backend)
    backend.put({"pk": "JOB#1", "sk": "JOB", "status": "submitted", "progress": 0})
    backend.update("JOB#1", "JOB", "SET progress = :p", vals={":p": 40})
    backend.update("JOB#1", "JOB", "SET #s = :s", names={"#s": "status"}, vals={":s": "succeeded"})
    with pytest.raises(ConditionFailed):  # a write that fails writes nothing to the feed either
        backend.update("JOB#1", "JOB", "SET progress = :p", condition="progress < :p", vals={":p": 10})
    backend.transact([{"Delete": {"Key": {"pk": "JOB#1", "sk": "JOB"}}}])
    changes = _read_all(feed, 4)
    assert [(c.old or {}).get("progress") for c in changes] == [None, 0, 40, 40]
    assert [(c.new or {}).get("status") for c in changes] == ["submitted", "submitted", "succeeded", None]
    assert changes[0].old is None and changes[-1].new is None
    sequences = [int(c.sequence) for c in changes]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    assert feed.read() == []


def test_the_sqlite_feed_resumes_after_a_restart(sqlite_table: Table) -> None:
    feed = SqliteChangeFeed(sqlite_table.name)
    for n in range(3):
        sqlite_table.put({"pk": f"JOB#{n}", "sk": "JOB", "n": n})
    first = feed.read(limit=2)
    assert [c.new["n"] for c in first if c.new] == [0, 1]
    second = feed.read(limit=2)  # the first batch counts as done now
    assert [c.new["n"] for c in second if c.new] == [2]
    restarted = SqliteChangeFeed(sqlite_table.name)  # a crash before asking again: the last batch again, only
    assert [c.new["n"] for c in restarted.read() if c.new] == [2]
    sqlite_table.put({"pk": "JOB#0", "sk": "JOB", "n": 0})  # an unchanged item: no change, as in DynamoDB Streams
    sqlite_table.put({"pk": "JOB#3", "sk": "JOB", "n": 3})
    assert [c.new["n"] for c in restarted.read() if c.new] == [3]
    other = SqliteChangeFeed(sqlite_table.name, name="another reader")  # positions are per reader
    assert len(other.read()) == 4


def test_expired_items_are_swept_onto_the_feed(sqlite_table: Table) -> None:
    assert isinstance(sqlite_table, SqliteTable)
    now = int(time.time())
    sqlite_table.put({"pk": "NONCE#old", "sk": "REF", "job_id": "1", "expires_at": now - 5})
    sqlite_table.put({"pk": "NONCE#new", "sk": "REF", "job_id": "2", "expires_at": now + 3600})
    sqlite_table.put({"pk": "ACCOUNT#a", "sk": "ACCOUNT"})
    feed = SqliteChangeFeed(sqlite_table.name)
    assert len(feed.read()) == 3
    assert sqlite_table.get("NONCE#old", "REF") is not None  # like DynamoDB's TTL: readable until deleted
    assert sqlite_table.sweep() == 1
    assert sqlite_table.get("NONCE#old", "REF") is None
    assert sqlite_table.get("NONCE#new", "REF") is not None
    assert sqlite_table.get("ACCOUNT#a", "ACCOUNT") is not None
    removal = feed.read()
    assert len(removal) == 1 and removal[0].new is None and removal[0].old is not None
    assert removal[0].old["pk"] == "NONCE#old"
    assert sqlite_table.sweep(now + 7200) == 1  # later, the other reference too


# -- several processes, crashes -----------------------------------------------------------------------------------

_WORKER = """
import os, sys
from mjapi.store.table import ConditionFailed, Table
table = Table(sys.argv[1])
for n in range(int(sys.argv[2])):
    while True:
        try:
            item = table.get("CTR#1", "C") or {}
            mine = sys.argv[3]
            table.update("CTR#1", "C", f"SET n = :next, {mine} = if_not_exists({mine}, :zero) + :one",
                         condition="attribute_not_exists(n) OR n = :seen",
                         vals={":next": item.get("n", 0) + 1, ":seen": item.get("n", 0), ":zero": 0, ":one": 1})
            break
        except ConditionFailed:
            continue
    table.transact([{"Put": {"Item": {"pk": "ACK#" + sys.argv[3], "sk": str(n)}}}])
    print(n, flush=True)
if len(sys.argv) > 4:
    os.kill(os.getpid(), 9)
"""


def _worker(table: Table, count: int, name: str, *, crash: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])}
    args = [sys.executable, "-c", _WORKER, table.name, str(count), name] + (["crash"] if crash else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)


def test_processes_share_the_store_without_losing_a_write(sqlite_table: Table) -> None:
    """Read-then-conditional-write loops in three processes at once: every increment lands exactly once."""
    workers = [_worker(sqlite_table, 40, f"w{n}") for n in range(3)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert all(len(out.split()) == 40 for out in outputs)
    item = sqlite_table.get("CTR#1", "C")
    assert item is not None and item["n"] == 120
    assert [item[f"w{n}"] for n in range(3)] == [40, 40, 40]


def test_a_killed_process_loses_no_acknowledged_write(sqlite_table: Table) -> None:
    worker = _worker(sqlite_table, 25, "k", crash=True)
    out, _ = worker.communicate(timeout=120)
    assert worker.returncode == -signal.SIGKILL
    acknowledged = [int(line) for line in out.split()]
    assert acknowledged == list(range(25))
    close_databases()  # forget this process's connections: read the file as a restarted stack would
    reopened = Table(sqlite_table.name)
    for n in acknowledged:
        assert reopened.get("ACK#k", str(n)) is not None
    assert database_path(sqlite_table.name).exists()


# -- images -------------------------------------------------------------------------------------------------------


def _png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (3, 2), (200, 30, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


def test_images_are_stored_served_and_loaded_on_both_backends(backend: Table) -> None:
    image = store_image(PNG, prefix="uploads")
    assert image.url == f"https://cdn.test.invalid/{image.key}"
    assert image.key.startswith("uploads/") and image.key.endswith(".png")
    assert (image.width, image.height, image.content_type, image.size) == (3, 2, "image/png", len(PNG))
    assert load_object(image.key) == PNG
    head = object_store().head(image.key)
    assert head is not None and head.content_type == "image/png" and head.size == len(PNG)
    status, headers, body = serve_cdn("GET", f"/cdn/{image.key}", None)
    assert status == 200 and body == PNG
    assert dict(headers)["Content-Type"] == "image/png"
    assert "immutable" in dict(headers)["Cache-Control"]
    assert store_image(PNG, prefix="uploads").key == image.key  # content-addressed: stored once
    with pytest.raises(ObjectNotFound):
        load_object("uploads/00/missing.png")
    assert object_store().head("uploads/00/missing.png") is None
    assert serve_cdn("GET", "/cdn/uploads/00/missing.png", None)[0] == 404
    assert serve_cdn("GET", "/cdn/../secrets.json", None)[0] == 404
    assert serve_cdn("POST", f"/cdn/{image.key}", b"")[0] == 405


def test_the_local_object_store_keeps_keys_inside_its_directory(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    for bad in ("", "../x", "a/../../x", "/etc/passwd", "a//b", ".meta/x", "a\\b", "a\x00b"):
        with pytest.raises(ValueError, match="not a usable object key"):
            store.put(bad, b"x", content_type="text/plain", cache_control="")
    store.put("a/b.txt", b"hello", content_type="text/plain", cache_control="no-store")
    stored = store.get("a/b.txt")
    assert stored is not None and stored.data == b"hello" and stored.head.cache_control == "no-store"
    assert [p.name for p in (tmp_path / "objects").rglob("*") if p.name.startswith(".tmp-")] == []
    (tmp_path / "objects" / "meta" / "a" / "b.txt.json").unlink()  # a crash between the bytes and their metadata
    recovered = store.get("a/b.txt")
    assert recovered is not None and recovered.data == b"hello" and recovered.head.content_type == "text/plain"


def test_sqlite_stores_token_hashes_only(sqlite_table: Table) -> None:
    from mjapi.store.tokens import create_token

    clear, token = create_token(sqlite_table, count=5, days=1)
    close_databases()
    raw = database_path(sqlite_table.name).read_bytes() + b"".join(
        p.read_bytes() for p in database_path(sqlite_table.name).parent.glob("*.sqlite3-wal")
    )
    assert clear.encode() not in raw
    assert token.token_hash.encode() in raw
    assert Table(sqlite_table.name).get(keys.token_pk(token.token_hash), keys.TOKEN_SK) is not None


def test_grouped_writes_fail_alone(sqlite_table: Table) -> None:
    """Writes committed in one group: the ones that fail (a lost condition, an invalid update) leave the others be."""
    sqlite_table.put({"pk": "G#1", "sk": "G", "n": 0})

    def write(k: int) -> str:
        try:
            if k % 3 == 0:
                sqlite_table.update("G#1", "G", "SET n = absent + :one", vals={":one": 1})  # always invalid
            elif k % 3 == 1:
                sqlite_table.update("G#1", "G", "ADD n :one", condition="n < :zero", vals={":one": 1, ":zero": 0})
            else:
                sqlite_table.update("G#1", "G", "ADD n :one", vals={":one": 1}, return_item=False)
        except ValidationError:
            return "invalid"
        except ConditionFailed:
            return "failed"
        return "ok"

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(write, range(60)))
    assert (results.count("invalid"), results.count("failed"), results.count("ok")) == (20, 20, 20)
    assert sqlite_table.get("G#1", "G") == {"pk": "G#1", "sk": "G", "n": 20}
    changes = SqliteChangeFeed(sqlite_table.name).read(limit=1000)
    assert [c.new["n"] for c in changes if c.new] == list(range(21))  # one change per applied write, in order
