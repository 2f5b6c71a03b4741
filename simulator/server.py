"""`Simulator`: one aiohttp server on one loopback port, plus the Python control API.

Control methods are synchronous and must run on the simulator's event loop (await-free, they only change state and
schedule I/O). From another thread use `SimulatorThread`, which forwards every call to the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator import constants as C
from simulator.bot.engine import BotFaults, Engine
from simulator.cdn import Cdn
from simulator.config import BucketLimit, SimConfig
from simulator.control import control_routes, index_page
from simulator.discordsays import DiscordSays
from simulator.gateway import DispatchFaults, Hub
from simulator.ids import derive_rng, random_hex, snowflake_at
from simulator.images import ImageStore
from simulator.ratelimit import RestFault
from simulator.rest import RestApi
from simulator.state import PLANS, Account, AccountList, BotSettings, Channel, Job, default_settings
from simulator.world import World

if TYPE_CHECKING:
    from simulator.tls import SelfSignedCert

JSON = dict[str, Any]
log = logging.getLogger("simulator")
ACCOUNT_EVENTS = ("captcha", "ban", "pending_mod", "tos", "out_of_fast_hours", "subscription_lapse", "disable_token")
GATEWAY_ACTIONS = ("drop", "freeze", "unfreeze", "reconnect", "invalid_session", "close", "heartbeat_request")


@dataclass(frozen=True)
class SimUrls:
    """Base URLs of a running simulator (replace Discord's hosts with these; https/wss with `tls=True`)."""

    base: str  # http://127.0.0.1:P
    rest: str  # .../api/v9 (stands in for https://discord.com/api/v9)
    gateway: str  # ws://127.0.0.1:P/gateway (wss://gateway.discord.gg)
    resume_gateway: str  # ws://127.0.0.1:P/gateway-resume (READY.resume_gateway_url)
    cdn: str  # http://127.0.0.1:P (https://cdn.discordapp.com; paths /attachments/..., /ephemeral-attachments/...)
    discordsays: str  # http://127.0.0.1:P/discordsays/{application_id} (https://{application_id}.discordsays.com)
    control: str  # .../_sim
    upload: str  # .../discord-attachments-uploads-prd (the upload_url host)

    def discordsays_for(self, application_id: str = C.MIDJOURNEY_APP_ID) -> str:
        return self.discordsays.format(application_id=application_id)

    def to_json(self) -> JSON:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _urls(host: str, port: int, *, tls: bool = False) -> SimUrls:
    shown = f"[{host}]" if ":" in host else host
    base = f"{'https' if tls else 'http'}://{shown}:{port}"
    ws = f"{'wss' if tls else 'ws'}://{shown}:{port}"
    return SimUrls(
        base=base,
        rest=f"{base}/api/v9",
        gateway=f"{ws}/gateway",
        resume_gateway=f"{ws}/gateway-resume",
        cdn=base,
        discordsays=f"{base}/discordsays/{{application_id}}",
        control=f"{base}/_sim",
        upload=f"{base}/discord-attachments-uploads-prd",
    )


class Simulator:
    """A self-contained Discord + Midjourney world on one port."""

    def __init__(self, seed: int = 0, speed: float = 1.0, *, config: SimConfig | None = None, **overrides: Any) -> None:
        self.config = config or SimConfig()
        self.config.seed = seed if config is None else self.config.seed
        if config is None:
            self.config.speed = speed
        for key, value in overrides.items():
            if not hasattr(self.config, key):
                raise TypeError(f"unknown simulator setting {key!r}")
            setattr(self.config, key, value)
        if self.config.speed <= 0:
            raise ValueError("speed must be positive")
        self.world = World(self.config)
        self.world.banned_words = list(C.DEFAULT_BANNED_WORDS)
        self.images = ImageStore(
            self.config.image_cache_bytes, self.config.render_threads, self.config.render_processes
        )
        cdn_key = hashlib.sha256(f"cdn-key:{self.config.seed}".encode()).digest()
        self.cdn = Cdn(self.world, self.images, cdn_key)
        self.hub = Hub(self.world, self.config)
        self.engine = Engine(self.world, self.hub, self.cdn, self.images)
        self.rest = RestApi(self)
        self.discordsays = DiscordSays(self)
        self._urls: SimUrls | None = None
        self._runner: web.AppRunner | None = None
        self._cert: SelfSignedCert | None = None
        self._gc_task: asyncio.Task[None] | None = None
        self._initial_ttl = self.config.cdn_ttl
        self._captchas = 0
        self.started_at = 0.0

    # ----- lifecycle -------------------------------------------------------------------------------------------
    @property
    def urls(self) -> SimUrls:
        if self._urls is None:
            raise RuntimeError("the simulator is not started")
        return self._urls

    @property
    def running(self) -> bool:
        return self._urls is not None

    @property
    def tls_cert_file(self) -> str | None:
        """PEM of the self-signed certificate while running with `tls=True` (trust it in clients), else None."""
        return str(self._cert.cert_path) if self._cert is not None else None

    def now(self) -> float:
        return time.time()

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=C.MAX_UPLOAD_BYTES + (1 << 20))
        app.add_routes(self.rest.routes())
        app.add_routes(self.discordsays.routes())
        app.add_routes(control_routes(self))
        for path in ("/gateway", "/gateway/", "/gateway-resume", "/gateway-resume/"):
            app.router.add_get(path, self.hub.handle)
        for prefix in ("/attachments", "/ephemeral-attachments"):
            app.router.add_get(prefix + "/{channel_id}/{attachment_id}/{filename}", self.cdn.handle)
        app.router.add_get("/", self._index)
        return app

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text=index_page(self), content_type="text/html")

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> SimUrls:
        if self._runner is not None:
            raise RuntimeError("already started")
        runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await runner.setup()
        context = None
        if self.config.tls:
            from simulator.tls import generate_cert  # imports `cryptography` only when TLS is asked for

            directory = Path(tempfile.mkdtemp(prefix="mjapi-sim-tls-"))
            self._cert = generate_cert(directory, [host, "127.0.0.1", "::1", "localhost"])
            context = self._cert.server_context()
        try:
            site = web.TCPSite(runner, host, port, ssl_context=context)
            await site.start()
        except BaseException:
            await runner.cleanup()
            self._remove_cert()
            raise
        self._runner = runner
        bound_port = port
        for address in runner.addresses:
            if isinstance(address, tuple):
                bound_port = int(address[1])
                break
        self._urls = _urls(host, bound_port, tls=self.config.tls)
        self.cdn.base = self._urls.cdn
        self.hub.resume_url = self._urls.resume_gateway
        self.engine.discordsays_base = self._urls.discordsays
        self._gc_task = asyncio.create_task(self._gc_loop())
        self.started_at = time.time()
        log.info("simulator listening on %s", self._urls.base)
        return self._urls

    async def _gc_loop(self) -> None:
        while True:
            await asyncio.sleep(5.0)
            self.hub.gc()

    async def stop(self) -> None:
        if self._gc_task is not None:
            self._gc_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gc_task
            self._gc_task = None
        await self.engine.stop()
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.images.close()
        self._remove_cert()
        self._urls = None

    def _remove_cert(self) -> None:
        if self._cert is not None:
            shutil.rmtree(self._cert.cert_path.parent, ignore_errors=True)
            self._cert = None

    async def __aenter__(self) -> Simulator:
        if not self.running:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----- accounts --------------------------------------------------------------------------------------------
    def add_account(
        self,
        name: str | None = None,
        *,
        plan: str = "standard",
        mode: str = "fast",
        fast_hours: float | None = None,
        remix: bool = False,
        stealth: bool = False,
        concurrency: int | None = None,
        max_queued: int | None = None,
        guild_id: str | None = None,
        subscription_active: bool = True,
        token: str | None = None,
    ) -> Account:
        """Create a Discord user with a Midjourney subscription, its own guild channel and DMs with both bots."""
        return self.world.add_account(
            name=name,
            plan=plan,
            mode=mode,
            fast_hours=fast_hours,
            remix=remix,
            stealth=stealth,
            concurrency=concurrency,
            max_queued=max_queued,
            guild_id=guild_id,
            subscription_active=subscription_active,
            token=token,
        )

    @property
    def accounts(self) -> AccountList:
        """All accounts (a list; calling it, ``sim.accounts()``, returns the same)."""
        return AccountList(self.world.accounts.values())

    def account(self, key: Account | str) -> Account:
        """An account by object, user id, username or token (KeyError if unknown)."""
        if isinstance(key, Account):
            return key
        found = self.world.account(key)
        if found is None:
            raise KeyError(f"unknown account {key!r}")
        return found

    def add_channel(self, account: Account | str, name: str = "midjourney") -> Channel:
        return self.world.add_channel(self.account(account), name)

    def update_account(self, account: Account | str, **changes: Any) -> Account:
        """Change subscription state directly: plan, mode, stealth, remix, fast_hours_total, fast_hours_remaining,
        subscription_active, concurrency, max_queued."""
        acct = self.account(account)
        for key, value in changes.items():
            if value is None:
                continue
            if key == "plan":
                if value not in PLANS:
                    raise ValueError(f"unknown plan {value!r}")
                acct.plan = value
            elif key == "mode":
                if value not in ("fast", "relax", "turbo"):
                    raise ValueError("mode must be fast, relax or turbo")
                acct.mode = value
            elif key == "remix":
                for settings in acct.settings.values():
                    settings.remix = bool(value)
            elif key == "fast_hours_remaining":
                acct.fast_seconds_used = max(0.0, (acct.fast_hours_total - float(value)) * 3600.0)
            elif key in ("stealth", "subscription_active"):
                setattr(acct, key, bool(value))
            elif key == "fast_hours_total":
                acct.fast_hours_total = float(value)
            elif key in ("concurrency", "max_queued"):
                if int(value) < (1 if key == "concurrency" else 0):
                    raise ValueError(f"{key} is too small")
                setattr(acct, key, int(value))
            else:
                raise ValueError(f"cannot change {key!r}")
        return acct

    def trigger(self, account: Account | str, event: str, *, variant: str = "embed") -> Account:
        """Put an account into a state the bot reacts to (see ACCOUNT_EVENTS)."""
        acct = self.account(account)
        if event == "captcha":
            if variant not in ("embed", "iframe"):
                raise ValueError("captcha variant must be 'embed' or 'iframe'")
            self._captchas += 1
            acct.captcha = random_hex(derive_rng(self.config.seed, "captcha", acct.user_id, self._captchas), 22)
            acct.captcha_variant = variant
        elif event == "ban":
            acct.blocked = True
        elif event == "pending_mod":
            acct.pending_mod = True
        elif event == "tos":
            acct.tos_pending = True
        elif event == "out_of_fast_hours":
            acct.fast_seconds_used = acct.fast_hours_total * 3600.0
        elif event == "subscription_lapse":
            acct.subscription_active = False
        elif event == "disable_token":
            acct.token_valid = False
            for connection in self.hub.connections_of(acct.user_id):
                self.engine.spawn(connection.close(C.CLOSE_AUTHENTICATION_FAILED, "Authentication failed."))
        else:
            raise ValueError(f"unknown event {event!r}; expected one of {', '.join(ACCOUNT_EVENTS)}")
        return acct

    def clear_event(self, account: Account | str, event: str) -> Account:
        acct = self.account(account)
        if event == "captcha":
            acct.captcha = None
        elif event == "ban":
            acct.blocked = False
        elif event == "pending_mod":
            acct.pending_mod = False
        elif event == "tos":
            acct.tos_pending = False
        elif event == "out_of_fast_hours":
            acct.fast_seconds_used = 0.0
        elif event == "subscription_lapse":
            acct.subscription_active = True
        elif event == "disable_token":
            acct.token_valid = True
        else:
            raise ValueError(f"unknown event {event!r}; expected one of {', '.join(ACCOUNT_EVENTS)}")
        return acct

    # ----- speed, commands, words, cdn -------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        return self.config.speed

    def set_speed(self, speed: float) -> float:
        """Scale all bot timings (applies to timers started afterwards)."""
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.config.speed = float(speed)
        return self.config.speed

    def command_version(self, bot: str, name: str) -> str:
        app = self.world.commands.app_by_key(bot)
        command = self.world.commands.find_by_name(app.id, name) if app else None
        if command is None:
            raise KeyError(f"unknown command {bot}/{name}")
        return command.version

    def bump_command(self, bot: str, name: str) -> str:
        """Give a command a new version (simulates Midjourney re-registering commands); returns the new version."""
        app = self.world.commands.app_by_key(bot)
        if app is None:
            raise KeyError(f"unknown bot {bot!r}")
        version = snowflake_at(int(time.time() * 1000), 3, len(self.world.commands.index_version) % 4096)
        while version == self.world.commands.index_version:
            version = str(int(version) + 1)
        return self.world.commands.bump(app.id, name, version).version

    def set_banned_words(self, words: list[str]) -> list[str]:
        cleaned = [w.strip().lower() for w in words if w.strip()]
        self.world.banned_words = cleaned
        return cleaned

    @property
    def banned_words(self) -> list[str]:
        return list(self.world.banned_words)

    def advance_cdn_clock(self, seconds: float) -> float:
        """Move the CDN clock forward so signed URLs expire without waiting."""
        return self.cdn.advance(seconds)

    def set_cdn_ttl(self, seconds: float) -> float:
        if seconds <= 0:
            raise ValueError("ttl must be positive")
        self.config.cdn_ttl = float(seconds)
        return self.config.cdn_ttl

    def set_rate_limit(
        self,
        *,
        enabled: bool | None = None,
        bucket: str | None = None,
        limit: int | None = None,
        window: float | None = None,
    ) -> JSON:
        limits = self.config.rate_limits
        if enabled is not None:
            limits.enabled = enabled
        if bucket is not None:
            if limit is None or window is None or limit < 1 or window <= 0:
                raise ValueError("limit (>=1) and window (>0) are required with bucket")
            if bucket == "global":
                limits.global_limit, limits.global_window = limit, window
            else:
                limits.buckets[bucket] = BucketLimit(limit, window)
        self.rest.limiter.reset()
        return self.rate_limits()

    def rate_limits(self) -> JSON:
        limits = self.config.rate_limits
        return {
            "enabled": limits.enabled,
            "global": {"limit": limits.global_limit, "window": limits.global_window},
            "buckets": {k: {"limit": v.limit, "window": v.window} for k, v in limits.buckets.items()},
        }

    # ----- faults ----------------------------------------------------------------------------------------------
    def gateway_fault(
        self,
        account: Account | str,
        action: str,
        *,
        session_id: str | None = None,
        seconds: float | None = None,
        code: int = C.CLOSE_UNKNOWN_ERROR,
        resumable: bool = True,
    ) -> int:
        """drop | freeze | unfreeze | reconnect (op 7) | invalid_session (op 9) | close | heartbeat_request.
        Returns the number of connections affected."""
        if action not in GATEWAY_ACTIONS:
            raise ValueError(f"unknown gateway action {action!r}; expected one of {', '.join(GATEWAY_ACTIONS)}")
        acct = self.account(account)
        count = len(self.hub.connections_of(acct.user_id, session_id))
        self.engine.spawn(
            self.hub.gateway_fault(
                acct.user_id, action, session_id=session_id, seconds=seconds, code=code, resumable=resumable
            )
        )
        return count

    def fail_requests(
        self,
        count: int = 1,
        status: int = 429,
        *,
        route: str | None = None,
        method: str | None = None,
        account: Account | str | None = None,
        retry_after: float = 1.0,
    ) -> RestFault:
        """Answer the next `count` matching REST requests with `status` (429 with real headers, 5xx)."""
        user_id = self.account(account).user_id if account is not None else None
        return self.rest.faults.add(
            RestFault(status=status, count=count, route=route, method=method, user_id=user_id, retry_after=retry_after)
        )

    def dispatch_faults(
        self,
        account: Account | str,
        *,
        delay: float | None = None,
        delay_count: int | None = None,
        duplicate: int | None = None,
        reorder: int | None = None,
        drop: int | None = None,
    ) -> DispatchFaults:
        """Delay the next `delay_count` dispatches by `delay` s, duplicate / swap pairs of / lose the next N."""
        for name, value in (
            ("delay_count", delay_count),
            ("duplicate", duplicate),
            ("reorder", reorder),
            ("drop", drop),
        ):
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")
        if delay is not None and not 0 <= delay <= 300:
            raise ValueError("delay must be between 0 and 300 seconds")
        return self.hub.set_dispatch_faults(
            self.account(account).user_id,
            delay=delay,
            delay_count=delay_count,
            duplicate=duplicate,
            reorder=reorder,
            drop=drop,
        )

    def bot_faults(self, *, offline: bool | None = None, drop_interactions: int | None = None) -> BotFaults:
        """Take the bots offline (every interaction fails after the timeout) or drop the next N interactions."""
        if offline is not None:
            self.engine.faults.offline = offline
        if drop_interactions is not None:
            if drop_interactions < 0:
                raise ValueError("drop_interactions must not be negative")
            self.engine.faults.drop_interactions = drop_interactions
        return self.engine.faults

    def clear_faults(self) -> None:
        self.rest.faults.clear()
        self.hub.clear_faults()
        self.engine.faults = BotFaults()

    def faults(self) -> JSON:
        return {
            "rest": [f.to_json() for f in self.rest.faults.faults],
            "dispatch": {user: f.to_json() for user, f in self.hub.faults.items() if f.active()},
            "bot": self.engine.faults.to_json(),
        }

    # ----- inspection ------------------------------------------------------------------------------------------
    def jobs(self, account: Account | str | None = None, status: str | None = None) -> list[Job]:
        jobs = list(self.account(account).jobs.values()) if account is not None else list(self.world.jobs.values())
        return [j for j in jobs if status is None or j.status == status]

    def job(self, job_id: str) -> Job:
        job = self.world.jobs.get(job_id)
        if job is None:
            raise KeyError(f"unknown job {job_id!r}")
        return job

    def cancel_job(self, job_id: str) -> bool:
        return self.engine.cancel_job(self.job(job_id))

    def messages(self, channel_id: str, *, include_ephemeral: bool = True, include_deleted: bool = False) -> list[JSON]:
        """Every message of a channel, oldest first (ephemeral ones included by default), for assertions."""
        channel = self.world.channels.get(channel_id)
        if channel is None:
            raise KeyError(f"unknown channel {channel_id!r}")
        records = [r for r in channel.messages.values() if include_deleted or not r.deleted]
        if include_ephemeral:
            records += [r for r in self.world.ephemeral.values() if r.channel_id == channel_id]
        records.sort(key=lambda r: int(r.id))
        return [
            {**r.data, "_deleted": r.deleted, "_ephemeral_user": r.ephemeral_user, "_kind": r.kind} for r in records
        ]

    def sessions(self, account: Account | str) -> list[JSON]:
        return [s.to_json() for s in self.hub.by_user.get(self.account(account).user_id, [])]

    def events(self, account: Account | str | None = None, event: str | None = None, limit: int = 200) -> list[JSON]:
        user_id = self.account(account).user_id if account is not None else None
        out = [
            e
            for e in self.hub.event_log
            if (user_id is None or e["user_id"] == user_id) and (event is None or e["t"] == event)
        ]
        return out[-limit:]

    def state(self) -> JSON:
        jobs = list(self.world.jobs.values())
        return {
            "seed": self.config.seed,
            "speed": self.config.speed,
            "urls": self._urls.to_json() if self._urls else None,
            "tls_cert_file": self.tls_cert_file,
            "accounts": len(self.world.accounts),
            "sessions": len(self.hub.sessions),
            "connections": len(self.hub.connections),
            "jobs": {
                status: sum(1 for j in jobs if j.status == status)
                for status in ("queued", "waiting", "running", "succeeded", "failed", "cancelled")
            },
            "images_rendered": self.images.renders,
            "cdn_served": self.cdn.served,
            "cdn_clock_offset": self.cdn.offset,
            "undelivered_modals": self.hub.undelivered_modals,
            "faults": self.faults(),
            "banned_words": self.banned_words,
            "uptime": round(time.time() - self.started_at, 3) if self.started_at else 0.0,
        }

    # ----- reset -----------------------------------------------------------------------------------------------
    def reset(self, *, keep_accounts: bool = False) -> None:
        """Back to a fresh world with the same seed: jobs, messages, sessions, faults and versions are dropped.

        With keep_accounts the accounts keep their ids and tokens (the objects are reused) and return to their
        creation state; otherwise they are removed and new ones get the same ids a fresh simulator would give.
        """
        for job in self.world.jobs.values():
            job.request_cancel()
        for task in list(self.engine.tasks):
            task.cancel()
        for connection in list(self.hub.connections):
            self.engine.spawn(connection.close(C.CLOSE_UNKNOWN_ERROR, "Simulator reset"))
        self.hub.reset()
        self.rest.limiter.reset()
        self.rest.faults.clear()
        self.engine.faults = BotFaults()
        self.engine.modals.clear()
        self.engine.iframes.clear()
        self.cdn.offset = 0.0
        self.config.cdn_ttl = self._initial_ttl
        world = self.world
        world.commands.reset()
        world.banned_words = list(C.DEFAULT_BANNED_WORDS)
        world.jobs.clear()
        world.message_index.clear()
        world.ephemeral.clear()
        world.attachments.clear()
        world.uploads.clear()
        world.upload_bytes = 0
        self.rest._upload_counter.clear()
        for channel in world.channels.values():
            channel.messages.clear()
            channel.last_message_id = None
        if not keep_accounts:
            world.accounts.clear()
            world.by_token.clear()
            world.guilds.clear()
            world.channels.clear()
            world._account_seq = 0
            return
        for acct in world.accounts.values():
            _restore(acct)


def _restore(acct: Account) -> None:
    initial = acct.initial
    acct.plan = initial["plan"]
    acct.mode = initial["mode"]
    acct.fast_hours_total = initial["fast_hours_total"]
    acct.fast_seconds_used = 0.0
    acct.stealth = initial["stealth"]
    acct.subscription_active = initial["subscription_active"]
    acct.settings = default_settings()
    for settings in acct.settings.values():
        settings.remix = initial["remix"]
    acct.token_valid = True
    acct.blocked = acct.pending_mod = acct.tos_pending = False
    acct.captcha = None
    acct.lifetime_images = acct.relaxed_images = acct.job_counter = 0
    acct.lifetime_seconds = acct.relaxed_seconds = 0.0
    acct.running.clear()
    acct.queued.clear()
    acct.jobs.clear()


__all__ = ["ACCOUNT_EVENTS", "GATEWAY_ACTIONS", "BotSettings", "SimUrls", "Simulator"]
