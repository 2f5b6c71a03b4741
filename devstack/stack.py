"""The whole offline stack on one machine: the store (by default SQLite + a directory of images in a data directory that
survives restarts; or moto's DynamoDB, S3 and Secrets Manager, as ``sam local`` would see them), the API through the
real Lambda handler, the gateway relay, the dispatcher schedule, and - without real accounts - the Discord/Midjourney
simulator."""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devstack.cdn import CDN_PREFIX, serve_cdn
from devstack.console import CONSOLE_PREFIX, serve_console
from devstack.lambda_adapter import ContainerPool, LambdaHttpServer, load_handler
from devstack.supervisor import Backoff, HealthCheck, Supervisor, child_env, python_module

if TYPE_CHECKING:
    from devstack.aws_local import LocalAws

logger = logging.getLogger(__name__)

TABLE = "mjapi"
BUCKET = "mjapi-images"
SECRET_NAME = "mjapi/accounts"  # noqa: S105 - a secret name, not a secret
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class StackOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    accounts_file: Path | None = None  # real Discord accounts; without it the simulator is used
    sim_speed: float = 10.0
    sim_seed: int = 0
    sim_accounts: int = 2
    sim_settings: dict[str, Any] = field(default_factory=dict)  # SimConfig overrides, e.g. {"image_scale": 0.25}
    relay: bool = True
    dispatcher_interval: float = 5.0
    admin_key: str | None = None
    ready_timeout: float = 30.0  # wait this long for the relay to hold a gateway session per account
    extra_env: dict[str, str] = field(default_factory=dict)
    relay_backoff: Backoff = field(default_factory=Backoff)  # restarts of a relay that died, as ECS would
    relay_health_max_age: float = 60.0  # a relay whose event loop stalls this long is killed and restarted
    store: str = "sqlite"  # "sqlite": the single-machine store in data_dir; "dynamodb": moto (DynamoDB, S3, secrets)
    data_dir: Path | None = None  # the sqlite store's directory; None: a temporary one, removed on stop
    fresh: bool = False  # start with an empty data_dir (what an earlier run left there is deleted)


@dataclass
class RunningStack:
    api_url: str
    admin_key: str
    moto: LocalAws | None  # None with the sqlite store
    api: LambdaHttpServer
    simulator: Any | None
    relay: Supervisor | None  # the relay process (``relay.pid``), restarted when it dies
    dispatcher_stop: threading.Event
    dispatcher: threading.Thread
    accounts: list[dict[str, Any]]
    notifier: Any | None = None  # the change-feed poller that sends webhooks (the notifier Lambda's job)
    workdir: Path | None = None
    data_dir: Path | None = None  # the sqlite store's data
    temporary_data: bool = False  # data_dir is removed on stop

    def info(self) -> dict[str, Any]:
        sim = self.simulator
        return {
            "api": self.api_url,
            "docs": f"{self.api_url}/docs",
            "openapi": f"{self.api_url}/openapi.json",
            "cdn": f"{self.api_url}{CDN_PREFIX.rstrip('/')}",
            "aws_endpoint": self.moto.endpoint if self.moto is not None else None,
            "store": "sqlite" if self.data_dir is not None else "dynamodb",
            "data_dir": str(self.data_dir) if self.data_dir is not None else None,
            "admin_key": self.admin_key,
            "simulator": sim.urls.base if sim is not None else None,
            "accounts": [{k: v for k, v in a.items() if k != "token"} for a in self.accounts],
        }

    def stop(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
        self.dispatcher_stop.set()
        self.dispatcher.join(timeout=30)
        if self.relay is not None:
            self.relay.stop()  # SIGTERM: the relay closes its sessions resumably and releases its accounts
        self.api.stop()
        if self.simulator is not None:
            self.simulator.stop()
        if self.moto is not None:
            self.moto.stop()
        if self.data_dir is not None:
            from mjapi.store.backends.sqlite_table import close_databases

            close_databases()
            if self.temporary_data:
                shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _simulated_accounts(options: StackOptions) -> tuple[Any, list[dict[str, Any]]]:
    from simulator import SimulatorThread

    sim = SimulatorThread(seed=options.sim_seed, speed=options.sim_speed, **options.sim_settings)
    sim.start()
    accounts = []
    for n in range(options.sim_accounts):
        mode = "fast" if n % 2 == 0 else "relax"
        acct = sim.add_account(name=f"demo{n + 1}", mode=mode)
        accounts.append(
            {
                "id": f"demo{n + 1}",
                "token": acct.token,
                "channel_id": acct.channel_id,
                "guild_id": acct.guild_id,
                "mode": mode,
                "bots": ["mj", "niji"],
                "concurrency": 3,
            }
        )
    return sim, accounts


def start_stack(options: StackOptions) -> RunningStack:
    moto: LocalAws | None = None
    data_dir: Path | None = None
    temporary_data = False
    if options.store == "sqlite":
        temporary_data = options.data_dir is None
        data_dir = prepare_data_dir(options.data_dir, fresh=options.fresh)
    elif options.store == "dynamodb":
        from devstack.aws_local import create_bucket, create_table, start_moto, use_fake_credentials

        moto = start_moto()  # moto's server is only imported for this store (~17 MiB)
        use_fake_credentials(moto.endpoint)
        create_table(moto.endpoint, TABLE)
        create_bucket(moto.endpoint, BUCKET)
    else:
        raise ValueError(f"unknown store {options.store!r}: sqlite or dynamodb")

    simulator: Any | None = None
    if options.accounts_file:
        raw = json.loads(options.accounts_file.read_text(encoding="utf-8"))
        accounts = raw["accounts"] if isinstance(raw, dict) else raw
    else:
        simulator, accounts = _simulated_accounts(options)
    kept = _kept_secret(data_dir)  # a restarted single-machine stack keeps its admin key and webhook signing key
    admin_key = options.admin_key or kept.get("admin_key") or secrets.token_urlsafe(24)
    signing_key = kept.get("webhook_signing_key") or secrets.token_hex(32)  # Ed25519 seed (mjapi.webhooks.signing)
    secret = {"admin_key": admin_key, "webhook_signing_key": signing_key, "accounts": accounts}

    api = LambdaHttpServer(
        _api_containers(), options.host, options.port, {CDN_PREFIX: serve_cdn, CONSOLE_PREFIX: serve_console}
    )
    env = {
        "MJAPI_TABLE_NAME": TABLE,
        "MJAPI_BUCKET_NAME": BUCKET,
        "MJAPI_SECRETS_CACHE_SECONDS": "5",
        "MJAPI_CDN_BASE_URL": f"{api.url}{CDN_PREFIX.rstrip('/')}",
        "POWERTOOLS_SERVICE_NAME": "mjapi",
        "MJAPI_URL_ALLOWLIST": "127.0.0.0/8,::1",  # everything runs on loopback here (webhook receivers too)
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
    }
    if simulator is not None:
        env["MJAPI_DISCORD_API_BASE"] = simulator.urls.rest
        env["MJAPI_DISCORDSAYS_BASE"] = simulator.urls.discordsays
        env["MJAPI_RELAY_GATEWAY_URL"] = simulator.urls.gateway
    if moto is not None:
        env["MJAPI_STORE"] = "dynamodb"
        from devstack.aws_local import put_secret

        env["MJAPI_SECRET_ARN"] = put_secret(moto.endpoint, SECRET_NAME, secret)
    else:
        assert data_dir is not None
        env["MJAPI_STORE"] = "sqlite"
        env["MJAPI_DATA_DIR"] = str(data_dir)
        env["MJAPI_SECRETS_FILE"] = str(_write_secret(data_dir, secret))
    env.update(options.extra_env)
    os.environ.update(env)
    _reset_process_caches()

    from mjapi.service.context import Context
    from mjapi.service.submitter import prepare_clients
    from mjapi.store.accounts import save_gateway_resume, sync_accounts

    ctx = Context.current()
    sync_accounts(ctx.table, ctx.secrets.accounts)
    prepare_clients(ctx.secrets.accounts)  # the containers share this process's clients: made once, before requests
    if simulator is not None:  # a new simulator knows no session of an earlier run: nothing to resume
        for account in accounts:
            save_gateway_resume(ctx.table, str(account["id"]), None)
    api.start()
    notifier = _start_notifier()

    workdir = Path(tempfile.mkdtemp(prefix="mjapi-stack-"))
    relay = _start_relay(options, workdir) if options.relay else None
    if relay is not None:
        _wait_for_sessions(ctx, timeout=options.ready_timeout)
    dispatcher_stop = threading.Event()
    dispatcher = threading.Thread(
        target=_dispatcher_schedule,
        args=(dispatcher_stop, options.dispatcher_interval),
        name="dispatcher",
        daemon=True,
    )
    dispatcher.start()
    return RunningStack(
        api_url=api.url,
        admin_key=admin_key,
        moto=moto,
        api=api,
        simulator=simulator,
        relay=relay,
        dispatcher_stop=dispatcher_stop,
        dispatcher=dispatcher,
        accounts=accounts,
        notifier=notifier,
        workdir=workdir,
        data_dir=data_dir,
        temporary_data=temporary_data,
    )


API_HANDLER = ROOT / "functions" / "api" / "app.py"


def _api_containers(size: int = 4) -> ContainerPool:
    """Four warm "Lambda containers" of the API function, each with its own module state."""
    return ContainerPool(lambda: load_handler(API_HANDLER), size=size)


def _reset_process_caches() -> None:
    from mjapi import aws
    from mjapi.secrets import clear_secrets_cache
    from mjapi.settings import get_settings

    get_settings.cache_clear()
    clear_secrets_cache()
    aws.reset_clients()


def _start_relay(options: StackOptions, workdir: Path) -> Supervisor:
    """The relay as its own process, exactly as on Fargate, kept running the way the ECS service keeps its task:
    restarted with backoff when it exits, and when its health file goes stale (the task's container health check)."""
    health_file = workdir / "relay.alive"
    env = child_env([ROOT, ROOT / "layers" / "core"])
    env["MJAPI_RELAY_HEALTH_FILE"] = str(health_file)
    # glibc gives each thread that allocates its own malloc arena; the relay's worker threads (image copies, store
    # writes) would keep ~100 MiB more resident at peak than two arenas do, for no measurable speed.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    relay = Supervisor(
        "relay",
        python_module("gateway_relay"),
        env=env,
        cwd=ROOT,
        backoff=options.relay_backoff,
        health=HealthCheck(health_file, max_age=options.relay_health_max_age, grace=options.relay_health_max_age),
    )
    relay.start()
    return relay


def _start_notifier() -> Any:
    """The notifier Lambda's work, offline: the table's stream (moto's, or the sqlite store's change table) read in a
    thread and handed to the same service function, which also drains due webhook retries between batches."""
    from devstack.change_feed import DynamoStreamFeed, FeedPoller
    from mjapi.service.context import Context
    from mjapi.store.backends.config import store_kind
    from mjapi.webhooks.changes import ChangeFeed
    from mjapi.webhooks.service import drain_due, process_changes

    feed: ChangeFeed
    if store_kind() == "sqlite":
        from mjapi.store.backends.sqlite_feed import SqliteChangeFeed

        feed = SqliteChangeFeed(TABLE)
    else:
        feed = DynamoStreamFeed(TABLE)
    return FeedPoller(
        feed,
        lambda changes: process_changes(Context.current(), changes),
        drain=lambda: drain_due(Context.current()),
    ).start()


def _wait_for_sessions(ctx: Any, timeout: float) -> None:
    """Return once every enabled account has a live gateway session (jobs sent earlier would go unheard)."""
    from mjapi.store.accounts import list_accounts

    deadline = time.monotonic() + timeout
    pending: list[str] = []
    while time.monotonic() < deadline:
        pending = [a.id for a in list_accounts(ctx.table) if a.enabled and not a.connected]
        if not pending:
            return
        time.sleep(0.1)
    logger.warning("accounts without a gateway session after %.0fs: %s", timeout, pending)


def _dispatcher_schedule(stop: threading.Event, interval: float) -> None:
    """Stand-in for the EventBridge schedule: run the dispatcher Lambda's handler every ``interval`` seconds."""
    from devstack.lambda_adapter import LambdaContextStub

    handler = importlib.import_module("functions.dispatcher.app").lambda_handler
    while not stop.wait(interval):
        try:
            handler({"source": "aws.events", "detail-type": "Scheduled Event"}, LambdaContextStub())
        except Exception:
            logger.exception("dispatcher run failed")


# -- the single-machine store's data directory --------------------------------------------------------------------

SECRET_FILE = "secrets.json"  # noqa: S105 - a file name, not a secret


def _data_files(data_dir: Path) -> list[Path]:
    """What the stack keeps in its data directory (and all that ``fresh`` deletes: never anything else there)."""
    db = data_dir / f"{TABLE}.sqlite3"
    return [
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        data_dir / "objects",
        data_dir / SECRET_FILE,
    ]


def prepare_data_dir(data_dir: Path | None, *, fresh: bool) -> Path:
    """The absolute data directory, created; ``fresh`` empties it of an earlier run's table, images and secret first.
    ``None`` makes a temporary one."""
    if data_dir is None:
        return Path(tempfile.mkdtemp(prefix="mjapi-data-"))
    path = data_dir.expanduser().resolve()
    if fresh:
        for entry in _data_files(path):
            if entry.is_dir():
                shutil.rmtree(entry)
            elif entry.exists():
                entry.unlink()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _kept_secret(data_dir: Path | None) -> dict[str, Any]:
    if data_dir is None:
        return {}
    try:
        kept = json.loads((data_dir / SECRET_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _write_secret(data_dir: Path, secret: dict[str, Any]) -> Path:
    """The accounts and keys as the secrets file the API and the relay read (``MJAPI_SECRETS_FILE``), owner-only."""
    path = data_dir / SECRET_FILE
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(secret, fh)
    os.replace(tmp, path)
    return path
