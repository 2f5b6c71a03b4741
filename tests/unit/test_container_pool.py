"""The offline stack's pool of Lambda "containers" resolves one request at a time: Powertools keeps the request being
resolved on a class attribute, so two resolved at once in one interpreter would read each other's events."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack.lambda_adapter import ContainerPool


def test_requests_never_overlap_even_with_free_containers() -> None:
    inside = 0
    most = 0
    lock = threading.Lock()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.01)
        with lock:
            inside -= 1
        return {"statusCode": 200, "body": event["id"]}

    pool = ContainerPool(lambda: handler, size=4)
    with ThreadPoolExecutor(max_workers=8) as workers:
        answers = list(workers.map(lambda n: pool({"id": str(n)}, None)["body"], range(24)))
    assert answers == [str(n) for n in range(24)]
    assert most == 1
