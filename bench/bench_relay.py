"""The relay under load: event -> job latency percentiles, events/s, and the relay's memory per account.

Starts the offline stack without its in-process relay (moto in its own process, the simulator, the API through the
real Lambda handler), then runs `python -m gateway_relay` as its own process, exactly as on Fargate. Submits jobs
through the HTTP API, waits for all of them, and prints:

- latency from the simulator posting a job's result to the job record showing it (p50/p90/p99/max),
- gateway dispatches delivered to the relay per second,
- the relay's RSS after connecting and at its peak, in total and per account.

Not a test: no pass/fail.

    .venv/bin/python bench/bench_relay.py [--accounts 10] [--jobs 60] [--speed 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "core"))

from devstack.stack import StackOptions, start_stack  # noqa: E402
from mjapi.service.context import Context  # noqa: E402
from mjapi.store.accounts import list_accounts  # noqa: E402

ADMIN = "bench-admin-key-0123456789"


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size in KiB, from /proc."""
    values = {"VmRSS": 0, "VmHWM": 0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--speed", type=float, default=100.0)
    args = parser.parse_args()

    stack = start_stack(
        StackOptions(
            port=0,
            relay=False,
            sim_accounts=args.accounts,
            sim_speed=args.speed,
            admin_key=ADMIN,
            sim_settings={"image_scale": 0.25},
            dispatcher_interval=30.0,
            extra_env={"MJAPI_QUEUE_LIMIT": str(args.jobs * 2), "POWERTOOLS_LOG_LEVEL": "ERROR"},
        )
    )
    relay = subprocess.Popen(
        [sys.executable, "-m", "gateway_relay"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run(stack, relay, args)
    finally:
        relay.terminate()
        relay.wait(timeout=30)
        stack.stop()


def run(stack: Any, relay: subprocess.Popen[bytes], args: argparse.Namespace) -> None:
    ctx = Context.current()
    deadline = time.monotonic() + 60
    while not all(a.connected for a in list_accounts(ctx.table)) and time.monotonic() < deadline:
        time.sleep(0.1)
    idle_rss, _ = rss_kib(relay.pid)
    sim = stack.simulator
    seq_before = sum(s["seq"] for a in sim.accounts() for s in sim.sessions(a))

    http = httpx.Client(base_url=stack.api_url, timeout=60)
    token = http.get(
        "/midjourney/create_token", params={"count": args.jobs, "days": 1}, headers={"x-admin-key": ADMIN}
    ).json()["token"]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        submitted = list(
            pool.map(
                lambda n: http.get("/midjourney/imagine", params={"token": token, "prompt": f"bench job {n}"}).json(),
                range(args.jobs),
            )
        )
    pending = {s["id"] for s in submitted}
    done: dict[str, Any] = {}
    while pending and time.monotonic() - started < 600:
        time.sleep(1.0)
        for job_id in list(pending):  # single GetItems: a BatchGetItem of many jobs is very slow in moto
            job = ctx.jobs.get(job_id)
            if job is not None and job.is_terminal:
                done[job_id] = job
                pending.discard(job_id)
    jobs = list(done.values())
    elapsed = time.monotonic() - started
    _, peak_rss = rss_kib(relay.pid)
    seq_after = sum(s["seq"] for a in sim.accounts() for s in sim.sessions(a))

    sim_jobs = {j.id: j for j in sim.jobs()}
    latencies = [
        j.finished_at / 1000 - sim_jobs[j.message_hash].finished_at
        for j in jobs
        if j.finished_at and j.message_hash in sim_jobs and sim_jobs[j.message_hash].finished_at
    ]
    succeeded = sum(1 for j in jobs if j.status.value == "succeeded")
    events = seq_after - seq_before
    print(f"accounts {args.accounts}, jobs {args.jobs} (succeeded {succeeded}), simulator speed x{args.speed:g}")
    print(f"wall time {elapsed:.1f} s, {succeeded / elapsed:.2f} jobs/s")
    print(f"gateway dispatches to the relay: {events} ({events / elapsed:.1f} events/s)")
    if latencies:
        ms = [x * 1000 for x in latencies]
        print(
            "result event -> job succeeded (ms): "
            f"p50 {percentile(ms, 0.5):.0f}  p90 {percentile(ms, 0.9):.0f}  p99 {percentile(ms, 0.99):.0f}  "
            f"max {max(ms):.0f}  mean {statistics.fmean(ms):.0f}"
        )
    print(
        f"relay RSS: {idle_rss / 1024:.1f} MiB connected, {peak_rss / 1024:.1f} MiB peak; "
        f"{idle_rss / args.accounts:.0f} KiB / account connected, {peak_rss / args.accounts:.0f} KiB / account peak"
    )


if __name__ == "__main__":
    main()
