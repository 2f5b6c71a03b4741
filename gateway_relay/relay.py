"""The relay process: one worker per enabled account it holds, plus the dispatcher and reaper loops.

Several relays share the accounts (:mod:`gateway_relay.membership`): each takes the accounts that hash to it among the
live relays, hands over the ones a newer member should hold, and takes an account outside its share only when that
account's lease has stayed free for three lease periods (its member is alive but does not take it: overloaded, or
configured without it). Such an account goes back to its member once that member shows the same configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from gateway_relay import health, lease, membership, metrics
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
from mjapi.tracking.image_copy import ImageCopier, cdn_client

logger = logging.getLogger(__name__)


class Relay:
    def __init__(self, settings: RelaySettings | None = None, *, ctx: Context | None = None) -> None:
        """``ctx``: the table, jobs and secrets to use instead of :meth:`Context.current` (benchmarks give a store
        double here)."""
        self.settings = settings or RelaySettings()
        self.workers: dict[str, AccountWorker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._wake_dispatcher = asyncio.Event()
        self._stop = asyncio.Event()
        self._http = cdn_client(timeout=30.0)  # shared by the accounts' image copiers
        self._gateway_urls: dict[str, str] = {}
        self.ctx: Context | None = ctx
        self._wanted: dict[str, AccountConfig] = {}  # enabled accounts of the latest secrets
        self._members: list[membership.Member] = []
        self._since_ms = now_ms()
        self._outside_share: dict[str, int] = {}  # account -> when taken (ms) although it hashes to another member
        self._free_since: dict[str, int] = {}  # account outside the share -> when its lease was first seen free
        self._handed_at: dict[str, int] = {}  # account -> when this relay handed it over (not an orphan for a while)
        self._next_orphan_scan = 0.0
        self._mine: set[str] = set()  # the share at the latest balancing
        self._due: dict[str, asyncio.TimerHandle] = {}  # workers to start when a dead relay's lease runs out
        self._handing_off: dict[str, asyncio.Task[None]] = {}

    # -- lifecycle ------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="relay"))
        if self.ctx is None:
            self.ctx = await asyncio.to_thread(Context.current)
        await asyncio.to_thread(self._beat)
        # Relays started together register before any takes a share (else the first would take every account and
        # hand most of them over a moment later).
        await asyncio.sleep(min(self._interval, 1.5))
        await self._reconcile()
        self._loops = [
            asyncio.create_task(self._beat_loop(), name="membership"),
            asyncio.create_task(self._balance_loop(), name="balance"),
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
        for handle in self._due.values():
            handle.cancel()
        assert self.ctx is not None
        with contextlib.suppress(Exception):  # else the others re-hash this relay's accounts after its TTL
            await asyncio.to_thread(membership.leave, self.ctx.table, self.settings.owner_id)
        await asyncio.gather(*(w.stop() for w in self.workers.values()), return_exceptions=True)
        tasks = [*self._tasks.values(), *self._handing_off.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=15)
        for task in [*self._loops, *tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.cancel()
                await task
        self._http.close()

    # -- accounts -------------------------------------------------------------------------------------------------

    async def _reconcile(self) -> None:
        """Read the accounts again; stop the workers of accounts that disappeared, were disabled or changed token,
        and those that ended (they start again if still this relay's); then balance."""
        assert self.ctx is not None
        bundle = await asyncio.to_thread(get_secrets, refresh=True)
        self.ctx.secrets = bundle
        await asyncio.to_thread(sync_accounts, self.ctx.table, bundle.accounts)
        wanted = {a.id: a for a in bundle.accounts if a.enabled}
        self._wanted = wanted
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
        await self._balance()

    # -- sharing the accounts with the other relays ---------------------------------------------------------------

    @property
    def _interval(self) -> float:
        """Membership beat and balancing period: a third of the lease, like the lease renewal."""
        return max(0.2, self.settings.lease_seconds / 3)

    def _beat(self) -> None:
        """Alive for two and a half beats: a dead relay drops out before its leases run out, so the survivors are
        ready to take its accounts the moment they do (a live relay that misses beats only makes others wait on
        leases it still renews)."""
        assert self.ctx is not None
        digest = membership.accounts_digest(self._wanted)
        membership.beat(self.ctx.table, self.settings.owner_id, 2.5 * self._interval, self._since_ms, digest)

    async def _beat_loop(self) -> None:
        """Beats on their own (a slow balancing round must not make this relay look dead)."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await asyncio.to_thread(self._beat)
            except Exception:
                logger.warning("could not renew the relay's membership", exc_info=True)

    async def _balance_loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._balance()
            except Exception:
                logger.exception("could not balance the accounts")

    async def _balance(self) -> None:
        """Start the workers of this relay's share, hand over what a settled member should hold, and take accounts
        nobody took for a while."""
        assert self.ctx is not None
        me = self.settings.owner_id
        now = now_ms()
        self._members = await asyncio.to_thread(membership.live_members, self.ctx.table, now)
        members = {m.owner: m for m in self._members}
        owners = sorted({*members, me})
        mine = membership.share(self._wanted, owners, me)
        settled_before = now - int(self._interval * 1000)
        lease_ms = int(self.settings.lease_seconds * 1000)
        for account_id in list(self.workers):
            if account_id in mine or account_id not in self._wanted:
                self._outside_share.pop(account_id, None)
                continue
            rightful = members.get(membership.owner_of(account_id, owners) or "")
            if rightful is None or rightful.since_ms > settled_before:
                continue  # not settled yet: a member seen once might be gone at the next look
            taken = self._outside_share.get(account_id)
            if taken is not None and (
                rightful.accounts != membership.accounts_digest(self._wanted) or now - taken < 2 * lease_ms
            ):
                continue  # its member may not know the account; else give it a moment before handing it back
            self._hand_off(account_id)
        self._mine = mine
        await self._start_share(mine, set(members), now)
        await self._take_orphans(mine, now)

    async def _start_share(self, mine: set[str], live: set[str], now: int) -> None:
        """Start the share's workers; one whose lease a dead relay still holds starts when that lease runs out (its
        first try then succeeds, instead of retrying a third of a lease later)."""
        assert self.ctx is not None
        new = sorted(a for a in mine if a not in self.workers and a not in self._handing_off and a not in self._due)
        held = await asyncio.to_thread(lease.holders, self.ctx.table, new) if new else {}
        loop = asyncio.get_running_loop()
        for account_id in new:
            holder = held.get(account_id)
            if holder is not None and holder.owner not in live and holder.lease_until_ms > now:
                delay = (holder.lease_until_ms - now) / 1000 + 0.05
                self._due[account_id] = loop.call_later(delay, self._start_if_mine, account_id)
            else:
                self._start_worker(self._wanted[account_id])

    def _start_if_mine(self, account_id: str) -> None:
        self._due.pop(account_id, None)
        config = self._wanted.get(account_id)
        if (
            config
            and account_id in self._mine
            and account_id not in self.workers
            and account_id not in self._handing_off
        ):
            self._start_worker(config)

    async def _take_orphans(self, mine: set[str], now: int) -> None:
        """Once per lease period: an account outside the share whose lease stayed free (or expired) for three lease
        periods is taken here, so no account stays without a session because its member does not take it. An account
        this relay handed over lately is left to its member for as long."""
        assert self.ctx is not None
        if time.monotonic() < self._next_orphan_scan:
            return
        self._next_orphan_scan = time.monotonic() + self.settings.lease_seconds
        others = [a for a in self._wanted if a not in mine and a not in self.workers and a not in self._handing_off]
        held = await asyncio.to_thread(lease.holders, self.ctx.table, others) if others else {}
        grace = int(3 * self.settings.lease_seconds * 1000)
        for account_id, at in list(self._handed_at.items()):
            if at <= now - grace:
                del self._handed_at[account_id]
        for account_id in others:
            holder = held.get(account_id)
            if holder is not None and holder.lease_until_ms >= now:
                self._free_since.pop(account_id, None)
                continue
            first_free = self._free_since.setdefault(account_id, now)
            if first_free <= now - grace and account_id not in self._handed_at:
                logger.warning("account %s: nobody took it for a lease period; taking it here", account_id)
                self._free_since.pop(account_id, None)
                self._outside_share[account_id] = now
                self._start_worker(self._wanted[account_id])
        for account_id in [a for a in self._free_since if a not in others]:
            del self._free_since[account_id]

    def _hand_off(self, account_id: str) -> None:
        """Stop this account's worker resumably (its lease is released when it ends): the member it hashes to,
        already waiting for the lease, takes it and RESUMEs the session."""
        logger.info("account %s: handing over to the relay it hashes to", account_id)
        worker = self.workers.pop(account_id)
        task = self._tasks.pop(account_id)
        self._outside_share.pop(account_id, None)
        self._handed_at[account_id] = now_ms()

        async def finish() -> None:
            await worker.stop()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=30)

        stopping = asyncio.create_task(finish(), name=f"handoff-{account_id}")
        self._handing_off[account_id] = stopping
        stopping.add_done_callback(lambda _t: self._handing_off.pop(account_id, None))

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
