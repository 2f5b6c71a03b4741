"""The whole offline stack on one machine: moto (DynamoDB, S3, Secrets Manager), the API through the real Lambda
handler, the gateway relay, the dispatcher schedule, and - without real accounts - the Discord/Midjourney simulator."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.aws_local import LocalAws, create_bucket, create_table, put_secret, start_moto, use_fake_credentials
from devstack.cdn import CDN_PREFIX, serve_cdn
from devstack.lambda_adapter import ContainerPool, LambdaHttpServer, load_handler

logger = logging.getLogger(__name__)

TABLE = "mjapi"
BUCKET = "mjapi-images"
SECRET_NAME = "mjapi/accounts"  # noqa: S105 - a secret name, not a secret


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


@dataclass
class RunningStack:
    api_url: str
    admin_key: str
    moto: LocalAws
    api: LambdaHttpServer
    simulator: Any | None
    relay_thread: threading.Thread | None
    relay_stop: Any | None
    dispatcher_stop: threading.Event
    dispatcher: threading.Thread
    accounts: list[dict[str, Any]]
    notifier: Any | None = None  # the change-feed poller that sends webhooks (the notifier Lambda's job)

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
        if self.relay_stop is not None:
            self.relay_stop()
        if self.relay_thread is not None:
            self.relay_thread.join(timeout=20)
        self.api.stop()
        if self.simulator is not None:
            self.simulator.stop()
        self.moto.stop()


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

    api = LambdaHttpServer(_api_containers(), options.host, options.port, {CDN_PREFIX: serve_cdn})
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

    relay_thread, relay_stop = _start_relay() if options.relay else (None, None)
    if options.relay:
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
        relay_thread=relay_thread,
        relay_stop=relay_stop,
        dispatcher_stop=dispatcher_stop,
        dispatcher=dispatcher,
        accounts=accounts,
        notifier=notifier,
    )


API_HANDLER = Path(__file__).resolve().parent.parent / "functions" / "api" / "app.py"


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


def _start_relay() -> tuple[threading.Thread, Any]:
    """The relay on its own event loop in a thread (in AWS it is its own Fargate task)."""
    from gateway_relay.relay import Relay

    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            relay = Relay()
            holder["relay"], holder["loop"] = relay, asyncio.get_running_loop()
            ready.set()
            await relay.run()

        asyncio.run(main())

    thread = threading.Thread(target=run, name="relay", daemon=True)
    thread.start()
    ready.wait(timeout=10)

    def stop() -> None:
        loop, relay = holder.get("loop"), holder.get("relay")
        if loop is not None and relay is not None and not loop.is_closed():
            loop.call_soon_threadsafe(relay.request_stop)

    return thread, stop


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
