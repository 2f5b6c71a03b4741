"""The offline stack's pool of Lambda "containers" resolves requests concurrently, one per container, through the real
handler behind real HTTP: many requests at once, each with its own query, path and credentials, each get their own
answer. Powertools keeps the request being resolved on a class attribute; had the resolver not made it per thread,
the answers here would cross (a job read for one id answered with another, a token minted with another's count)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devstack.lambda_adapter import ContainerPool, LambdaHttpServer, load_handler
from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.models import Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import create_token

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "api" / "app.py"
ADMIN = "admin-key-for-the-pool-test-0123456789"
CONTAINERS = 4
CLIENTS = 24


@pytest.fixture
def server(sqlite_table: Table, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": ADMIN, "accounts": []}))
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    clear_secrets_cache()
    pool = ContainerPool(lambda: load_handler(HANDLER), size=CONTAINERS)
    running = LambdaHttpServer(pool, port=0).start()
    try:
        yield running.url
    finally:
        running.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _jobs(table: Table, count: int) -> list[tuple[str, Job]]:
    """``count`` jobs, each of its own token (clear token, job)."""
    store = JobStore(table)
    out = []
    for n in range(count):
        clear, token = create_token(table, count=5, days=1)
        now = now_ms()
        job = Job(
            id=new_job_id(),
            kind=JobKind.IMAGINE,
            status=JobStatus.MODAL,
            token_hash=token.token_hash,
            prompt=f"prompt number {n}",
            api="mj",
            created_at=now,
            updated_at=now,
        )
        store.create_modal(job)
        out.append((clear, job))
    return out


def _race(calls: list[Callable[[], None]]) -> None:
    """Run every call at once (released together by a barrier), each in its own thread; re-raise the first failure."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], None]) -> None:
        start.wait()
        call()

    with ThreadPoolExecutor(max_workers=len(calls)) as workers:
        for future in [workers.submit(run, call) for call in calls]:
            future.result()


def test_concurrent_requests_each_get_their_own_answer(server: str, sqlite_table: Table) -> None:
    jobs = _jobs(sqlite_table, CLIENTS // 2)
    answers: list[str] = []
    lock = threading.Lock()

    def job_by_query(token: str, job: Job) -> Callable[[], None]:
        def call() -> None:  # the query string and the token: current_event
            status, body = _get(f"{server}/midjourney/job?id={job.id}&token={token}")
            assert status == 200, body
            assert (body["id"], body["prompt"]) == (job.id, job.prompt)
            with lock:
                answers.append(job.id)

        return call

    def task_by_path(token: str, job: Job) -> Callable[[], None]:
        def call() -> None:  # the path argument: the routing context; the secret header: current_event
            status, body = _get(f"{server}/mj/task/{job.id}/fetch", {"mj-api-secret": token})
            assert status == 200, body
            assert (body["id"], body["prompt"]) == (job.id, job.prompt)
            with lock:
                answers.append(job.id)

        return call

    def mint(count: int) -> Callable[[], None]:
        def call() -> None:
            status, body = _get(
                f"{server}/midjourney/create_token?count={count}&days=1&label=t{count}", {"x-admin-key": ADMIN}
            )
            assert status == 200, body
            assert (body["count"], body["label"]) == (count, f"t{count}")
            with lock:
                answers.append(f"t{count}")

        return call

    for _round in range(3):  # the first round hits fresh containers: routes built, clients made, all at once
        calls = [job_by_query(token, job) for token, job in jobs]
        calls += [task_by_path(token, job) for token, job in reversed(jobs)]
        calls += [mint(n) for n in range(1, CLIENTS // 2 + 1)]
        _race(calls)
    assert len(answers) == 3 * (len(jobs) * 2 + CLIENTS // 2)


def test_a_request_waits_for_a_free_container_and_containers_run_at_once() -> None:
    """Never more requests inside than containers; with more waiting, all containers are busy together."""
    inside = 0
    most = 0
    lock = threading.Lock()
    all_busy = threading.Barrier(CONTAINERS, timeout=30)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        if int(event["id"]) < CONTAINERS:
            all_busy.wait()  # the first requests meet inside: they can only if they run at once
        with lock:
            inside -= 1
        return {"statusCode": 200, "body": event["id"]}

    pool = ContainerPool(lambda: handler, size=CONTAINERS)
    with ThreadPoolExecutor(max_workers=3 * CONTAINERS) as workers:
        first = [workers.submit(pool, {"id": str(n)}, None) for n in range(CONTAINERS)]
        answers = [f.result()["body"] for f in first]
        answers += list(workers.map(lambda n: pool({"id": str(n)}, None)["body"], range(CONTAINERS, 40)))
    assert answers == [str(n) for n in range(40)]
    assert most == CONTAINERS
