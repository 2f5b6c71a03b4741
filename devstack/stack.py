"""The whole offline stack on one machine: moto (DynamoDB, S3, Secrets Manager), the API through the real Lambda
handler, the gateway relay, the dispatcher schedule, and - without real accounts - the Discord/Midjourney simulator."""

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
from typing import Any

from devstack.aws_local import LocalAws, create_bucket, create_table, put_secret, start_moto, use_fake_credentials
from devstack.cdn import CDN_PREFIX, serve_cdn
from devstack.console import CONSOLE_PREFIX, serve_console
from devstack.lambda_adapter import ContainerPool, LambdaHttpServer, load_handler
from devstack.supervisor import Backoff, HealthCheck, Supervisor, child_env, python_module

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


@dataclass
class RunningStack:
    api_url: str
    admin_key: str
    moto: LocalAws
    api: LambdaHttpServer
    simulator: Any | None
    relay: Supervisor | None  # the relay process (``relay.pid``), restarted when it dies
    dispatcher_stop: threading.Event
    dispatcher: threading.Thread
    accounts: list[dict[str, Any]]
    notifier: Any | None = None  # the change-feed poller that sends webhooks (the notifier Lambda's job)
    workdir: Path | None = None

    def info(self) -> dict[str, Any]:
        sim = self.simulator
        return {
            "api": self.api_url,
            "docs": f"{self.api_url}/docs",
            "openapi": f"{self.api_url}/openapi.json",
            "cdn": f"{self.api_url}{CDN_PREFIX.rstrip('/')}",
            "aws_endpoint": self.moto.endpoint,
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
        self.moto.stop()
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
    moto = start_moto()
    use_fake_credentials(moto.endpoint)
    create_table(moto.endpoint, TABLE)
    create_bucket(moto.endpoint, BUCKET)

    simulator: Any | None = None
    if options.accounts_file:
        raw = json.loads(options.accounts_file.read_text(encoding="utf-8"))
        accounts = raw["accounts"] if isinstance(raw, dict) else raw
    else:
        simulator, accounts = _simulated_accounts(options)
    admin_key = options.admin_key or secrets.token_urlsafe(24)
    signing_key = secrets.token_hex(32)  # Ed25519 seed that signs webhooks (mjapi.webhooks.signing)
    secret = {"admin_key": admin_key, "webhook_signing_key": signing_key, "accounts": accounts}
    secret_arn = put_secret(moto.endpoint, SECRET_NAME, secret)

    api = LambdaHttpServer(
        _api_containers(), options.host, options.port, {CDN_PREFIX: serve_cdn, CONSOLE_PREFIX: serve_console}
    )
    env = {
        "MJAPI_TABLE_NAME": TABLE,
        "MJAPI_BUCKET_NAME": BUCKET,
        "MJAPI_SECRET_ARN": secret_arn,
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
    env.update(options.extra_env)
    os.environ.update(env)
    _reset_process_caches()

    from mjapi.service.context import Context
    from mjapi.store.accounts import sync_accounts

    ctx = Context.current()
    sync_accounts(ctx.table, ctx.secrets.accounts)
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
    """The notifier Lambda's work, offline: the table's stream (moto's) read in a thread and handed to the same
    service function, which also drains due webhook retries between batches."""
    from devstack.change_feed import DynamoStreamFeed, FeedPoller
    from mjapi.service.context import Context
    from mjapi.webhooks.service import drain_due, process_changes

    return FeedPoller(
        DynamoStreamFeed(TABLE),
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
