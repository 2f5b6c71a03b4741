"""Scale-out on one machine (issue 11): many simulated accounts over several relay processes sharing the single-machine
store, one relay killed mid-run.

The stack comes from `devstack.stack.start_stack` without its relay (the simulator with ``--accounts`` accounts, the
API through the real Lambda handler, the dispatcher, SQLite in a temporary data directory); ``--relays`` processes of
`python -m gateway_relay` share it, each with its own ``MJAPI_RELAY_OWNER_ID`` and a short lease. Jobs are submitted
through ``/midjourney/imagine`` (the simulator's "simslow": five times longer, so many are in flight); once some run,
one relay gets SIGKILL. Printed:

- how the accounts were spread over the relays (lease holders) once all were connected, and after the kill;
- re-own time: from the kill until every account of the killed relay is leased and connected (heartbeat, owner)
  by a survivor, beside the lease;
- jobs lost (not terminal at the end; must be 0) and their statuses;
- slots leaked (accounts whose active-slot counter is not back to 0 once every job ended).

Not a test: no pass/fail.

    .venv/bin/python bench/bench_scaleout.py [--accounts 2000] [--relays 4] [--jobs 300] [--lease 10] [--speed 20]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "core"))

from devstack.stack import StackOptions, start_stack  # noqa: E402
from gateway_relay import lease  # noqa: E402
from mjapi.clock import now_ms  # noqa: E402
from mjapi.service.context import Context  # noqa: E402
from mjapi.store import keys  # noqa: E402
from mjapi.store.accounts import list_accounts  # noqa: E402
from mjapi.store.table import Table  # noqa: E402

ADMIN = "bench-admin-key-0123456789"


def spread(table: Table, account_ids: list[str]) -> Counter[str]:
    """Relay -> accounts whose lease it holds now."""
    now = now_ms()
    held = lease.holders(table, account_ids)
    return Counter(h.owner for h in held.values() if h.lease_until_ms >= now)


def owned_and_connected(table: Table, account_id: str, survivors: set[str]) -> bool:
    held = lease.holders(table, [account_id]).get(account_id)
    if held is None or held.owner not in survivors or held.lease_until_ms < now_ms():
        return False
    item = table.get(keys.account_pk(account_id), keys.ACCOUNT_SK) or {}
    return (
        item.get("relay_owner") == held.owner
        and bool(item.get("session_id"))
        and int(item.get("heartbeat_until", 0)) > now_ms()
    )


def start_relay(owner: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MJAPI_RELAY_OWNER_ID": owner, "MALLOC_ARENA_MAX": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "gateway_relay"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--relays", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--lease", type=float, default=10.0, help="MJAPI_RELAY_LEASE_SECONDS")
    parser.add_argument("--speed", type=float, default=20.0, help="simulator speed factor")
    parser.add_argument("--kill-after", type=float, default=2.0, help="seconds after the jobs are submitted")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file (bench_stack)")
    args = parser.parse_args()

    started = time.monotonic()
    stack = start_stack(
        StackOptions(
            port=0,
            relay=False,
            sim_accounts=args.accounts,
            sim_speed=args.speed,
            admin_key=ADMIN,
            sim_settings={"image_scale": 0.25},
            dispatcher_interval=5.0,
            extra_env={
                "MJAPI_RELAY_LEASE_SECONDS": f"{args.lease:g}",
                "MJAPI_RELAY_RESUME_SAVE_INTERVAL_SECONDS": "1",
                "MJAPI_RELAY_CATCH_UP_MESSAGES": "0",
                "MJAPI_RELAY_METRICS_INTERVAL_SECONDS": "0",
                "MJAPI_RELAY_HEALTH_FILE": "",
                "MJAPI_QUEUE_LIMIT": str(args.jobs * 2),
                "MJAPI_MAX_ACTIVE_PER_TOKEN": str(args.jobs),
                "MJAPI_TOKEN_REQUESTS_PER_MINUTE": "0",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            },
        )
    )
    print(f"stack with {args.accounts} simulated accounts ready in {time.monotonic() - started:.0f} s")
    owners = [f"relay-{n + 1}" for n in range(args.relays)]
    relays = {owner: start_relay(owner) for owner in owners}
    try:
        figures = run(args, stack, relays)
        if args.json:
            args.json.write_text(json.dumps(figures))
    finally:
        for process in relays.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in relays.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        stack.stop()


def run(args: argparse.Namespace, stack: Any, relays: dict[str, subprocess.Popen[bytes]]) -> dict[str, Any]:
    ctx = Context.current()
    table = ctx.table
    ids = [str(a["id"]) for a in stack.accounts]
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.timeout:
        found = list_accounts(table)
        connected = sum(1 for a in found if a.connected)
        if connected == len(ids):
            break
        time.sleep(1.0)
    print(f"{args.relays} relays connected {connected}/{len(ids)} accounts in {time.monotonic() - t0:.0f} s")
    before = spread(table, ids)
    print("spread over the relays: " + ", ".join(f"{o} {before.get(o, 0)}" for o in relays))

    http = httpx.Client(base_url=stack.api_url, timeout=120)
    token = http.get(
        "/midjourney/create_token", params={"count": args.jobs, "days": 1}, headers={"x-admin-key": ADMIN}
    ).json()["token"]

    def submit(n: int) -> dict[str, Any]:
        try:
            resp = http.get("/midjourney/imagine", params={"token": token, "prompt": f"scale job {n} simslow"})
            return dict(resp.json())
        except (httpx.HTTPError, ValueError) as exc:  # an overloaded machine: counted as refused
            return {"code": type(exc).__name__}

    with ThreadPoolExecutor(max_workers=4) as pool:
        submitted = list(pool.map(submit, range(args.jobs)))
    job_ids = [str(s["id"]) for s in submitted if "id" in s]
    refused = Counter(str(s.get("code") or s.get("error") or s)[:60] for s in submitted if "id" not in s)
    time.sleep(args.kill_after)

    at_kill = spread(table, ids)
    print("spread when the jobs run: " + ", ".join(f"{o} {at_kill.get(o, 0)}" for o in relays))
    victim = owners_sorted(relays)[1 if len(relays) > 1 else 0]
    victim_accounts = [a for a, h in lease.holders(table, ids).items() if h.owner == victim]
    running = sum(1 for j in ctx.jobs.get_many(job_ids) if j.account_id in set(victim_accounts) and not j.is_terminal)
    relays[victim].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    relays[victim].wait(timeout=30)
    print(f"SIGKILL {victim}: it held {len(victim_accounts)} accounts, {running} of its jobs not finished yet")
    survivors = {o for o in relays if o != victim}
    pending = set(victim_accounts)
    reowned: list[float] = []
    while pending and time.monotonic() - killed_at < args.timeout:
        for account_id in list(pending):
            if owned_and_connected(table, account_id, survivors):
                pending.discard(account_id)
                reowned.append(time.monotonic() - killed_at)
        time.sleep(0.25)
    if reowned:
        reowned.sort()
        print(
            f"re-own time: every account of {victim} leased and connected by a survivor after {reowned[-1]:.1f} s "
            f"(median account {reowned[len(reowned) // 2]:.1f} s) with a {args.lease:g} s lease"
            + (f"; {len(pending)} never re-owned" if pending else "")
        )

    deadline = time.monotonic() + args.timeout
    jobs = ctx.jobs.get_many(job_ids)
    while time.monotonic() < deadline and not all(j.is_terminal for j in jobs):
        time.sleep(1.0)
        jobs = ctx.jobs.get_many(job_ids)
    statuses = Counter(j.status.value for j in jobs)
    lost = sum(1 for j in jobs if not j.is_terminal) + (len(job_ids) - len(jobs))
    print(
        f"jobs: {len(job_ids)} submitted (refused: {dict(refused) or 0}), statuses {dict(statuses)}; jobs lost: {lost}"
    )

    deadline = time.monotonic() + 30
    leaked: dict[str, int] = {}
    while time.monotonic() < deadline:
        leaked = {a.id: a.slots_used for a in list_accounts(table) if a.slots_used}
        if not leaked:
            break
        time.sleep(1.0)
    print(f"slots leaked: {sum(leaked.values())} on {len(leaked)} accounts")
    after = spread(table, ids)
    print("spread after the kill: " + ", ".join(f"{o} {after.get(o, 0)}" for o in sorted(survivors)))
    return {
        "accounts": len(ids),
        "relays": args.relays,
        "lease_s": args.lease,
        "spread": [at_kill.get(o, 0) for o in relays],
        "victim_accounts": len(victim_accounts),
        "reown_s": reowned[-1] if reowned and not pending else None,
        "jobs": len(job_ids),
        "lost": lost,
        "leaked": sum(leaked.values()),
    }


def owners_sorted(relays: dict[str, subprocess.Popen[bytes]]) -> list[str]:
    return sorted(relays)


if __name__ == "__main__":
    main()
