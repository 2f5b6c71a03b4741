"""Store calls counted per kind, for benchmarks: set ``MJAPI_STORE_CALLS_DIR`` and every process writes
``<dir>/<pid>.json`` (``{"argv": [...], "calls": {"dynamodb.UpdateItem": 12, ...}}``) when it exits.

DynamoDB and S3 calls are counted where boto3 makes them (a ``before-call`` hook on each client), the SQLite store's
by the same operation names, so the figures of both backends compare. Off (one dictionary lookup per call) unless the
variable is set when the process starts.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

_DIR = os.environ.get("MJAPI_STORE_CALLS_DIR") or None
_counts: Counter[str] = Counter()
_lock = threading.Lock()


def enabled() -> bool:
    return _DIR is not None


def count(kind: str) -> None:
    if _DIR is not None:
        with _lock:
            _counts[kind] += 1


def snapshot() -> dict[str, int]:
    with _lock:
        return dict(_counts)


def watch_client(service: str, client: Any) -> None:
    """Count every API call a boto3 client makes as ``<service>.<Operation>``."""
    if _DIR is None:
        return

    def before_call(model: Any, **_: Any) -> None:
        count(f"{service}.{model.name}")

    client.meta.events.register("before-call", before_call)  # this client's own emitter: its calls only


def _dump() -> None:
    if _DIR is None:
        return
    path = Path(_DIR)
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{os.getpid()}.json").write_text(json.dumps({"argv": sys.argv, "calls": snapshot()}), encoding="utf-8")


if _DIR is not None:
    atexit.register(_dump)
