"""Lazily created boto3 clients, one per process and service.

Never created at import time: tests start moto first, then point ``AWS_ENDPOINT_URL`` at it. boto3 itself is imported
with the first client (~0.3 s and ~25 MiB a process on the single-machine store never spends).
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from mjapi.store.backends import calls

_lock = threading.Lock()


@cache
def client(service: str) -> Any:
    """A shared, thread-safe boto3 client for ``service`` (boto3 clients are thread-safe; sessions are not)."""
    import boto3
    from botocore.config import Config

    with _lock:
        config = Config(retries={"max_attempts": 5, "mode": "adaptive"}, max_pool_connections=50)
        made = boto3.session.Session().client(service, config=config)
    calls.watch_client(service, made)  # benchmarks only (MJAPI_STORE_CALLS_DIR)
    return made


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints between sessions)."""
    client.cache_clear()
