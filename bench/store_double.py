"""The table replaced by an in-process double that behaves like DynamoDB seen from far away: every call waits a
DynamoDB-like latency (log-normal, p50 6 ms, p99 20 ms by default) in the calling thread, with no limit on how many
calls wait at once, and then runs against the single-machine store (SQLite in a temporary directory, so conditions,
transactions and queries keep their real semantics).

Benchmarks use it to measure what the relay and the API cost *apart from* the store: time spent in the double's
sleep is the store's, everything else is ours. Each call is recorded (kind, the item key it touched, the monotonic
time it was issued) so a benchmark can tell when a write for an event was issued.

Not used by the product or the tests.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mjapi.store.backends.sqlite_table import SqliteTable

T = TypeVar("T")
_Z99 = 2.3263478740408408  # the standard normal's 99th percentile


@dataclass(frozen=True)
class Latency:
    """A log-normal latency given by its median and 99th percentile, in milliseconds."""

    p50_ms: float = 6.0
    p99_ms: float = 20.0

    def sample(self, rng: random.Random) -> float:
        """One latency, in seconds."""
        if self.p50_ms <= 0:
            return 0.0
        sigma = math.log(max(self.p99_ms, self.p50_ms) / self.p50_ms) / _Z99
        return rng.lognormvariate(math.log(self.p50_ms), sigma) / 1000


@dataclass(frozen=True)
class Call:
    kind: str
    key: tuple[str, str] | None  # the item touched first (pk, sk), when the call names one
    issued_at: float  # time.monotonic() when the caller made the call


class LatencyTable(SqliteTable):
    """:class:`SqliteTable` behind a simulated network round trip. Thread-safe; calls never queue behind each other
    (beyond SQLite's own microseconds)."""

    def __init__(self, name: str = "bench", latency: Latency | None = None, *, seed: int = 7) -> None:
        super().__init__(name)
        self.latency = latency or Latency()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._calls_lock = threading.Lock()
        self.calls: list[Call] = []
        self.listeners: list[Callable[[Call], None]] = []
        self._waits = threading.local()

    def _wait(self, kind: str, key: tuple[str, str] | None) -> None:
        call = Call(kind, key, time.monotonic())
        with self._calls_lock:
            self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        with self._rng_lock:
            delay = self.latency.sample(self._rng)
        started = time.perf_counter()
        time.sleep(delay)
        self._waits.seconds = self.waited() + time.perf_counter() - started

    def waited(self) -> float:
        """Seconds the calling thread has spent in the simulated latency so far (as slept, oversleep included): a
        caller's own time is its wall time minus how much this grew meanwhile."""
        seconds: float = getattr(self._waits, "seconds", 0.0)
        return seconds

    def counts(self) -> dict[str, int]:
        with self._calls_lock:
            out: dict[str, int] = {}
            for call in self.calls:
                out[call.kind] = out.get(call.kind, 0) + 1
            return out

    # -- the Table interface, each call behind the latency ----------------------------------------------------------

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        self._wait("GetItem", (pk, sk))
        return super().get(pk, sk, consistent=consistent)

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        self._wait("BatchGetItem", keys[0] if keys else None)
        return super().batch_get(keys)

    def put(self, item: Mapping[str, Any], **kwargs: Any) -> None:
        self._wait("PutItem", (str(item.get("pk")), str(item.get("sk"))))
        super().put(item, **kwargs)

    def update(self, pk: str, sk: str, expression: str, **kwargs: Any) -> Any:
        self._wait("UpdateItem", (pk, sk))
        return super().update(pk, sk, expression, **kwargs)

    def query(self, key_condition: str, **kwargs: Any) -> Any:
        """One page (``query_all`` pages through this, so the latency is paid per page)."""
        vals = kwargs.get("vals") or {}
        first = next((str(v) for v in vals.values() if isinstance(v, str)), "")
        self._wait("Query", (first, ""))
        return super().query(key_condition, **kwargs)

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        first: tuple[str, str] | None = None
        for operation in operations[:1]:
            body: Mapping[str, Any] = next(iter(operation.values()), {})
            key = body.get("Key") or body.get("Item") or {}
            first = (str(key.get("pk")), str(key.get("sk")))
        self._wait("TransactWriteItems", first)
        super().transact(operations)


def temporary_store_env(directory: Path | None = None) -> dict[str, str]:
    """The environment that points the single-machine store at a throwaway directory (no fsync: the double models
    DynamoDB's durability, not a disk's)."""
    path = directory or Path(tempfile.mkdtemp(prefix="mjapi-double-"))
    return {"MJAPI_STORE": "sqlite", "MJAPI_DATA_DIR": str(path), "MJAPI_SQLITE_SYNCHRONOUS": "NORMAL"}


def install_env(directory: Path | None = None) -> dict[str, str]:
    env = temporary_store_env(directory)
    os.environ.update(env)
    return env
