"""The table on one machine: SQLite in WAL mode, with the semantics the DynamoDB table guarantees.

One database file per table (``<data dir>/<table>.sqlite3``). Each item is one row: its key, its JSON text, and the
columns SQLite indexes - the two GSIs (an item is in an index only when it has both of that index's keys: gsi2 stays
sparse) and the TTL attribute. Every write is a ``BEGIN IMMEDIATE`` transaction: conditions are evaluated on the
committed state and the write applied before anyone else may write, so conditional writes and ``transact`` are
linearizable across threads and processes sharing the file (the API, the relay, the dispatcher). A commit is
acknowledged only once it is in the WAL; with ``MJAPI_SQLITE_SYNCHRONOUS=FULL`` (the default) also on disk, so a crash
of the process - or of the machine - loses no acknowledged write.

The table's stream is a ``changes`` table written in the same transaction as the item (old and new image; nothing for
a write that changed nothing), read by :class:`mjapi.store.backends.sqlite_feed.SqliteChangeFeed`. Expired items
(``expires_at`` in the past) are deleted in the background as DynamoDB's TTL does - until then they can still be read -
and their removal goes on the feed; changes are kept 24 hours, like a stream's records.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mjapi.settings import get_settings
from mjapi.store.backends import calls, config, expressions
from mjapi.store.backends.expressions import Scope, check_placeholders, parse_condition, parse_update
from mjapi.store.backends.items import (
    INDEX_KEYS,
    KEY_ATTRIBUTES,
    TTL_ATTRIBUTE,
    ValidationError,
    check_item,
    normalize,
    normalize_item,
)
from mjapi.store.table import ConditionFailed, Table, TransactionCancelled

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    item TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    expires_at INTEGER,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    old TEXT,
    new TEXT
);
CREATE INDEX IF NOT EXISTS changes_at ON changes (at);
CREATE TABLE IF NOT EXISTS feed_positions (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_UPSERT = (
    "INSERT OR REPLACE INTO items (pk, sk, item, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
CHANGE_RETENTION_MS = 24 * 3600 * 1000
SWEEP_INTERVAL_SECONDS = 60.0
SWEEP_BATCH = 500
MAX_TRANSACTION_ITEMS = 100
_TRANSACTION_KINDS = ("Put", "Update", "Delete", "ConditionCheck")

T = TypeVar("T")


def database_path(table_name: str, data_dir: Path | None = None) -> Path:
    if not table_name or "/" in table_name or "\\" in table_name or table_name.startswith("."):
        raise ValueError(f"not a usable table name: {table_name!r}")
    return (data_dir or config.data_dir()) / f"{table_name}.sqlite3"


def encode(item: Mapping[str, Any]) -> str:
    """The stored text of an item: canonical (sorted keys), so that an unchanged item has unchanged text."""
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _row(item: Mapping[str, Any], text: str) -> tuple[Any, ...]:
    columns: list[Any] = [item["pk"], item["sk"], text]
    for hash_key, range_key in INDEX_KEYS.values():
        if isinstance(item.get(hash_key), str) and isinstance(item.get(range_key), str):
            columns += [item[hash_key], item[range_key]]
        else:
            columns += [None, None]
    ttl = item.get(TTL_ATTRIBUTE)
    columns.append(int(ttl) if isinstance(ttl, int | float) and not isinstance(ttl, bool) else None)
    return tuple(columns)


class _Pending:
    """One write waiting for its group's commit."""

    __slots__ = ("error", "finished", "result", "work")

    def __init__(self, work: Callable[[_Tx], Any]) -> None:
        self.work = work
        self.finished = False
        self.result: Any = None
        self.error: BaseException | None = None


class Database:
    """One SQLite file shared by every thread of this process and by other processes.

    Connections are pooled rather than kept per thread: the webhooks' short-lived worker threads would otherwise each
    leave one behind. A connection is used by one thread at a time.

    Writes of this process are committed in groups: whoever finds no commit under way leads, takes every write queued
    meanwhile and applies them one after the other in one transaction - each in its own savepoint, so a write that
    fails leaves the others alone - and one commit (one fsync with ``synchronous=FULL``) acknowledges them all. Each
    write still sees the ones before it, so they stay linearizable; a lone write is committed at once.
    """

    MAX_IDLE = 16

    def __init__(self, path: Path, *, synchronous: str = "FULL", busy_timeout: float = 30.0) -> None:
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._queue = threading.Condition()
        self._pending: list[_Pending] = []
        self._leading = False
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connected() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        with self.writing() as tx:
            tx.executescript_safe(_SCHEMA)
            tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    @contextmanager
    def connected(self) -> Iterator[sqlite3.Connection]:
        """A connection of the pool for the duration of the block (autocommit: each statement reads a snapshot)."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            with self._lock:  # a connection left inside a transaction is not handed out again
                keep = not conn.in_transaction and len(self._idle) < self.MAX_IDLE
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.connected() as conn:
            return conn.execute(sql, params).fetchall()

    def read_one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.connected() as conn:
            return conn.execute(sql, params).fetchone()

    def write(self, work: Callable[[_Tx], T]) -> T:
        """Run ``work`` in a write transaction (grouped with other writes of this process, see the class docstring)
        and return its result once committed; its exception, with nothing of it written, if it raised."""
        mine = _Pending(work)
        with self._queue:
            self._pending.append(mine)
            while self._leading and not mine.finished:
                self._queue.wait()
            if not mine.finished:
                self._leading = True
                batch, self._pending = self._pending, []
        if not mine.finished:
            try:
                self._commit(batch)
            finally:
                with self._queue:
                    self._leading = False
                    self._queue.notify_all()
        if mine.error is not None:
            raise mine.error
        result: T = mine.result
        return result

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            with self.connected() as conn:
                self._begin_immediate(conn)
                try:
                    for pending in batch:
                        conn.execute("SAVEPOINT one_write")
                        try:
                            pending.result = pending.work(_Tx(conn))
                        except BaseException as exc:  # handed to its caller; the others go on
                            conn.execute("ROLLBACK TO one_write")
                            pending.error = exc
                        conn.execute("RELEASE one_write")
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except BaseException as exc:  # no commit: nothing of the batch was written
            for pending in batch:
                if pending.error is None:
                    pending.error, pending.result = exc, None
        finally:
            for pending in batch:
                pending.finished = True

    @contextmanager
    def writing(self) -> Iterator[_Tx]:
        """One write transaction of its own, outside the groups (the schema at start)."""
        with self.connected() as conn:
            self._begin_immediate(conn)
            try:
                yield _Tx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _begin_immediate(self, conn: sqlite3.Connection) -> None:
        """Take the file's write lock. Another process holding it: retry every fraction of a millisecond (growing to
        5 ms) instead of SQLite's busy handler, which sleeps 1, 2, 5, 10... 100 ms between tries and so leaves the
        lock idle for most of a wait when writes are short - every writer of this process queues behind it."""
        deadline = time.monotonic() + self.busy_timeout
        conn.execute("PRAGMA busy_timeout=0")
        try:
            pause = 0.0002
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                        raise
                time.sleep(pause * (0.5 + random.random()))
                pause = min(pause * 1.5, 0.005)
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")

    def sweep_due(self) -> bool:
        now = time.monotonic()
        if now < self._next_sweep:
            return False
        self._next_sweep = now + SWEEP_INTERVAL_SECONDS
        return True

    def close(self) -> None:
        """Close the idle connections (the ones in use close when they come back, see ``connected``)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self.MAX_IDLE = 0
        for conn in idle:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - closing is best effort
                logger.debug("closing %s failed", self.path, exc_info=True)


class _Tx:
    """A write transaction: reads of the committed state, item writes that also append to the change feed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executescript_safe(self, script: str) -> None:
        """Run ``;``-separated DDL statements inside the open transaction (``executescript`` would commit it)."""
        for statement in script.split(";"):
            if statement.strip():
                self.conn.execute(statement)

    def load(self, pk: str, sk: str) -> tuple[dict[str, Any] | None, str | None]:
        row = self.conn.execute("SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk)).fetchone()
        if row is None:
            return None, None
        return json.loads(row[0]), row[0]

    def store(self, pk: str, sk: str, old_text: str | None, new: Mapping[str, Any] | None, at: int) -> None:
        """Write (or delete, ``new=None``) an item and record the change; a write that changes nothing is skipped,
        as DynamoDB Streams skip it."""
        new_text = encode(new) if new is not None else None
        if new_text == old_text:
            return
        if new is None:
            self.conn.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (pk, sk))
        else:
            assert new_text is not None
            self.conn.execute(_UPSERT, _row(new, new_text))
        self.conn.execute("INSERT INTO changes (at, old, new) VALUES (?, ?, ?)", (at, old_text, new_text))


_databases: dict[Path, Database] = {}  # by resolved path
_opened: dict[Path, Database] = {}  # by the path as asked for
_databases_lock = threading.Lock()


def open_database(path: Path) -> Database:
    """The process's one :class:`Database` for ``path`` (created with its schema on first use). A table is made per
    request: the path is resolved (a few ``lstat`` calls) only the first time it is seen."""
    db = _opened.get(path)
    if db is not None:
        return db
    resolved = path.resolve()
    with _databases_lock:
        db = _databases.get(resolved)
        if db is None:
            db = Database(resolved, synchronous=config.sqlite_synchronous())
            _databases[resolved] = db
        _opened[path] = db
        return db


def close_databases() -> None:
    """Close every connection of this process (tests, and a stack deleting its data directory)."""
    with _databases_lock:
        databases = list(_databases.values())
        _databases.clear()
        _opened.clear()
    for db in databases:
        db.close()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _values(vals: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: normalize(v) for k, v in (vals or {}).items()}


def _key_of(item: Mapping[str, Any], index: str | None) -> dict[str, Any]:
    key = {name: item[name] for name in KEY_ATTRIBUTES}
    if index is not None:
        for name in INDEX_KEYS[index]:
            key[name] = item[name]
    return key


class SqliteTable(Table):
    """:class:`mjapi.store.table.Table` on SQLite (``MJAPI_STORE=sqlite``); see the module docstring."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_settings().table_name
        self._db = open_database(database_path(self.name))

    # -- reads ----------------------------------------------------------------------------------------------------

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        calls.count("sqlite.GetItem")
        row = self._db.read_one("SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk))
        return json.loads(row[0]) if row else None

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        calls.count("sqlite.BatchGetItem")
        out: list[dict[str, Any]] = []
        with self._db.connected() as conn:
            for pk, sk in dict.fromkeys(keys):
                row = conn.execute("SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk)).fetchone()
                if row:
                    out.append(json.loads(row[0]))
        return out

    def query(
        self,
        key_condition: str,
        *,
        vals: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start_key: Mapping[str, Any] | None = None,
        filter_expression: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        calls.count("sqlite.Query")
        if index is not None and index not in INDEX_KEYS:
            raise ValidationError(f"The table does not have the specified index: {index}")
        hash_key, range_key = INDEX_KEYS[index] if index else KEY_ATTRIBUTES
        values = _values(vals)
        names = dict(names or {})
        scope = Scope({}, names, values)
        condition = expressions.key_condition(key_condition, scope, hash_key, range_key)
        used = list(parse_condition(key_condition).refs())
        filter_ast = parse_condition(filter_expression) if filter_expression else None
        if filter_ast is not None:
            used += filter_ast.refs()
        check_placeholders(used, names, values)

        where = [f"{hash_key} = ?"]
        params: list[Any] = [condition.partition]
        op, sort_values = condition.sort_op, condition.sort_values
        if op in ("=", "<", "<=", ">", ">="):
            where.append(f"{range_key} {op} ?")
            params.append(sort_values[0])
        elif op == "between":
            where.append(f"{range_key} BETWEEN ? AND ?")
            params += list(sort_values)
        elif op == "begins_with":
            where.append(f"{range_key} >= ? AND substr({range_key}, 1, ?) = ?")
            params += [sort_values[0], len(sort_values[0]), sort_values[0]]
        order = [range_key] if index is None else [range_key, "pk", "sk"]
        if start_key:
            try:
                after = [start_key[column] for column in order]
            except KeyError as exc:
                raise ValidationError("The provided starting key is invalid") from exc
            where.append(f"({', '.join(order)}) {'>' if forward else '<'} ({', '.join('?' * len(order))})")
            params += after
        direction = "ASC" if forward else "DESC"
        ordering = ", ".join(f"{column} {direction}" for column in order)
        # column names come from INDEX_KEYS, never from the caller; every value is a bound parameter
        sql = f"SELECT item FROM items WHERE {' AND '.join(where)} ORDER BY {ordering}"  # noqa: S608
        if limit:
            sql += f" LIMIT {int(limit) + 1}"
        rows = self._db.read(sql, params)
        items = [json.loads(row[0]) for row in rows[:limit] if row] if limit else [json.loads(r[0]) for r in rows]
        last = _key_of(items[-1], index) if limit and len(rows) > limit else None
        if filter_ast is not None:
            items = [i for i in items if filter_ast.holds(Scope(i, names, values))]
        return items, last

    # -- writes ---------------------------------------------------------------------------------------------------

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        vals: Mapping[str, Any] | None = None,
    ) -> None:
        calls.count("sqlite.PutItem")
        new = normalize_item(item)
        check_item(new)
        check = _condition(condition, names, vals)
        pk, sk = new["pk"], new["sk"]

        def write(tx: _Tx) -> None:
            old, old_text = tx.load(pk, sk)
            if check is not None and not check(old or {}):
                raise ConditionFailed("The conditional request failed")
            tx.store(pk, sk, old_text, new, _now_ms())

        self._write(write)

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        vals: Mapping[str, Any] | None = None,
        return_item: bool = True,
    ) -> dict[str, Any]:
        calls.count("sqlite.UpdateItem")
        apply = _updater(pk, sk, expression, condition, names, vals)

        def write(tx: _Tx) -> dict[str, Any]:
            old, old_text = tx.load(pk, sk)
            new = apply(old)
            if new is None:
                raise ConditionFailed("The conditional request failed")
            tx.store(pk, sk, old_text, new, _now_ms())
            return new

        new = self._write(write)
        return new if return_item else {}

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        """All or nothing: every condition is checked on the state before the transaction, then every write is
        applied, in one SQLite transaction. Reasons are reported per item, as DynamoDB's cancellation reasons."""
        calls.count("sqlite.TransactWriteItems")
        if not operations or len(operations) > MAX_TRANSACTION_ITEMS:
            raise ValidationError(f"a transaction has 1 to {MAX_TRANSACTION_ITEMS} items")
        steps = [_step(op) for op in operations]
        keys = [(pk, sk) for pk, sk, _apply in steps]
        if len(set(keys)) != len(keys):
            raise ValidationError("Transaction request cannot include multiple operations on one item")

        def write(tx: _Tx) -> tuple[str, ...] | None:
            loaded = [tx.load(pk, sk) for pk, sk in keys]
            results: list[dict[str, Any] | _Unchanged | None] = []
            reasons: list[str] = []
            for (_pk, _sk, apply), (old, _text) in zip(steps, loaded, strict=True):
                try:
                    result = apply(old)
                except ValidationError:
                    results.append(None)
                    reasons.append("ValidationError")
                    continue
                results.append(result)
                reasons.append("ConditionalCheckFailed" if result is None else "None")
            if any(reason != "None" for reason in reasons):
                return tuple(reasons)  # nothing written; raised once the transaction has been rolled back
            at = _now_ms()
            for (pk, sk), (_old, old_text), result in zip(keys, loaded, results, strict=True):
                if isinstance(result, _Unchanged):
                    continue
                tx.store(pk, sk, old_text, result.new if isinstance(result, _Deleted) else result, at)
            return None

        cancelled = self._write(write)
        if cancelled is not None:
            raise TransactionCancelled(cancelled)

    # -- maintenance ----------------------------------------------------------------------------------------------

    def sweep(self, now_s: int | None = None, *, batch: int = SWEEP_BATCH) -> int:
        """Delete up to ``batch`` items whose ``expires_at`` has passed (their removal goes on the feed) and changes
        older than the feed keeps. Returns how many items were deleted."""
        now = int(time.time()) if now_s is None else now_s

        def write(tx: _Tx) -> int:
            rows = tx.execute(
                "SELECT pk, sk, item FROM items WHERE expires_at IS NOT NULL AND expires_at < ? LIMIT ?",
                (now, batch),
            ).fetchall()
            at = _now_ms()
            for pk, sk, text in rows:
                tx.store(pk, sk, text, None, at)
            tx.execute("DELETE FROM changes WHERE at < ?", (now * 1000 - CHANGE_RETENTION_MS,))
            return len(rows)

        return self._write(write, sweep=False)

    def _write(self, work: Callable[[_Tx], T], *, sweep: bool = True) -> T:
        result = self._db.write(work)
        if sweep and self._db.sweep_due():
            try:
                self.sweep()
            except sqlite3.Error:
                logger.warning("expiring items in %s failed; will try again", self._db.path, exc_info=True)
        return result


class _Unchanged:
    """A ConditionCheck: its condition held, and it writes nothing."""


class _Deleted:
    new = None


Check = Callable[[Mapping[str, Any]], bool]


def _condition(condition: str | None, names: Mapping[str, str] | None, vals: Mapping[str, Any] | None) -> Check | None:
    """A predicate on the current item (``{}`` when there is none), with placeholders checked up front."""
    if not condition:
        check_placeholders([], names, vals)
        return None
    ast = parse_condition(condition)
    check_placeholders(ast.refs(), names, vals)
    values, attr_names = _values(vals), dict(names or {})
    return lambda item: ast.holds(Scope(item, attr_names, values))


def _updater(
    pk: str,
    sk: str,
    expression: str,
    condition: str | None,
    names: Mapping[str, str] | None,
    vals: Mapping[str, Any] | None,
) -> Callable[[dict[str, Any] | None], dict[str, Any] | None]:
    """The update as a function of the current item: the new item, or None when the condition does not hold. An
    update of a missing item creates it with its key, as UpdateItem does."""
    update = parse_update(expression)
    ast = parse_condition(condition) if condition else None
    check_placeholders([*update.refs(), *(ast.refs() if ast else ())], names, vals)
    values, attr_names = _values(vals), dict(names or {})

    def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
        current = old if old is not None else {"pk": pk, "sk": sk}
        if ast is not None and not ast.holds(Scope(old or {}, attr_names, values)):
            return None
        new = update.apply(Scope(current, attr_names, values), protected=KEY_ATTRIBUTES)
        check_item(new)
        return new

    return apply


def _step(op: Mapping[str, Any]) -> tuple[str, str, Callable[[dict[str, Any] | None], Any]]:
    """One transaction item as (pk, sk, apply): apply returns the new item, None (condition failed), an _Unchanged
    (a ConditionCheck that held) or a _Deleted."""
    if len(op) != 1:
        raise ValidationError("each transaction item is exactly one of Put, Update, Delete, ConditionCheck")
    ((kind, body),) = op.items()
    if kind not in _TRANSACTION_KINDS:
        raise ValidationError(f"unknown transaction item kind {kind!r}")
    names, vals = body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues")
    condition = body.get("ConditionExpression")
    if kind == "Put":
        new = normalize_item(body["Item"])
        check_item(new)
        check = _condition(condition, names, vals)
        return new["pk"], new["sk"], lambda old: new if check is None or check(old or {}) else None
    pk, sk = str(body["Key"]["pk"]), str(body["Key"]["sk"])
    if kind == "Update":
        return pk, sk, _updater(pk, sk, body["UpdateExpression"], condition, names, vals)
    check = _condition(condition, names, vals)
    if kind == "ConditionCheck" and check is None:
        raise ValidationError("a ConditionCheck needs a ConditionExpression")
    outcome: _Unchanged | _Deleted = _Unchanged() if kind == "ConditionCheck" else _Deleted()
    return pk, sk, lambda old: outcome if check is None or check(old or {}) else None
