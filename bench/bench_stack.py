"""The stack as a user runs it, against the original project's figures (issue 11): one table, each figure beside the
original's and its goal. `make bench` runs it.

Each round: a fresh simulator (same seed, speed x50, 3 fast accounts) in this process; `python -m devstack` as its
own process on a fresh data directory (`--store sqlite` by default: make run's store), which supervises the relay
process; 30 distinct prompts through `GET /midjourney/imagine` at once, then 10 identical prompts at once. Medians over
the rounds. Measured:

- 30 prompts: from the first request to the last job finished;
- `/imagine` HTTP answer (all 40 requests, as the client sees it);
- bot finished -> visible: the simulator's finish of a job to the job record holding the result;
- CPU (user + system) of the stack's processes (devstack, relay; moto too with `--store dynamodb`) during the run,
  and their summed RSS once ready and at its peak (sampled every 50 ms);
- identical prompts: jobs whose result is the bot's job for that very request (its nonce);
- store calls per job, by kind (`MJAPI_STORE_CALLS_DIR`), over everything the stack did in the run.

Jobs are watched by reading the store from this process (not through the API), so polling costs the stack nothing.
Not a test: no pass/fail.

    .venv/bin/python bench/bench_stack.py [--rounds 5] [--store sqlite|dynamodb] [--speed 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "core"))

from simulator import SimulatorThread  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
ORIGINAL = {  # the original Node project, same workload (issue 11)
    "batch": 48.3,
    "imagine_p50": 127.0,
    "visible_p50": 0.30,
    "visible_p95": 0.53,
    "cpu": 3.3,
    "rss_ready": 126.0,
    "rss_peak": 133.0,
}


# -- processes ----------------------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system ticks of the process and its reaped children)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), sum(int(f) for f in fields[11:15])


def tree(root: int) -> list[int]:
    """``root`` and every process descending from it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)] = stat[0]
    found = [root]
    for pid in found:
        found += [child for child, parent in parents.items() if parent == pid]
    return found


def cpu_seconds(pids: list[int]) -> float:
    return sum(stat[1] for pid in pids if (stat := _stat(pid)) is not None) / TICKS


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _name(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    module = argv[argv.index(b"-m") + 1].decode() if b"-m" in argv else Path(argv[0].decode()).name
    return f"{module}[{pid}]"


def _cpu_one(pid: int) -> float:
    stat = _stat(pid)
    return stat[1] / TICKS if stat else 0.0


def _hwm(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        pids = tree(self.root)
        last_scan = time.monotonic()
        while not self.done.wait(0.05):
            if time.monotonic() - last_scan > 1:
                pids, last_scan = tree(self.root), time.monotonic()
            self.peak = max(self.peak, rss_mib(pids))


# -- one round ----------------------------------------------------------------------------------------------------


@dataclass
class Round:
    batch_seconds: float = 0.0
    imagine_ms: list[float] = field(default_factory=list)
    visible_s: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    rss_ready: float = 0.0
    rss_peak: float = 0.0
    own_images: int = 0
    identical: int = 0
    jobs: int = 0
    succeeded: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    by_process: dict[str, tuple[float, float]] = field(default_factory=dict)  # name: (cpu s in all, peak RSS MiB)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


class JobReader:
    """Jobs read straight from the stack's store (SQLite file, or the moto endpoint)."""

    def __init__(self, info: dict[str, Any]) -> None:
        if info.get("data_dir"):
            os.environ.update({"MJAPI_STORE": "sqlite", "MJAPI_DATA_DIR": info["data_dir"]})
        else:
            os.environ.update(
                {
                    "MJAPI_STORE": "dynamodb",
                    "AWS_ENDPOINT_URL": info["aws_endpoint"],
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's fake credentials
                    "AWS_DEFAULT_REGION": "us-east-1",
                }
            )
        os.environ["MJAPI_TABLE_NAME"] = "mjapi"
        from mjapi import aws
        from mjapi.settings import get_settings
        from mjapi.store.backends.sqlite_table import close_databases
        from mjapi.store.jobs import JobStore
        from mjapi.store.table import Table

        close_databases()
        aws.reset_clients()
        get_settings.cache_clear()
        self.jobs = JobStore(Table("mjapi"))

    def wait(self, ids: list[str], timeout: float = 300) -> dict[str, Any]:
        done: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        while len(done) < len(ids) and time.monotonic() < deadline:
            for job in self.jobs.get_many([i for i in ids if i not in done]):
                if job.is_terminal:
                    done[job.id] = job
            time.sleep(0.05)
        return done


def start_stack(sim: SimulatorThread, workdir: Path, store: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    accounts = []
    for n in range(3):
        acct = sim.add_account(name=f"bench{n + 1}", mode="fast")
        accounts.append(
            {
                "id": f"bench{n + 1}",
                "token": acct.token,
                "channel_id": acct.channel_id,
                "guild_id": acct.guild_id,
                "mode": "fast",
                "concurrency": 3,
            }
        )
    accounts_file = workdir / "accounts.json"
    accounts_file.write_text(json.dumps(accounts), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MJAPI_", "AWS_"))}
    env.update(
        {
            "MJAPI_DISCORD_API_BASE": sim.urls.rest,
            "MJAPI_DISCORDSAYS_BASE": sim.urls.discordsays,
            "MJAPI_RELAY_GATEWAY_URL": sim.urls.gateway,
            "MJAPI_STORE_CALLS_DIR": str(workdir / "calls"),
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "MJAPI_MAX_ACTIVE_PER_TOKEN": "100",  # one client sends the whole batch (the original has no cap)
            **(
                {"MJAPI_SQLITE_SYNCHRONOUS": os.environ["MJAPI_SQLITE_SYNCHRONOUS"]}
                if os.environ.get("MJAPI_SQLITE_SYNCHRONOUS")
                else {}
            ),
        }
    )
    command = [sys.executable, "-m", "devstack", "--port", "0", "--json", "--fresh", "--store", store]
    command += ["--accounts", str(accounts_file), "--data-dir", str(workdir / "data")]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError("the stack did not start")
    return proc, json.loads(line)


def run_round(seed: int, speed: float, store: str) -> Round:
    result = Round()
    with tempfile.TemporaryDirectory(prefix="mjapi-bench-") as tmp, SimulatorThread(seed=seed, speed=speed) as sim:
        workdir = Path(tmp)
        proc, info = start_stack(sim, workdir, store)
        try:
            reader = JobReader(info)
            pids = tree(proc.pid)
            result.rss_ready = rss_mib(pids)
            peak = PeakRss(proc.pid)
            peak.start()
            http = httpx.Client(base_url=info["api"], timeout=60)
            token = http.get(
                "/midjourney/create_token", params={"count": 100, "days": 1}, headers={"x-admin-key": info["admin_key"]}
            ).json()["token"]
            cpu_before = cpu_seconds(tree(proc.pid))

            def imagine(prompt: str) -> str:
                started = time.perf_counter()
                resp = http.get("/midjourney/imagine", params={"token": token, "prompt": prompt})
                result.imagine_ms.append((time.perf_counter() - started) * 1000)
                if resp.status_code != 200:
                    raise RuntimeError(f"/imagine answered {resp.status_code}: {resp.text}")
                return str(resp.json()["id"])

            started = time.time()
            with ThreadPoolExecutor(max_workers=30) as pool:
                batch = list(pool.map(imagine, [f"a lighthouse, study {n}" for n in range(30)]))
            finished = reader.wait(batch)
            ends = [j.finished_at for j in finished.values() if j.finished_at]
            result.batch_seconds = (max(ends) / 1000 - started) if len(finished) == len(batch) else float("nan")
            with ThreadPoolExecutor(max_workers=10) as pool:
                same = list(pool.map(imagine, ["the same glass frog"] * 10))
            finished.update(reader.wait(same))
            result.cpu_seconds = cpu_seconds(tree(proc.pid)) - cpu_before
            result.by_process = {_name(pid): (_cpu_one(pid), _hwm(pid)) for pid in tree(proc.pid)}
            peak.done.set()
            peak.join()
            result.rss_peak = max(peak.peak, result.rss_ready)

            sim_jobs = {j.id: j for j in sim.jobs()}
            by_nonce = {j.nonce: j for j in sim_jobs.values() if j.nonce}
            jobs = list(finished.values())
            result.jobs = len(batch) + len(same)
            result.succeeded = sum(1 for j in jobs if j.status.value == "succeeded")
            for job in jobs:
                bot_job = sim_jobs.get(job.message_hash or "")
                if job.finished_at and bot_job is not None and bot_job.finished_at:
                    result.visible_s.append(job.finished_at / 1000 - bot_job.finished_at)
            result.identical = len(same)
            result.own_images = sum(
                1
                for job_id in same
                if (job := finished.get(job_id)) is not None
                and job.status.value == "succeeded"
                and job.images
                and (bot_job := by_nonce.get(job.nonce or "")) is not None
                and bot_job.id == job.message_hash
            )
            http.close()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        for dump in (workdir / "calls").glob("*.json"):
            counted = json.loads(dump.read_text())
            process = "relay" if any("gateway_relay" in arg for arg in counted["argv"]) else "api+dispatcher+notifier"
            result.calls.update({f"{process} {kind}": n for kind, n in counted["calls"].items()})
    return result


# -- the table ----------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}"
    )


def relay_figures(args: argparse.Namespace) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The relay's own cost (`bench_relay_cost.py`) and the scale-out over several relays (`bench_scaleout.py`), each
    in its own process, read back from the JSON they write."""
    out: list[dict[str, Any] | None] = []
    runs = (
        ("bench_relay_cost.py", ["--accounts", "200", "--jobs", "10"]),
        ("bench_scaleout.py", ["--accounts", str(args.scaleout_accounts), "--jobs", str(args.scaleout_jobs)]),
    )
    for script, extra in runs:
        with tempfile.NamedTemporaryFile(suffix=".json") as result:
            print(f"running {script} {' '.join(extra)}", file=sys.stderr, flush=True)
            done = subprocess.run(
                [sys.executable, str(ROOT / "bench" / script), *extra, "--json", result.name],
                stdout=sys.stderr,
                check=False,
            )
            text = Path(result.name).read_text() if done.returncode == 0 else ""
            out.append(json.loads(text) if text else None)
    return out[0], out[1]


Row = tuple[str, str, str, str, str, bool]  # figure, original, mjapi, ratio, goal, met


def _relay_rows(cost: dict[str, Any] | None, scale: dict[str, Any] | None) -> list[Row]:
    rows: list[Row] = []
    if cost:
        jobs = cost["jobs"]
        rows += [
            (f"relay: gateway events per CPU-second ({jobs} jobs)", "-", f"{cost['events_per_cpu_s']:,.0f}", "-",
             ">= 5,000", cost["events_per_cpu_s"] >= 5000),
            ("relay: result event -> write issued, p50 / p99", "-",
             f"{cost['result_write_p50_ms']:.0f} / {cost['result_write_p99_ms']:.0f} ms", "-", "p99 <= 2 ms",
             cost["result_write_p99_ms"] <= 2),
            (f"relay: RSS connected / peak, {jobs} jobs in flight", "-",
             f"{cost['rss_connected_mib']:.0f} / {cost['rss_peak_mib']:.0f} MiB", "-", "< 512 MiB",
             cost["rss_peak_mib"] < 512),
        ]  # fmt: skip
    if scale:
        reown = scale["reown_s"]
        rows += [
            (f"scale-out: {scale['accounts']} accounts over {scale['relays']} relays", "-",
             " / ".join(str(n) for n in scale["spread"]), "-", "shared", min(scale["spread"] or [0]) > 0),
            (f"scale-out: one relay killed, its accounts re-owned ({scale['victim_accounts']})", "-",
             "never" if reown is None else f"{reown:.1f} s", "-", f"<= lease ({scale['lease_s']:g} s)",
             reown is not None and reown <= scale["lease_s"]),
            ("scale-out: jobs lost / slots leaked", "-", f"{scale['lost']} / {scale['leaked']}", "-", "0 / 0",
             scale["lost"] == 0 and scale["leaked"] == 0),
        ]  # fmt: skip
    return rows


def report(
    rounds: list[Round],
    args: argparse.Namespace,
    api: dict[str, Any] | None = None,
    relay: tuple[dict[str, Any] | None, dict[str, Any] | None] = (None, None),
) -> str:
    med = statistics.median

    def ratio(value: float, original: float) -> str:
        return f"{value / original:.2f}" if original else "-"

    batch = med(r.batch_seconds for r in rounds)
    imagine = med(percentile(r.imagine_ms, 0.5) for r in rounds)
    visible50 = med(percentile(r.visible_s, 0.5) for r in rounds)
    visible95 = med(percentile(r.visible_s, 0.95) for r in rounds)
    cpu = med(r.cpu_seconds for r in rounds)
    ready = med(r.rss_ready for r in rounds)
    peak = med(r.rss_peak for r in rounds)
    own = min(r.own_images for r in rounds)
    o = ORIGINAL
    rows = [
        ("30 prompts: time until all done", f"{o['batch']} s", f"{batch:.1f} s", ratio(batch, o["batch"]), "<= 0.5x",
         batch <= 0.5 * o["batch"]),
        ("/imagine HTTP answer, p50", f"{o['imagine_p50']:.0f} ms", f"{imagine:.0f} ms",
         ratio(imagine, o["imagine_p50"]), "<= 1x", imagine <= o["imagine_p50"]),
        ("bot finished -> visible, p50 / p95", f"{o['visible_p50']:.2f} / {o['visible_p95']:.2f} s",
         f"{visible50:.2f} / {visible95:.2f} s", ratio(visible50, o["visible_p50"]), "p50 <= 1x",
         visible50 <= o["visible_p50"]),
        ("CPU of own processes for the run", f"{o['cpu']} s", f"{cpu:.1f} s", ratio(cpu, o["cpu"]), "<= 1x",
         cpu <= o["cpu"]),
        ("RSS after ready / peak", f"{o['rss_ready']:.0f} / {o['rss_peak']:.0f} MiB", f"{ready:.0f} / {peak:.0f} MiB",
         ratio(peak, o["rss_peak"]), "peak <= 1.5x", peak <= 1.5 * o["rss_peak"]),
        ("identical prompts: every job its own image", "10/10", f"{own}/{rounds[0].identical}", "-", "10/10",
         own == rounds[0].identical),
    ]  # fmt: skip
    if api:
        cold = api["cold_import_ms"]
        rows.append(("API handler: cold import", "-", f"{cold:.0f} ms", "-", "<= 250 ms", cold <= 250))
        for route, f in api["warm"].items():
            rows.append((f"API warm {route}, own p50 / p99 (store double)", "-",
                         f"{f.own_p50:.1f} / {f.own_p99:.1f} ms (handler alone {f.handler_p99:.1f})", "-",
                         "p99 <= 15 ms", f.own_p99 <= 15))  # fmt: skip
    rows += _relay_rows(*relay)
    header = ("figure", "original", f"mjapi ({args.store})", "mjapi/orig", "goal", "met")
    table = [header, *[(a, b, c, d, e, "yes" if f else "NO") for a, b, c, d, e, f in rows]]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = ["| " + " | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    jobs = sum(r.jobs for r in rounds)
    calls: Counter[str] = Counter()
    for r in rounds:
        calls.update(r.calls)
    total = sum(calls.values()) / jobs if jobs else 0
    by_process: dict[str, list[str]] = {}
    for key, n in sorted(calls.items(), key=lambda kv: -kv[1]):
        process, kind = key.rsplit(" ", 1)
        by_process.setdefault(process, []).append(f"{kind} {n / jobs:.1f}")
    per_job = "; ".join(f"{process}: {', '.join(kinds)}" for process, kinds in by_process.items())
    succeeded = sum(r.succeeded for r in rounds)
    return "\n".join(
        [
            f"mjapi stack bench: {len(rounds)} round(s), simulator speed x{args.speed:g}, 3 fast accounts, "
            f"store {args.store}; {succeeded}/{jobs} jobs succeeded; medians over rounds",
            *lines,
            f"store calls per job (everything the stack did during the run / jobs): {total:.1f} - {per_job}",
            f"machine: {machine()}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--speed", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--store", choices=("sqlite", "dynamodb"), default="sqlite")
    parser.add_argument("--no-api", action="store_true", help="skip the API handler figures (bench_api.py)")
    parser.add_argument("--no-relay", action="store_true", help="skip bench_relay_cost.py and bench_scaleout.py")
    parser.add_argument("--scaleout-accounts", type=int, default=2000, help="bench_scaleout.py --accounts")
    parser.add_argument("--scaleout-jobs", type=int, default=200, help="bench_scaleout.py --jobs")
    args = parser.parse_args()
    rounds = []
    for n in range(args.rounds):
        rounds.append(run_round(args.seed, args.speed, args.store))
        r = rounds[-1]
        print(
            f"round {n + 1}: batch {r.batch_seconds:.1f} s, imagine p50 {percentile(r.imagine_ms, 0.5):.0f} ms, "
            f"visible p50 {percentile(r.visible_s, 0.5):.2f} s, cpu {r.cpu_seconds:.1f} s, "
            f"rss {r.rss_ready:.0f}/{r.rss_peak:.0f} MiB, own images {r.own_images}/{r.identical}; "
            + ", ".join(f"{name} cpu {c:.1f} s peak {m:.0f} MiB" for name, (c, m) in r.by_process.items()),
            file=sys.stderr,
            flush=True,
        )
    api = None
    if not args.no_api:
        import bench_api

        api = {"cold_import_ms": bench_api.cold_import_ms(), "warm": bench_api.warm_figures(200, "double")}
    relay = (None, None) if args.no_relay else relay_figures(args)
    print(report(rounds, args, api, relay))


if __name__ == "__main__":
    main()
