"""The API handler on its own: cold import of the Lambda module in a fresh interpreter, and warm requests through the
real handler (API Gateway events, no HTTP) on the single-machine store in a temporary directory, with the simulator
answering Discord in this process (every /imagine finds a free slot and posts its interaction).

``--store double`` puts `store_double.py`'s table behind the handler instead: every store call waits a DynamoDB-like
latency (p50 6 ms, p99 20 ms). Besides each request's whole time it prints the handler's own time: the whole minus
what the request waited in that latency (SQLite's work under the double and the Discord POST to the in-process
simulator stay in it). Both modes also print the handler's Python alone (the whole minus every store call and every
Discord request) and the request thread's CPU time (SQLite's work included), which a busy machine inflates least.

Not a test: no pass/fail. `bench/bench_stack.py` prints these figures in its table too.

    .venv/bin/python bench/bench_api.py [--requests 300] [--store sqlite|double]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HANDLER = ROOT / "functions" / "api" / "app.py"
ADMIN = "bench-admin-key-0123456789abcdef"

_COLD = """
import sys, time
sys.path[:0] = [{root!r}, {core!r}]
import importlib.util
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {handler!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert module.lambda_handler
print((time.perf_counter() - started) * 1000)
"""


def cold_import_ms(runs: int = 5) -> float:
    """Median wall time to import the API's Lambda module (and everything it imports) in a fresh interpreter."""
    code = _COLD.format(root=str(ROOT), core=str(ROOT / "layers" / "core"), handler=str(HANDLER))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MJAPI_")}
    env.update({"MJAPI_STORE": "sqlite", "POWERTOOLS_LOG_LEVEL": "ERROR"})
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class RouteFigures:
    """Milliseconds: the whole request, and the handler's own part (minus the store double's simulated latency; the
    same as the whole on the real store)."""

    p50: float
    p99: float
    own_p50: float
    own_p99: float
    handler_p50: float  # minus every store call (the latency and SQLite's work under it) and Discord's answer too
    handler_p99: float
    cpu_p50: float  # the request thread's CPU time: what a loaded machine's scheduling does not inflate
    cpu_p99: float


def warm_requests(requests: int = 300, store: str = "sqlite") -> dict[str, tuple[float, float]]:
    """p50 and p99 (ms) of warm requests through the handler, per route."""
    return {route: (f.p50, f.p99) for route, f in warm_figures(requests, store).items()}


def warm_figures(requests: int = 300, store: str = "sqlite") -> dict[str, RouteFigures]:
    """Warm requests through the handler, per route. ``store``: ``sqlite`` (make run's store, fsync per commit) or
    ``double`` (``store_double.LatencyTable``: a DynamoDB-like latency in front of SQLite without fsync)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core"), str(ROOT / "bench")]
    from simulator import SimulatorThread

    # Every /imagine must find a free slot (12 per account) and post to Discord (a queued job posts nothing): the
    # warm-up sends one per account (its client and command index are made then) and ten more.
    with tempfile.TemporaryDirectory(prefix="mjapi-bench-api-") as tmp, SimulatorThread(seed=5, speed=1) as sim:
        accounts = []
        for n in range(-(-(requests + WARMUP + 1) // 11) + 1):
            acct = sim.add_account(name=f"api{n}", mode="fast")
            accounts.append(
                {"id": f"api{n}", "token": acct.token, "channel_id": acct.channel_id, "guild_id": acct.guild_id}
                | {"mode": "fast", "concurrency": 12}
            )
        saved = dict(os.environ)
        os.environ.update(
            {
                "MJAPI_STORE": "sqlite",
                "MJAPI_DATA_DIR": tmp,
                "MJAPI_SECRETS_JSON": json.dumps({"admin_key": ADMIN, "accounts": accounts}),
                "MJAPI_CDN_BASE_URL": "http://127.0.0.1/cdn",
                "MJAPI_DISCORD_API_BASE": sim.urls.rest,
                "MJAPI_MAX_ACTIVE_PER_TOKEN": "100000",
                "MJAPI_TOKEN_REQUESTS_PER_MINUTE": "0",
                "MJAPI_QUEUE_LIMIT": "100000",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            }
        )
        if store == "double":
            from store_double import temporary_store_env

            os.environ.update(temporary_store_env(Path(tmp)))
        try:
            return _measure(requests, accounts, store)
        finally:
            from mjapi.store.backends.sqlite_table import close_databases

            close_databases()
            os.environ.clear()
            os.environ.update(saved)


WARMUP = 10


STORE_CALLS = ("get", "batch_get", "put", "update", "query", "transact")


def _measure(requests: int, accounts: list[dict[str, Any]], store: str) -> dict[str, RouteFigures]:
    from devstack.lambda_adapter import LambdaContextStub, build_event, load_handler
    from mjapi.discord.rest import DiscordRest
    from mjapi.secrets import clear_secrets_cache, get_secrets
    from mjapi.service import context
    from mjapi.settings import get_settings
    from mjapi.store.accounts import set_session, sync_accounts
    from mjapi.store.table import Table

    get_settings.cache_clear()
    clear_secrets_cache()
    plain = Table(get_settings().table_name)
    sync_accounts(plain, get_secrets().accounts)
    for account in accounts:
        set_session(plain, account["id"], "0" * 32, live_seconds=3600)
    latency = _install_double(context) if store == "double" else (lambda: 0.0)
    in_store = _Stopwatch(type(context.Table(None)), STORE_CALLS)
    on_discord = _Stopwatch(DiscordRest, ("request",))
    handler = load_handler(HANDLER)
    own: list[float] = []
    own_handler: list[float] = []
    cpu: list[float] = []

    def call(path: str, headers: dict[str, str] | None = None) -> Any:
        event = build_event("GET", path, {"Host": "bench", **(headers or {})}, None)
        before = (latency(), in_store.seconds(), on_discord.seconds())
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = handler(event, LambdaContextStub(aws_request_id="bench"))
        whole = time.perf_counter() - started
        cpu.append((time.thread_time() - cpu_started) * 1000)
        own.append((whole - (latency() - before[0])) * 1000)
        waits = in_store.seconds() - before[1] + on_discord.seconds() - before[2]
        own_handler.append((whole - waits) * 1000)
        assert response["statusCode"] == 200, response
        return json.loads(response["body"])

    token = call("/midjourney/create_token?count=100000&days=1", {"x-admin-key": ADMIN})["token"]
    job = call(f"/midjourney/imagine?token={token}&prompt=warm%20up")
    assert job["status"] == "submitted", job
    routes = {
        "GET /midjourney/job": lambda n: call(f"/midjourney/job?token={token}&id={job['id']}"),
        "GET /midjourney/history": lambda n: call(f"/midjourney/history?token={token}"),
        "GET /midjourney/imagine": lambda n: call(f"/midjourney/imagine?token={token}&prompt=bench%20{n}"),
    }
    figures: dict[str, RouteFigures] = {}
    for name, request in routes.items():
        for n in range(WARMUP + (len(accounts) if "imagine" in name else 0)):
            request(-n)
        times = []
        own.clear()
        own_handler.clear()
        cpu.clear()
        for n in range(requests):
            started = time.perf_counter()
            request(n)
            times.append((time.perf_counter() - started) * 1000)
        figures[name] = RouteFigures(
            *(percentile(times, 0.5), percentile(times, 0.99)),
            *(percentile(own, 0.5), percentile(own, 0.99)),
            *(percentile(own_handler, 0.5), percentile(own_handler, 0.99)),
            *(percentile(cpu, 0.5), percentile(cpu, 0.99)),
        )
    return figures


class _Stopwatch:
    """Times the calls of some methods of a class, per thread (the outermost call only, when they call each other)."""

    def __init__(self, cls: type, methods: tuple[str, ...]) -> None:
        self._local = threading.local()
        for name in methods:
            setattr(cls, name, self._timed(getattr(cls, name)))

    def seconds(self) -> float:
        return float(getattr(self._local, "seconds", 0.0))

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        local = self._local

        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(local, "depth", 0)
            local.depth = depth + 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                local.depth = depth
                if depth == 0:
                    local.seconds = getattr(local, "seconds", 0.0) + time.perf_counter() - started

        return timed


def _install_double(context: Any) -> Callable[[], float]:
    """Hand the handler's per-request ``Context`` the store double instead of a new table; returns how long the
    calling thread has waited in the double's latency so far (seconds)."""
    from store_double import LatencyTable

    from mjapi.settings import get_settings

    double = LatencyTable(get_settings().table_name)
    context.Table = lambda _name=None: double  # Context.current() builds Table(settings.table_name) per request
    waited: Callable[[], float] = double.waited
    return waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--store",
        choices=("sqlite", "double"),
        default="sqlite",
        help="sqlite: make run's store; double: bench/store_double.py (DynamoDB-like latency, p50 6 / p99 20 ms)",
    )
    args = parser.parse_args()
    print(f"API handler cold import: {cold_import_ms():.0f} ms (goal <= 250 ms)")
    for name, f in warm_figures(args.requests, args.store).items():
        line = f"{name}: p50 {f.p50:.1f} ms, p99 {f.p99:.1f} ms"
        if args.store == "double":
            line += f"; own (minus the store's latency) p50 {f.own_p50:.1f} ms, p99 {f.own_p99:.1f} ms"
        line += f"; minus all store calls and Discord p50 {f.handler_p50:.1f} ms, p99 {f.handler_p99:.1f} ms"
        line += f"; thread CPU p50 {f.cpu_p50:.1f} ms, p99 {f.cpu_p99:.1f} ms"
        print(f"{line} (goal {'own ' if args.store == 'double' else ''}p99 <= 15 ms)")


if __name__ == "__main__":
    main()
