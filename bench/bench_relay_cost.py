"""The relay's own cost, apart from the store (issue 11): events per CPU-second, result -> write latency, memory.

The relay runs in this process through its public entry point (``Relay(settings, ctx=...).run()``) on a Context whose
table is `store_double.LatencyTable` (DynamoDB-like latency, p50 6 ms / p99 20 ms, unlimited concurrency).
`fake_gateway.py`, in its own process, speaks Discord's gateway to it (zlib-stream, as the relay asks by default) and
serves the attachments as a small PNG, so the relay really downloads, inspects and stores every image it copies.

1. Latency, first: ``--latency-jobs`` jobs on each of ``--latency-accounts`` accounts, one event per account every
   ``--latency-gap`` seconds, so the relay is idle when a result comes: result event sent (gateway process) -> the
   job's terminal write issued (double), p50/p99 - as measured, and without the table's and the bucket's latency of
   the calls made for that result meanwhile (its lookups, the image's PutObject).
2. Throughput: ``--accounts`` x ``--jobs`` more jobs are created in the store as submitted (slot reserved, nonce
   reference), then the gateway sends each job's INTERACTION_SUCCESS, "Waiting to start" message, ``--progress``
   MESSAGE_UPDATEs and the result MESSAGE_CREATE with its grid, as fast as the relay reads them. Measured until every
   job is terminal: gateway events per relay CPU-second (this process's CPU minus the double's SQLite work and this
   script's own polling thread), wall events/s, peak RSS, and the store calls per job by kind.

The image copies go to an in-memory bucket behind an S3-like latency (p50 15 ms, p99 60 ms) instead of the local
directory (whose fsyncs are the single-machine store's cost, not the relay's).

Not a test: no pass/fail. Goals are printed beside the figures.

    .venv/bin/python bench/bench_relay_cost.py [--accounts 200] [--jobs 10] [--progress 4] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "core"))
sys.path.insert(0, str(ROOT / "bench"))

from store_double import Call, Latency, LatencyTable, install_env  # noqa: E402

install_env()  # before mjapi reads its settings: the double's SQLite and the copied images go to a temporary dir

from gateway_relay.relay import Relay  # noqa: E402
from gateway_relay.settings import RelaySettings  # noqa: E402
from mjapi import images  # noqa: E402
from mjapi.ids import new_job_id, new_nonce  # noqa: E402
from mjapi.models import Job, JobKind, JobStatus  # noqa: E402
from mjapi.secrets import get_secrets  # noqa: E402
from mjapi.service.context import Context  # noqa: E402
from mjapi.settings import get_settings  # noqa: E402
from mjapi.store import keys  # noqa: E402
from mjapi.store.accounts import list_accounts  # noqa: E402
from mjapi.store.backends.objects import ObjectHead, StoredObject  # noqa: E402
from mjapi.store.backends.sqlite_table import SqliteTable  # noqa: E402
from mjapi.store.jobs import JobStore  # noqa: E402
from simulator.config import SimConfig  # noqa: E402
from simulator.world import World  # noqa: E402

GOAL_EVENTS_PER_CPU_S = 5000
GOAL_P99_MS = 2.0
GOAL_RSS_MIB = 512
WRITES = ("PutItem", "UpdateItem", "TransactWriteItems")


@dataclass(frozen=True)
class Issued:
    kind: str
    at: float
    thread: int
    delay: float  # the latency the double made this call wait


class MeasuredTable(LatencyTable):
    """The double, also telling apart the CPU its SQLite work costs (thread time inside each call; the simulated
    latency is a sleep and costs none) and which calls touched which job, in which thread, waiting how long."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> MeasuredTable:
        return object.__new__(cls)  # Table.__new__ picks a backend from its one argument; this is the SQLite one

    def __init__(self, name: str, latency: Latency) -> None:
        super().__init__(name, latency)
        self.sqlite_cpu = 0.0
        self._cpu_lock = threading.Lock()
        self.by_pk: dict[str, list[Issued]] = defaultdict(list)
        self.pk_kinds: Counter[tuple[str, str]] = Counter()  # (kind, key prefix)
        self._local = threading.local()

    def _wait(self, kind: str, key: tuple[str, str] | None) -> None:
        """The double's wait, also remembering its length and thread (its bookkeeping counts as the double's CPU)."""
        cpu = time.thread_time()
        call = Call(kind, key, time.monotonic())
        with self._rng_lock:
            delay = self.latency.sample(self._rng)
        issued = Issued(kind, call.issued_at, threading.get_ident(), delay)
        pks = getattr(self._local, "pks", None) or ([key[0]] if key else [])
        self._local.pks = None
        with self._calls_lock:
            self.calls.append(call)
            for pk in pks:
                self.by_pk[pk].append(issued)
            self.pk_kinds[(kind, (key[0] if key else "").split("#", 1)[0])] += 1
        for listener in self.listeners:
            listener(call)
        self._add_cpu(time.thread_time() - cpu)
        time.sleep(delay)

    def _add_cpu(self, seconds: float) -> None:
        with self._cpu_lock:
            self.sqlite_cpu += seconds

    def _timed(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run the SQLite part of a call, adding its thread CPU (the latency sleep is excluded by ``_wait``)."""
        start = time.thread_time()
        try:
            return call(*args, **kwargs)
        finally:
            self._add_cpu(time.thread_time() - start)

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        self._wait("GetItem", (pk, sk))
        return self._timed(SqliteTable.get, self, pk, sk, consistent=consistent)  # type: ignore[no-any-return]

    def batch_get(self, keys_: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        self._wait("BatchGetItem", keys_[0] if keys_ else None)
        return self._timed(SqliteTable.batch_get, self, keys_)  # type: ignore[no-any-return]

    def put(self, item: Mapping[str, Any], **kwargs: Any) -> None:
        self._wait("PutItem", (str(item.get("pk")), str(item.get("sk"))))
        self._timed(SqliteTable.put, self, item, **kwargs)

    def update(self, pk: str, sk: str, expression: str, **kwargs: Any) -> Any:
        self._wait("UpdateItem", (pk, sk))
        return self._timed(SqliteTable.update, self, pk, sk, expression, **kwargs)

    def query(self, key_condition: str, **kwargs: Any) -> Any:
        vals = kwargs.get("vals") or {}
        first = next((str(v) for v in vals.values() if isinstance(v, str)), "")
        self._wait("Query", (first, ""))
        return self._timed(SqliteTable.query, self, key_condition, **kwargs)

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        pks = []
        for operation in operations:
            body: Mapping[str, Any] = next(iter(operation.values()), {})
            key = body.get("Key") or body.get("Item") or {}
            pks.append(str(key.get("pk")))
        self._local.pks = pks  # every item of the transaction counts as touched by it
        first = (pks[0], "") if pks else None
        self._wait("TransactWriteItems", first)
        self._timed(SqliteTable.transact, self, operations)


class LatencyObjects:
    """The bucket behind an S3-like latency, in memory: image copies pay a PutObject round trip, not a local fsync
    (which is the single-machine store's, and not the relay's own cost either)."""

    def __init__(self, latency: Latency, seed: int = 13) -> None:
        self.latency = latency
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._objects: dict[str, StoredObject] = {}
        self.puts = 0
        self.waits: list[Issued] = []

    def _wait(self) -> None:
        with self._lock:
            delay = self.latency.sample(self._rng)
            self.waits.append(Issued("PutObject", time.monotonic(), threading.get_ident(), delay))
        time.sleep(delay)

    def put(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        self._wait()
        with self._lock:
            self.puts += 1
            self._objects[key] = StoredObject(data, ObjectHead(content_type, cache_control, "", len(data)))

    def get(self, key: str) -> StoredObject | None:
        self._wait()
        return self._objects.get(key)

    def head(self, key: str) -> ObjectHead | None:
        self._wait()
        found = self._objects.get(key)
        return found.head if found else None


# -- helpers ------------------------------------------------------------------------------------------------------

_WAITING = {  # leaf Python frames of a thread that waits (in a C call below them): not CPU
    ("selectors.py", "select"),
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("thread.py", "_worker"),
    ("bench_relay_cost.py", "_wait"),  # the double's latency sleep
    ("sync.py", "read"),  # httpcore reading a response: the CDN's time
    ("socket.py", "readinto"),  # http.client reading a response (the relay's CdnClient): the CDN's time
    ("base_events.py", "run_forever"),
    ("_synchronization.py", "__enter__"),  # httpcore's connection pool lock
    ("threading.py", "__enter__"),
    ("queue.py", "get"),
}


_DOUBLE = ("bench_relay_cost.py:_timed", "bench_relay_cost.py:_wait")


class Sampler(threading.Thread):
    """Where the relay's CPU goes: every few milliseconds the Python stack of each thread that is running (not
    waiting in one of `_WAITING`), counted per function inclusively and by the frame on top. Crude (it samples
    between bytecodes, holding the GIL) but it needs nothing installed."""

    def __init__(self, interval: float = 0.003) -> None:
        super().__init__(name="sampler", daemon=True)
        self.interval = interval
        self.inclusive: Counter[str] = Counter()
        self.top: Counter[str] = Counter()
        self.samples = 0
        self.double = 0
        self.cpu = 0.0  # its own, not the relay's
        self.stop = threading.Event()

    def run(self) -> None:
        me, main = threading.get_ident(), threading.main_thread().ident
        while not self.stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident in (me, main):
                    continue
                leaf = (Path(frame.f_code.co_filename).name, frame.f_code.co_name)
                if leaf in _WAITING:
                    continue
                names: list[str] = []
                current: Any = frame
                while current is not None:
                    code = current.f_code
                    names.append(f"{Path(code.co_filename).parent.name}/{Path(code.co_filename).name}:{code.co_name}")
                    current = current.f_back
                if any(n.endswith(_DOUBLE) for n in names):
                    self.double += 1  # inside the store double: its CPU is not the relay's (and is subtracted)
                    continue
                self.samples += 1
                self.top[f"{leaf[0]}:{leaf[1]}"] += 1
                for name in set(names):
                    self.inclusive[name] += 1
        self.cpu = time.thread_time()

    def print(self, limit: int = 30) -> None:
        total = max(1, self.samples)
        print(
            f"  profile ({self.samples} samples of running relay threads, {self.double} more inside the store "
            "double), inclusive:"
        )
        for name, count in self.inclusive.most_common(limit):
            print(f"    {100 * count / total:5.1f} %  {name}")
        print("  on top of the stack:")
        for name, count in self.top.most_common(limit // 2):
            print(f"    {100 * count / total:5.1f} %  {name}")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def rss_mib() -> tuple[float, float]:
    current = peak = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    return current / 1024, peak / 1024


class Gateway:
    """The fake gateway process, driven one JSON line at a time."""

    def __init__(self, accounts: list[dict[str, str]], workdir: Path) -> None:
        path = workdir / "accounts.json"
        path.write_text(json.dumps(accounts))
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fake_gateway.py"), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = json.loads(self._stdout.readline())
        self.url, self.cdn = str(hello["gateway"]), str(hello["cdn"])
        self.pid = self.process.pid

    @property
    def _stdout(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def play(self, phase: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(phase) + "\n")
        self.process.stdin.flush()

    def report(self) -> dict[str, Any]:
        return dict(json.loads(self._stdout.readline()))

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)


def simulated_accounts(count: int, concurrency: int) -> list[dict[str, Any]]:
    """Accounts as the simulator's world makes them (ids, tokens, channels), configured for the relay."""
    world = World(SimConfig(seed=11))
    out = []
    for n in range(count):
        account = world.add_account(name=f"bench{n}")
        out.append(
            {
                "id": f"acct{n:04d}",
                "token": account.token,
                "user_id": account.user_id,
                "channel_id": account.channel_id,
                "guild_id": account.guild_id,
                "concurrency": concurrency,
            }
        )
    return out


def create_jobs(jobs: JobStore, accounts: list[dict[str, Any]], per_account: int, label: str) -> list[dict[str, str]]:
    """Jobs as `service.jobs.submit` leaves them once sent: submitted on the account, slot held, nonce known."""
    out = []
    now = int(time.time() * 1000)
    for account in accounts:
        for n in range(per_account):
            prompt = f"bench {label} {account['id']} {n} glass frog --ar 2:3 --v 6.0"
            job = Job(
                id=new_job_id(),
                kind=JobKind.IMAGINE,
                status=JobStatus.SUBMITTED,
                prompt=prompt,
                account_id=account["id"],
                channel_id=account["channel_id"],
                guild_id=account["guild_id"],
                nonce=new_nonce(),
                holds_slot=True,
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
            jobs.create_running(job, charge=False, mode=None)
            out.append(
                {"id": job.id, "token": account["token"], "nonce": job.nonce or "", "uuid": str(uuid.uuid4())}
                | {"prompt": prompt}
            )
    return out


def wait_terminal(jobs: JobStore, ids: list[str], timeout: float) -> int:
    """Poll (from this thread, whose CPU is not the relay's) until every job is terminal; how many are."""
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        time.sleep(1.0)
        pending -= {j.id for j in jobs.get_many(sorted(pending)) if j.is_terminal}
    return len(ids) - len(pending)


@dataclass
class Cpu:
    process: float
    sqlite: float
    main: float

    @classmethod
    def now(cls, table: MeasuredTable) -> Cpu:
        return cls(time.process_time(), table.sqlite_cpu, time.thread_time())

    def relay_since(self, start: Cpu) -> float:
        return (self.process - start.process) - (self.sqlite - start.sqlite) - (self.main - start.main)


# -- the run ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=10, help="in-flight jobs per account (throughput phase)")
    parser.add_argument("--progress", type=int, default=4, help="progress updates per job")
    parser.add_argument("--latency-accounts", type=int, default=20, help="accounts of the paced latency phase")
    parser.add_argument("--latency-jobs", type=int, default=5, help="jobs per account in the paced latency phase")
    parser.add_argument("--latency-gap", type=float, default=0.3, help="seconds between two events of one account")
    parser.add_argument("--threads", type=int, default=None, help="the relay's worker threads (default: its own)")
    parser.add_argument("--no-zlib", action="store_true", help="plain JSON frames instead of zlib-stream")
    parser.add_argument("--p50", type=float, default=6.0, help="store latency p50, ms")
    parser.add_argument("--p99", type=float, default=20.0, help="store latency p99, ms")
    parser.add_argument("--s3-p50", type=float, default=15.0, help="image PutObject latency p50, ms")
    parser.add_argument("--s3-p99", type=float, default=60.0, help="image PutObject latency p99, ms")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--profile", action="store_true", help="sample the relay's threads in the throughput phase")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file (bench_stack)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mjapi-relay-cost-"))
    accounts = simulated_accounts(args.accounts, max(args.jobs, args.latency_jobs))
    os.environ.update(
        {
            "MJAPI_SECRETS_JSON": json.dumps({"admin_key": "bench-admin-key-0123456789", "accounts": accounts}),
            "MJAPI_URL_ALLOWLIST": "127.0.0.0/8",
            "MJAPI_CDN_BASE_URL": "http://127.0.0.1:1/cdn",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    gateway = Gateway(
        [{k: str(a[k]) for k in ("token", "user_id", "channel_id", "guild_id")} for a in accounts], workdir
    )
    table = MeasuredTable(get_settings().table_name, Latency(args.p50, args.p99))
    plain = JobStore(SqliteTable(get_settings().table_name))  # setup and polling: no latency, not recorded
    ctx = Context(settings=get_settings(), table=table, jobs=JobStore(table), secrets=get_secrets())
    defaults = RelaySettings()
    settings = RelaySettings(
        gateway_url=gateway.url,
        owner_id="bench-relay",
        health_file="",
        metrics_interval_seconds=0,
        catch_up_messages=0,
        workers=args.threads or defaults.workers,
        zlib_stream=not args.no_zlib,
    )
    objects = LatencyObjects(Latency(args.s3_p50, args.s3_p99))
    setattr(images, "object_store", lambda: objects)  # noqa: B010 - where `store_image` puts the copies
    relay = Relay(settings, ctx=ctx)
    loop = asyncio.new_event_loop()
    relay_thread = threading.Thread(target=loop.run_until_complete, args=(relay.run(),), name="relay", daemon=True)
    rss_before, _ = rss_mib()
    relay_thread.start()
    try:
        figures = run(args, accounts, gateway, table, plain, settings, objects)
        if args.json:
            args.json.write_text(json.dumps(figures))
    finally:
        loop.call_soon_threadsafe(relay.request_stop)
        relay_thread.join(timeout=60)
        gateway.close()
    print(f"(this process's RSS before the relay started: {rss_before:.0f} MiB; it includes the double's SQLite)")


def run(
    args: argparse.Namespace,
    accounts: list[dict[str, Any]],
    gateway: Gateway,
    table: MeasuredTable,
    plain: JobStore,
    settings: RelaySettings,
    objects: LatencyObjects,
) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = list_accounts(plain.table)
        if len(found) == len(accounts) and all(a.connected for a in found):
            break
        time.sleep(0.2)
    else:
        raise SystemExit("the relay did not connect every account within 120 s")
    rss_connected, _ = rss_mib()

    # 1. latency, paced, while the relay's heap is small and nothing else runs
    lat_accounts = accounts[: args.latency_accounts]
    lat_jobs = create_jobs(plain, lat_accounts, args.latency_jobs, "l")
    per_job_events = 3 + args.progress
    gap = args.latency_gap
    rate = len(lat_accounts) / gap
    gateway.play({"phase": "latency", "gap": gap, "progress": args.progress, "jobs": lat_jobs})
    lat_report = gateway.report()
    wait_terminal(plain, [j["id"] for j in lat_jobs], args.timeout)
    raw, own = latencies(table, objects, lat_jobs, lat_report["results"])

    # 2. throughput
    jobs = create_jobs(plain, accounts, args.jobs, "t")
    calls_before = Counter(table.counts())
    puts_before = objects.puts
    sampler = Sampler() if args.profile else None
    if sampler:
        sampler.start()
    start, t0 = Cpu.now(table), time.monotonic()
    gateway.play({"phase": "throughput", "gap": 0, "progress": args.progress, "jobs": jobs})
    report = gateway.report()
    done = wait_terminal(plain, [j["id"] for j in jobs], args.timeout)
    elapsed, cpu = time.monotonic() - t0, Cpu.now(table)
    relay_cpu = cpu.relay_since(start)
    if sampler:
        sampler.stop.set()
        sampler.join()
        relay_cpu -= sampler.cpu
    _, rss_peak = rss_mib()
    calls = Counter(table.counts())
    calls.subtract(calls_before)
    calls["PutObject (images)"] = objects.puts - puts_before
    events = int(report["events"])

    ticks = events / relay_cpu if relay_cpu > 0 else float("nan")
    n_jobs = len(jobs)
    print(
        f"relay cost: {len(accounts)} accounts x {args.jobs} in-flight jobs = {n_jobs} jobs, {args.progress} progress "
        f"updates each ({per_job_events} events/job), store double p50 {args.p50:g} / p99 {args.p99:g} ms "
        f"(images: p50 {args.s3_p50:g} / p99 {args.s3_p99:g} ms), "
        f"{settings.workers} relay threads, zlib-stream {'off' if args.no_zlib else 'on'}"
    )
    print(
        f"  jobs terminal: {done}/{n_jobs} in {elapsed:.1f} s ({events} gateway events, {events / elapsed:.0f}/s wall)"
    )
    print(
        f"  gateway events per relay CPU-second: {ticks:,.0f}   (goal >= {GOAL_EVENTS_PER_CPU_S:,} on one core)  "
        f"[relay CPU {relay_cpu:.1f} s = process {cpu.process - start.process:.1f} s - double's SQLite "
        f"{cpu.sqlite - start.sqlite:.1f} s - bench polling {cpu.main - start.main:.1f} s]"
    )
    print(
        f"  result sent -> terminal write issued (ms), {len(raw)} jobs paced at {rate:.0f} events/s: "
        f"p50 {percentile(raw, 0.5):.1f}  p99 {percentile(raw, 0.99):.1f}   (goal p99 <= {GOAL_P99_MS:g} ms)"
    )
    print(
        f"    without the table and bucket latency of the calls made for it meanwhile: p50 {percentile(own, 0.5):.1f}  "
        f"p99 {percentile(own, 0.99):.1f}"
    )
    print(
        f"  RSS: {rss_connected:.0f} MiB with {len(accounts)} accounts connected, peak {rss_peak:.0f} MiB with "
        f"{n_jobs} jobs in flight   (goal < {GOAL_RSS_MIB} MiB)"
    )
    per_job = ", ".join(f"{kind} {count / n_jobs:.2f}" for kind, count in calls.most_common() if count > 0)
    print(f"  store calls per job (throughput phase, everything the relay did): {per_job}")
    if sampler:
        sampler.print()
    by_key = table.pk_kinds
    print(
        "  by kind and key: "
        + ", ".join(f"{k} {p or '-'} {v / (n_jobs + len(lat_jobs)):.2f}" for (k, p), v in by_key.most_common(12))
    )
    return {
        "accounts": len(accounts),
        "jobs": n_jobs,
        "events_per_cpu_s": ticks,
        "result_write_p50_ms": percentile(raw, 0.5),
        "result_write_p99_ms": percentile(raw, 0.99),
        "result_write_own_p50_ms": percentile(own, 0.5),
        "result_write_own_p99_ms": percentile(own, 0.99),
        "rss_connected_mib": rss_connected,
        "rss_peak_mib": rss_peak,
    }


def latencies(
    table: MeasuredTable, objects: LatencyObjects, jobs: list[dict[str, str]], sent: Mapping[str, float]
) -> tuple[list[float], list[float]]:
    """Per job: result sent -> first write on its item issued afterwards (ms); and the same minus the latency of the
    calls its worker thread waited on in between (the result's lookups: that time is the store's)."""
    raw: list[float] = []
    own: list[float] = []
    with table._calls_lock:
        by_pk = {pk: list(v) for pk, v in table.by_pk.items()}
        by_thread: dict[int, list[Issued]] = defaultdict(list)
        for issued_list in [*by_pk.values(), objects.waits]:
            for issued in issued_list:
                by_thread[issued.thread].append(issued)
    for job in jobs:
        at = sent.get(job["uuid"])
        if at is None:
            continue
        write = next((c for c in by_pk.get(keys.job_pk(job["id"]), []) if c.kind in WRITES and c.at >= at), None)
        if write is None:
            continue
        waited = sum({c.at: c.delay for c in by_thread[write.thread] if at <= c.at < write.at}.values())
        raw.append((write.at - at) * 1000)
        own.append((write.at - at - waited) * 1000)
    return raw, own


if __name__ == "__main__":
    main()
