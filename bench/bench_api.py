"""The API handler on its own: cold import of the Lambda module in a fresh interpreter, and warm requests through the
real handler (API Gateway events, no HTTP) on the single-machine store in a temporary directory, with the simulator
answering Discord in this process.

Not a test: no pass/fail. `bench/bench_stack.py` prints these figures in its table too.

    .venv/bin/python bench/bench_api.py [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
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


def warm_requests(requests: int = 300) -> dict[str, tuple[float, float]]:
    """p50 and p99 (ms) of warm requests through the handler, per route."""
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core")]
    from simulator import SimulatorThread

    with tempfile.TemporaryDirectory(prefix="mjapi-bench-api-") as tmp, SimulatorThread(seed=5, speed=1000) as sim:
        accounts = []
        for n in range(3):
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
        try:
            return _measure(requests, accounts)
        finally:
            from mjapi.store.backends.sqlite_table import close_databases

            close_databases()
            os.environ.clear()
            os.environ.update(saved)


def _measure(requests: int, accounts: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    from devstack.lambda_adapter import LambdaContextStub, build_event, load_handler
    from mjapi.secrets import clear_secrets_cache
    from mjapi.service.context import Context
    from mjapi.settings import get_settings
    from mjapi.store.accounts import set_session, sync_accounts

    get_settings.cache_clear()
    clear_secrets_cache()
    ctx = Context.current()
    sync_accounts(ctx.table, ctx.secrets.accounts)
    for account in accounts:
        set_session(ctx.table, account["id"], "0" * 32, live_seconds=3600)
    handler = load_handler(HANDLER)

    def call(path: str, headers: dict[str, str] | None = None) -> Any:
        event = build_event("GET", path, {"Host": "bench", **(headers or {})}, None)
        response = handler(event, LambdaContextStub(aws_request_id="bench"))
        assert response["statusCode"] == 200, response
        return json.loads(response["body"])

    token = call("/midjourney/create_token?count=100000&days=1", {"x-admin-key": ADMIN})["token"]
    job_id = call(f"/midjourney/imagine?token={token}&prompt=warm%20up")["id"]
    routes = {
        "GET /midjourney/job": lambda n: call(f"/midjourney/job?token={token}&id={job_id}"),
        "GET /midjourney/history": lambda n: call(f"/midjourney/history?token={token}"),
        "GET /midjourney/imagine": lambda n: call(f"/midjourney/imagine?token={token}&prompt=bench%20{n}"),
    }
    figures: dict[str, tuple[float, float]] = {}
    for name, request in routes.items():
        for n in range(10):  # warm
            request(-n)
        times = []
        for n in range(requests):
            started = time.perf_counter()
            request(n)
            times.append((time.perf_counter() - started) * 1000)
        figures[name] = (percentile(times, 0.5), percentile(times, 0.99))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(f"API handler cold import: {cold_import_ms():.0f} ms (goal <= 250 ms)")
    for name, (p50, p99) in warm_requests(args.requests).items():
        print(f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal p99 <= 15 ms)")


if __name__ == "__main__":
    main()
