"""The relay process: one worker per enabled account, plus the dispatcher and reaper loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

import httpx

from gateway_relay import health, metrics
from gateway_relay.settings import RelaySettings
from gateway_relay.worker import AccountWorker, discover_gateway_url, make_refresher
from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.models import AccountConfig
from mjapi.secrets import get_secrets
from mjapi.service.context import Context
from mjapi.service.errors import ApiError
from mjapi.service.follow_ups import submit_child
from mjapi.service.forms import send_form
from mjapi.service.jobs import dispatch_queued, reap
from mjapi.store.accounts import list_accounts, sync_accounts
from mjapi.tracking.applier import EventApplier, Outcome
from mjapi.tracking.image_copy import ImageCopier

logger = logging.getLogger(__name__)


class Relay:
    def __init__(self, settings: RelaySettings | None = None) -> None:
        self.settings = settings or RelaySettings()
        self.workers: dict[str, AccountWorker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._wake_dispatcher = asyncio.Event()
        self._stop = asyncio.Event()
        self._http = httpx.Client(timeout=30.0, follow_redirects=True)
        self._gateway_urls: dict[str, str] = {}
        self.ctx: Context | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="relay"))
        self.ctx = await asyncio.to_thread(Context.current)
        await self._reconcile()
        self._loops = [
            asyncio.create_task(self._dispatcher_loop(), name="dispatcher"),
            asyncio.create_task(self._reaper_loop(), name="reaper"),
            asyncio.create_task(self._secrets_loop(), name="secrets"),
            asyncio.create_task(self._health_loop(), name="health"),
            asyncio.create_task(self._metrics_loop(), name="metrics"),
        ]
        await self._stop.wait()
        await self._shutdown()

    def request_stop(self) -> None:
        self._stop.set()

    async def _shutdown(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*(w.stop() for w in self.workers.values()), return_exceptions=True)
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=15)
        for task in [*self._loops, *tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.cancel()
                await task
        self._http.close()

    # -- accounts -------------------------------------------------------------------------------------------------

    async def _reconcile(self) -> None:
        """Start workers for configured, enabled accounts; stop the ones that disappeared or were disabled."""
        assert self.ctx is not None
        bundle = await asyncio.to_thread(get_secrets, refresh=True)
        self.ctx.secrets = bundle
        await asyncio.to_thread(sync_accounts, self.ctx.table, bundle.accounts)
        wanted = {a.id: a for a in bundle.accounts if a.enabled}
        for account_id in list(self.workers):
            worker = self.workers[account_id]
            cfg = wanted.get(account_id)
            task_done = self._tasks[account_id].done()
            if (
                cfg is None
                or cfg.token.get_secret_value() != worker.config.token.get_secret_value()
                or (task_done and worker.fatal is None)
            ):
                await worker.stop()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(self._tasks[account_id], timeout=10)
                del self.workers[account_id]
                del self._tasks[account_id]
        for account_id, cfg in wanted.items():
            if account_id not in self.workers:
                self._start_worker(cfg)

    def _start_worker(self, config: AccountConfig) -> None:
        assert self.ctx is not None
        copier = ImageCopier(self._http, refresh=make_refresher(config))
        applier = EventApplier(
            self.ctx.jobs,
            copier,
            copy_previews=self.settings.copy_previews,
            fast_fallback_to_relax=self.settings.fast_fallback_to_relax,
            preview_interval=self.settings.preview_interval_seconds,
            new_job_id=new_job_id,
        )
        url = self._gateway_urls.get(config.id) or discover_gateway_url(config, self.settings.gateway_url)
        self._gateway_urls[config.id] = url
        worker = AccountWorker(config, self.ctx, self.settings, applier, self._on_outcome, url)
        self.workers[config.id] = worker
        self._tasks[config.id] = asyncio.create_task(worker.run(), name=f"account-{config.id}")

    async def _secrets_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.secrets_refresh_seconds)
            try:
                await self._reconcile()
            except Exception:
                logger.exception("could not refresh accounts")

    # -- health and metrics ---------------------------------------------------------------------------------------

    async def _health_loop(self) -> None:
        """Touch the health file while the event loop runs (the container health check reads its age)."""
        path = self.settings.health_file
        if not path:
            return
        while True:
            try:
                await asyncio.to_thread(health.touch, path)
            except OSError:
                logger.warning("could not write the health file %s", path, exc_info=True)
            await asyncio.sleep(self.settings.health_interval_seconds)

    async def _metrics_loop(self) -> None:
        """Publish the account gauges (connected, disconnected, unhealthy) every interval."""
        assert self.ctx is not None
        interval = self.settings.metrics_interval_seconds
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            try:
                accounts = await asyncio.to_thread(list_accounts, self.ctx.table)
                metrics.publish(metrics.account_gauges(accounts, now_ms()), namespace=self.settings.metrics_namespace)
            except Exception:
                logger.exception("could not publish the account metrics")

    # -- outcomes, dispatcher, reaper -----------------------------------------------------------------------------

    async def _on_outcome(self, account_id: str, outcome: Outcome) -> None:
        assert self.ctx is not None
        if outcome.released_account:
            self._wake_dispatcher.set()
        for form in outcome.forms:
            await asyncio.to_thread(send_form, self.ctx, form)
        for job in outcome.follow_ups:
            try:
                await asyncio.to_thread(submit_child, self.ctx, job, charge=False)
            except ApiError as exc:
                logger.warning("follow-up %s on %s not submitted: %s", job.kind, account_id, exc.code)

    async def _dispatcher_loop(self) -> None:
        """Submit queued jobs as soon as a slot is released (and every few seconds, in case a wake-up was missed)."""
        assert self.ctx is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_dispatcher.wait(), timeout=self.settings.dispatch_interval_seconds)
            self._wake_dispatcher.clear()
            try:
                await asyncio.to_thread(dispatch_queued, self.ctx)
            except Exception:
                logger.exception("dispatcher run failed")

    async def _reaper_loop(self) -> None:
        assert self.ctx is not None
        while True:
            await asyncio.sleep(self.settings.reap_interval_seconds)
            try:
                if await asyncio.to_thread(reap, self.ctx):
                    self._wake_dispatcher.set()
            except Exception:
                logger.exception("reaper run failed")
