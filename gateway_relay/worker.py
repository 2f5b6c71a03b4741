"""One account inside the relay: its lease, its gateway connection, and the ordered processing of its events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from gateway_relay import lease
from gateway_relay.connection import ConnectionHooks, GatewayConnection
from gateway_relay.ordering import EventOrder, coalescing_key, ordering_keys
from gateway_relay.settings import RelaySettings
from mjapi.discord.gateway import (
    ClientIdentity,
    Dispatch,
    Fatal,
    GatewayConfig,
    GatewaySession,
    ResumeState,
    SessionReady,
    SessionResumed,
)
from mjapi.discord.rest import DiscordError
from mjapi.midjourney import parse_dispatch, parse_message
from mjapi.midjourney.models import Event, Unrecognized
from mjapi.midjourney.parser import HANDLED_DISPATCHES
from mjapi.models import AccountConfig, Health
from mjapi.service.context import Context
from mjapi.service.submitter import default_rest_factory
from mjapi.store.accounts import (
    clear_heartbeat,
    heartbeat,
    load_gateway_resume,
    set_health,
    set_health_if,
    set_session,
)
from mjapi.store.accounts import (
    save_gateway_resume as save_resume,
)
from mjapi.tracking.applier import EventApplier, Outcome

logger = logging.getLogger(__name__)

OutcomeHandler = Callable[[str, Outcome], Any]


class AccountWorker:
    def __init__(
        self,
        config: AccountConfig,
        ctx: Context,
        settings: RelaySettings,
        applier: EventApplier,
        on_outcome: OutcomeHandler,
        gateway_url: str,
    ) -> None:
        self.config = config
        self.ctx = ctx
        self.settings = settings
        self.applier = applier
        self.on_outcome = on_outcome
        self.gateway_url = gateway_url
        self.order = EventOrder()
        self.connection: GatewayConnection | None = None
        self.user_id: str | None = None
        self.dm_channels: set[str] = set()
        self.processed = 0
        self.dispatches: Counter[str] = Counter()  # by type, for diagnostics
        self.fatal: str | None = None
        self._resume_saved_at = 0.0
        self._applied_seq: int | None = None  # last dispatch fully applied, and the session it belongs to
        self._applied_session: str | None = None
        # Dispatches received but maybe not applied yet, in arrival order: (session, seq, its application or None).
        self._unapplied: deque[tuple[str, int, asyncio.Task[None] | None]] = deque()
        self._saving: asyncio.Task[None] | None = None
        self._saved_resume: dict[str, Any] | None = None  # what the table holds, as far as this process knows
        self._disconnect_timer: asyncio.Task[None] | None = None
        self._stopping = False
        self._published_session = False  # READY or RESUMED seen in this process: heartbeats are due

    @property
    def account_id(self) -> str:
        return self.config.id

    # -- lifecycle ------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        if not await self._acquire_lease():
            return
        renewer = asyncio.create_task(self._renew_lease(), name=f"lease-{self.account_id}")
        try:
            resume = await asyncio.to_thread(self._load_resume)
            if resume is not None:
                self._applied_seq, self._applied_session = resume.seq, resume.session_id
            identity = ClientIdentity(token=self.config.token.get_secret_value())
            if self.config.user_agent:
                identity = ClientIdentity(token=self.config.token.get_secret_value(), user_agent=self.config.user_agent)
            session = GatewaySession(
                GatewayConfig(
                    identity=identity,
                    gateway_url=self.gateway_url,
                    zlib_stream=self.settings.zlib_stream,
                ),
                resume=resume,
            )
            hooks = ConnectionHooks(
                on_dispatch=self._on_dispatch,
                on_ready=self._on_ready,
                on_resumed=self._on_resumed,
                on_fatal=self._on_fatal,
                on_disconnect=self._on_disconnect,
            )
            self.connection = GatewayConnection(
                self.account_id, session, hooks, proxy=self.config.proxy, user_agent=self.config.user_agent
            )
            await self.connection.run()
        finally:
            await self._finish_applying()
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if self._disconnect_timer:
                self._disconnect_timer.cancel()
            await asyncio.to_thread(self._persist_resume)
            with contextlib.suppress(Exception):  # the lease running out ends the heartbeat's worth anyway
                await asyncio.to_thread(clear_heartbeat, self.ctx.table, self.account_id, self.settings.owner_id)
            await asyncio.to_thread(lease.release, self.ctx.table, self.account_id, self.settings.owner_id)

    async def stop(self) -> None:
        """Graceful: close resumably (a successor can RESUME and receive what happens meanwhile)."""
        self._stopping = True
        if self.connection is not None:
            await self.connection.stop(keep_session=True)

    async def _acquire_lease(self) -> bool:
        while not self._stopping:
            if await asyncio.to_thread(
                lease.acquire, self.ctx.table, self.account_id, self.settings.owner_id, self.settings.lease_seconds
            ):
                return True
            logger.warning("account %s is held by another relay; waiting for its lease", self.account_id)
            await asyncio.sleep(max(1.0, self.settings.lease_seconds / 3))
        return False

    async def _renew_lease(self) -> None:
        """Renew the lease and, while a gateway session exists, the account's heartbeat: the API counts the account
        as connected only while the heartbeat is fresh, so a relay that dies takes its accounts out of rotation
        within the lease time."""
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            try:
                held = await asyncio.to_thread(
                    lease.acquire, self.ctx.table, self.account_id, self.settings.owner_id, self.settings.lease_seconds
                )
                if held and self._has_session():
                    await asyncio.to_thread(
                        heartbeat, self.ctx.table, self.account_id, self.settings.owner_id, self.settings.lease_seconds
                    )
            except Exception:  # the table is unreachable for a moment: try again at the next beat
                logger.warning("account %s: could not renew the lease", self.account_id, exc_info=True)
                continue
            if not held:
                logger.error("account %s: lease lost to another relay; stopping this session", self.account_id)
                await self.stop()
                return

    def _has_session(self) -> bool:
        """A session this relay opened or resumed itself and can still resume (a short drop keeps it; a fatal close
        or a stop ends it). A session merely loaded from the table does not count until it is RESUMED."""
        return (
            self._published_session
            and self.connection is not None
            and self.fatal is None
            and not self._stopping
            and self.connection.session.session_id is not None
        )

    # -- resume state ---------------------------------------------------------------------------------------------

    def _load_resume(self) -> ResumeState | None:
        saved = load_gateway_resume(self.ctx.table, self.account_id)
        if not saved or not saved.get("session_id"):
            return None
        age = time.time() - int(saved.get("saved_at", 0)) / 1000
        if age > self.settings.resume_max_age_seconds:
            return None
        seq = saved.get("seq")
        return ResumeState(
            session_id=str(saved["session_id"]),
            seq=int(seq) if seq is not None else None,
            resume_gateway_url=saved.get("resume_gateway_url") or None,
        )

    def _persist_resume(self) -> None:
        """Save the session with the seq of the last event *applied*, not merely received: a successor resuming
        from it is replayed everything still queued here when this process died."""
        state = self.connection.session.resume_state if self.connection else None
        seq = state.seq if state else None
        if state is not None and self._applied_seq is not None and self._applied_session == state.session_id:
            seq = min(self._applied_seq, state.seq) if state.seq is not None else self._applied_seq
        saved = (
            {"session_id": state.session_id, "seq": seq, "resume_gateway_url": state.resume_gateway_url}
            if state
            else None
        )
        if saved is not None and saved == self._saved_resume:
            return  # nothing new since the last save
        with contextlib.suppress(Exception):
            save_resume(self.ctx.table, self.account_id, saved)
            self._saved_resume = saved

    def _note_applied(self) -> None:
        """Move the applied seq past every dispatch applied so far in arrival order (applications finish out of
        order; the saved seq is where none before it is still pending), and save it every few seconds."""
        while self._unapplied and (self._unapplied[0][2] is None or self._unapplied[0][2].done()):
            self._applied_session, self._applied_seq, _ = self._unapplied.popleft()
        if self._unapplied and self._unapplied[0][0] != self._applied_session:
            session, seq, _ = self._unapplied[0]  # a new session: all of it before its first pending dispatch
            self._applied_session, self._applied_seq = session, seq - 1
        now = time.monotonic()
        saving = self._saving is not None and not self._saving.done()
        if not saving and now - self._resume_saved_at >= self.settings.resume_save_interval_seconds:
            self._resume_saved_at = now
            self._saving = asyncio.create_task(asyncio.to_thread(self._persist_resume))

    # -- connection hooks -----------------------------------------------------------------------------------------

    async def _on_dispatch(self, dispatch: Dispatch) -> None:
        self.dispatches[dispatch.t] += 1
        if dispatch.t == "READY":
            data = dispatch.d if isinstance(dispatch.d, dict) else {}
            self.dm_channels = {str(c.get("id")) for c in data.get("private_channels", []) if isinstance(c, dict)}
        if dispatch.t == "CHANNEL_CREATE" and isinstance(dispatch.d, dict) and dispatch.d.get("type") == 1:
            self.dm_channels.add(str(dispatch.d.get("id")))
        session = self.connection.session.session_id if self.connection else None
        try:
            applying = None
            if dispatch.t in HANDLED_DISPATCHES:  # presence, typing, guild updates... are skipped
                applying = await self._schedule(parse_dispatch(dispatch.t, dispatch.d))
            if dispatch.s is not None and session is not None:
                self._unapplied.append((session, dispatch.s, applying))
            self._note_applied()
        except Exception:
            logger.exception("account %s: failed to schedule an event", self.account_id)

    async def _on_ready(self, ready: SessionReady) -> None:
        logger.info("account %s: new gateway session (identify)", self.account_id)
        self.user_id = ready.user_id
        self._cancel_disconnect_timer()
        await asyncio.to_thread(self._published, ready.session_id)
        await self.order.submit(None, self._logged(self._catch_up))

    async def _on_resumed(self, resumed: SessionResumed) -> None:
        logger.info("account %s: gateway session resumed", self.account_id)
        self._cancel_disconnect_timer()
        await asyncio.to_thread(self._published, resumed.session_id)

    def _published(self, session_id: str) -> None:
        self._published_session = True
        set_session(
            self.ctx.table,
            self.account_id,
            session_id,
            owner=self.settings.owner_id,
            live_seconds=self.settings.lease_seconds,
        )
        set_health_if(self.ctx.table, self.account_id, Health.OK, expected=Health.DISCONNECTED)
        self._persist_resume()

    async def _on_fatal(self, fatal: Fatal) -> None:
        self.fatal = fatal.reason
        health = Health.BAD_TOKEN if fatal.reason == "bad_token" else Health.DISABLED
        logger.error("account %s: gateway session ended for good (%s)", self.account_id, fatal.reason)
        await asyncio.to_thread(set_health, self.ctx.table, self.account_id, health, f"gateway: {fatal.reason}")
        self._saved_resume = None
        await asyncio.to_thread(save_resume, self.ctx.table, self.account_id, None)

    async def _on_disconnect(self) -> None:
        if self._stopping:
            return
        self._cancel_disconnect_timer()
        self._disconnect_timer = asyncio.create_task(self._mark_disconnected())

    async def _mark_disconnected(self) -> None:
        """A short drop is resumed without losing events; only a long one takes the account out of rotation."""
        await asyncio.sleep(self.settings.disconnected_after_seconds)
        if self.connection is not None and not self.connection.connected:
            await asyncio.to_thread(
                set_health_if,
                self.ctx.table,
                self.account_id,
                Health.DISCONNECTED,
                expected=Health.OK,
                reason="gateway disconnected",
            )

    def _cancel_disconnect_timer(self) -> None:
        if self._disconnect_timer is not None:
            self._disconnect_timer.cancel()
            self._disconnect_timer = None

    # -- events ---------------------------------------------------------------------------------------------------

    async def _finish_applying(self) -> None:
        """Wait for every scheduled event to be applied, and for the last resume save."""
        await self.order.drain()
        self._note_applied()
        if self._saving is not None:
            with contextlib.suppress(Exception):
                await self._saving

    async def _schedule(self, event: Event) -> asyncio.Task[None] | None:
        """Hand ``event`` to ``self.order``, which applies the events of independent jobs concurrently and those of
        one job in arrival order (``gateway_relay.ordering``); None when it concerns nothing this relay keeps. Parsed
        on the connection's task, as each dispatch arrives: no queue in between."""
        if not self._mine(event) or self.applier.ignores(event):
            return None
        return await self.order.submit(
            ordering_keys(event), self._logged(lambda: self._apply(event)), coalesce=coalescing_key(event)
        )

    def _logged(self, apply: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """``apply`` as the event order runs it: a failure is logged (the event is lost, the account goes on) and
        the applied seq moves on either way."""

        async def run() -> None:
            try:
                await apply()
            except Exception:
                logger.exception("account %s: failed to apply an event", self.account_id)
            finally:
                self._note_applied()

        return run

    async def _apply(self, event: Event) -> None:
        if not self._mine(event):
            return
        outcome = await asyncio.to_thread(self.applier.apply, self.account_id, event)
        self.processed += 1
        if outcome.finished or outcome.released_account or outcome.follow_ups or outcome.forms:
            await self.on_outcome(self.account_id, outcome)

    def _mine(self, event: Event) -> bool:
        """Events of this account's channel (or its DMs with the bots), invoked by this user when Discord says so."""
        if isinstance(event, Unrecognized) and event.reason == "not_from_bot":
            return False
        corr = event.correlation
        if corr.channel_id and corr.channel_id != self.config.channel_id and corr.channel_id not in self.dm_channels:
            return False
        return not (corr.user_id and self.user_id and corr.user_id != self.user_id)

    async def _catch_up(self) -> None:
        """After a fresh session (no resume), read the channel's recent messages: results that arrived while no
        relay was listening still reach their jobs (idempotently)."""
        if self.settings.catch_up_messages <= 0:
            return
        try:
            messages = await asyncio.to_thread(self._recent_messages)
        except DiscordError as exc:
            logger.info("account %s: catch-up skipped (%s)", self.account_id, exc.status)
            return
        for message in reversed(messages):
            await self._apply(parse_message(message, source="REST"))

    def _recent_messages(self) -> list[dict[str, Any]]:
        return default_rest_factory(self.config).messages(self.config.channel_id, limit=self.settings.catch_up_messages)


def make_refresher(config: AccountConfig) -> Callable[[Sequence[str]], dict[str, str]]:
    """Re-sign expired Discord attachment links with the account's token."""

    def refresh(urls: Sequence[str]) -> dict[str, str]:
        try:
            return default_rest_factory(config).refresh_urls(list(urls))
        except DiscordError:
            return {}

    return refresh


def discover_gateway_url(config: AccountConfig, override: str | None) -> str:
    if override:
        return override
    try:
        return default_rest_factory(config).gateway_url()
    except (DiscordError, httpx.HTTPError, KeyError):
        return "wss://gateway.discord.gg"
