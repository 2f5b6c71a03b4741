"""Load the simulator like a relay would: N accounts x J running jobs at a high speed factor.

Runs `python -m simulator` in its own process (so it gets its own core), connects one real gateway client per
account (websockets, optionally zlib-stream), submits J imagine jobs per account over REST and waits for every
result. Prints dispatch events/s, job completion stats and the simulator's memory (RSS). Not a test: no pass/fail.

    .venv/bin/python bench/bench_simulator.py [--accounts 200] [--jobs 3] [--speed 100] [--zlib]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
ZLIB_SUFFIX = b"\x00\x00\xff\xff"


@dataclass
class Stats:
    events: int = 0
    bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    first_message: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process in KiB, from /proc."""
    values = {"VmRSS": 0, "VmHWM": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """One account: a gateway connection and its jobs."""

    def __init__(
        self, account: dict[str, Any], urls: dict[str, str], http: aiohttp.ClientSession, stats: Stats, use_zlib: bool
    ) -> None:
        self.account = account
        self.urls = urls
        self.http = http
        self.stats = stats
        self.use_zlib = use_zlib
        self.session_id = ""
        self.pending: dict[str, float] = {}  # nonce -> submit time
        self.interactions: dict[str, str] = {}  # interaction id -> nonce
        self.done = asyncio.Event()
        self.expected = 0
        self.completed = 0
        self.ready = asyncio.Event()

    async def run_gateway(self) -> None:
        query = "/?v=9&encoding=json" + ("&compress=zlib-stream" if self.use_zlib else "")
        inflator = zlib.decompressobj()
        buffer = b""
        async with connect(self.urls["gateway"] + query, proxy=None, max_size=None) as ws:
            await ws.send(
                json.dumps(
                    {
                        "op": 2,
                        "d": {
                            "token": self.account["token"],
                            "capabilities": 16381,
                            "properties": {"os": "Linux", "browser": "bench", "device": ""},
                        },
                    }
                )
            )
            heartbeat: asyncio.Task[None] | None = None
            try:
                async for raw in ws:
                    if isinstance(raw, bytes):
                        self.stats.bytes += len(raw)
                        buffer += raw
                        if not buffer.endswith(ZLIB_SUFFIX):
                            continue
                        frame = json.loads(inflator.decompress(buffer))
                        buffer = b""
                    else:
                        self.stats.bytes += len(raw)
                        frame = json.loads(raw)
                    if frame["op"] == 10:
                        interval = frame["d"]["heartbeat_interval"] / 1000
                        heartbeat = asyncio.create_task(self._beat(ws, interval))
                    if frame["op"] != 0:
                        continue
                    self.stats.events += 1
                    self.on_dispatch(frame["t"], frame["d"])
                    if self.done.is_set():
                        break
            finally:
                if heartbeat is not None:
                    heartbeat.cancel()

    @staticmethod
    async def _beat(ws: Any, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await ws.send(json.dumps({"op": 1, "d": None}))

    def on_dispatch(self, event: str, data: dict[str, Any]) -> None:
        if event == "READY":
            self.session_id = data["session_id"]
            self.ready.set()
        elif event == "INTERACTION_SUCCESS" and data.get("nonce") in self.pending:
            self.interactions[data["id"]] = data["nonce"]
        elif event == "MESSAGE_CREATE":
            nonce = data.get("nonce")
            if nonce in self.pending:
                self.stats.first_message.append(time.monotonic() - self.pending[nonce])
            metadata = data.get("interaction_metadata") or {}
            source = self.interactions.get(metadata.get("id", ""))
            if source is not None and data.get("components") and data.get("attachments"):
                self.stats.latencies.append(time.monotonic() - self.pending.pop(source))
                self.completed += 1
                if self.completed >= self.expected:
                    self.done.set()
            elif data.get("embeds") and data.get("flags", 0) & 64:
                self.stats.failures.append(data["embeds"][0].get("title", "?"))

    async def submit_jobs(self, count: int) -> None:
        headers = {"Authorization": self.account["token"]}
        async with self.http.get(
            f"{self.urls['rest']}/guilds/{self.account['guild_id']}/application-command-index", headers=headers
        ) as response:
            index = await response.json()
        imagine = next(c for c in index["application_commands"] if c["name"] == "imagine")
        self.expected = count
        for i in range(count):
            nonce = str(1_300_000_000_000_000_000 + hash((self.account["user_id"], i)) % 10**15)
            payload = {
                "type": 2,
                "application_id": imagine["application_id"],
                "guild_id": self.account["guild_id"],
                "channel_id": self.account["channel_id"],
                "session_id": self.session_id,
                "nonce": nonce,
                "data": {
                    "version": imagine["version"],
                    "id": imagine["id"],
                    "name": "imagine",
                    "type": 1,
                    "options": [{"type": 3, "name": "prompt", "value": f"bench {self.account['name']} job {i}"}],
                },
            }
            self.pending[nonce] = time.monotonic()
            async with self.http.post(f"{self.urls['rest']}/interactions", json=payload, headers=headers) as response:
                if response.status != 204:
                    self.stats.failures.append(f"HTTP {response.status}")
                    self.pending.pop(nonce)
                    self.expected -= 1
        if self.expected <= 0:
            self.done.set()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_simulator(args: argparse.Namespace) -> subprocess.Popen[str]:
    profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
    command = [
        sys.executable,
        *profile,
        "-m",
        "simulator",
        "--port",
        "0",
        "--accounts",
        str(args.accounts),
        "--speed",
        str(args.speed),
        "--seed",
        str(args.seed),
        "--render-processes",
        str(args.render_processes),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)


async def run(args: argparse.Namespace, process: subprocess.Popen[str]) -> None:
    try:
        assert process.stdout is not None
        document = json.loads(process.stdout.readline())
        urls, accounts = document["urls"], document["accounts"]
        base_rss, _ = rss_kib(process.pid)
        base_cpu = cpu_seconds(process.pid)
        client_cpu = time.process_time()
        stats = Stats()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, trust_env=False) as http:
            clients = [Client(a, urls, http, stats, args.zlib) for a in accounts]
            started = time.monotonic()
            gateways = [asyncio.create_task(c.run_gateway()) for c in clients]
            await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 120)
            connected = time.monotonic()
            submit_started = time.monotonic()
            await asyncio.gather(*(c.submit_jobs(args.jobs) for c in clients))
            submitted = time.monotonic()
            peak_during = 0
            waiter = asyncio.gather(*(c.done.wait() for c in clients))
            while not waiter.done():
                peak_during = max(peak_during, rss_kib(process.pid)[0])
                await asyncio.wait([waiter], timeout=0.5)
                if time.monotonic() - submit_started > args.timeout:
                    waiter.cancel()
                    break
            finished = time.monotonic()
            for task in gateways:
                task.cancel()
            await asyncio.gather(*gateways, return_exceptions=True)
            async with http.get(urls["control"]) as response:
                state = await response.json()
        rss, peak = rss_kib(process.pid)
        sim_cpu = cpu_seconds(process.pid) - base_cpu
        client_cpu = time.process_time() - client_cpu
        total_jobs = args.accounts * args.jobs
        elapsed = finished - submit_started
        print(
            f"accounts={args.accounts} jobs/account={args.jobs} speed={args.speed} zlib={args.zlib} "
            f"render_processes={args.render_processes}"
        )
        print(f"connect+identify: {connected - started:.2f} s for {len(clients)} gateway sessions")
        print(
            f"submit: {total_jobs} interactions in {submitted - submit_started:.2f} s "
            f"({total_jobs / max(submitted - submit_started, 1e-9):.0f}/s)"
        )
        print(
            f"jobs completed: {len(stats.latencies)}/{total_jobs} in {elapsed:.2f} s "
            f"(nominal job length ~{40 / args.speed:.2f} s + start delay)"
        )
        if stats.latencies:
            print(
                f"job latency submit->result: p50 {statistics.median(stats.latencies):.2f} s, "
                f"p95 {percentile(stats.latencies, 0.95):.2f} s, max {max(stats.latencies):.2f} s"
            )
        if stats.first_message:
            print(
                f"first bot message: p50 {statistics.median(stats.first_message) * 1000:.0f} ms, "
                f"p95 {percentile(stats.first_message, 0.95) * 1000:.0f} ms"
            )
        print(
            f"dispatch events received: {stats.events} ({stats.events / max(finished - started, 1e-9):.0f} events/s "
            f"overall, {stats.bytes / 1e6:.1f} MB on the wire)"
        )
        print(
            f"simulator RSS: {base_rss / 1024:.1f} MiB idle after start, {max(rss, peak_during) / 1024:.1f} MiB "
            f"under load, peak (VmHWM) {peak / 1024:.1f} MiB"
        )
        print(
            f"CPU: simulator {sim_cpu:.1f} s, benchmark clients {client_cpu:.1f} s "
            f"over {finished - started:.1f} s wall on {os.cpu_count()} cores"
        )
        print(f"simulator state: jobs {state['jobs']}, images rendered {state['images_rendered']}")
        if stats.failures:
            print(f"refusals/failures: {len(stats.failures)} e.g. {sorted(set(stats.failures))[:5]}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--zlib", action="store_true", help="use compress=zlib-stream on every gateway")
    parser.add_argument(
        "--render-processes", type=int, default=1, help="simulator --render-processes (0 = render in threads)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="give up waiting for results after this long")
    parser.add_argument("--profile", metavar="FILE", help="run the simulator under cProfile and write stats to FILE")
    args = parser.parse_args()
    asyncio.run(run(args, start_simulator(args)))


if __name__ == "__main__":
    main()
