"""The order in which one account's events are applied: concurrently where they cannot interfere, in arrival order
where they might.

Each event names the keys it is about (nonce, message id, interaction id, Midjourney's job uuid, the message it
replies to: :func:`ordering_keys`). An event waits for the events before it that share any of its keys, so the start,
progress and result of one job stay in order (they are linked key to key: the nonce binds the start message, whose
id the progress edits carry, whose job uuid or interaction the result carries), while the jobs of one account go in
parallel. An event that names no key, or that concerns the whole account (a captcha, /info, /settings, a mode
switch), is a barrier: it waits for everything before it, and everything after it waits for it.

What a missed link can still reorder is harmless by the store's own conditions: progress is monotonic and only for
an active job, a start never moves a job back, a job finishes once; the applier finds a result's job by any of its
keys whatever ran first.

Progress is coalesced: when a progress event's turn comes and a newer one for the same message is already waiting,
it is skipped (the newer edit carries everything it did). Structural events never are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from mjapi.midjourney.models import (
    Event,
    IframeModalCreated,
    InfoResult,
    JobProgress,
    ModeSwitched,
    Notice,
    RemixToggled,
    SettingsResult,
)

_ACCOUNT_WIDE = (InfoResult, ModeSwitched, SettingsResult, RemixToggled)


def ordering_keys(event: Event) -> frozenset[str] | None:
    """The keys ``event`` must stay in order on, or None for a barrier."""
    if isinstance(event, _ACCOUNT_WIDE) or (isinstance(event, Notice) and event.account_issue is not None):
        return None
    if isinstance(event, IframeModalCreated) and event.purpose == "captcha":
        return None
    corr = event.correlation
    found = {
        f"{prefix}:{value}"
        for prefix, value in (
            ("nonce", corr.nonce),
            ("message", corr.message_id),
            ("message", corr.referenced_message_id),
            ("interaction", corr.interaction_id),
            ("hash", corr.job_hash),
        )
        if value
    }
    return frozenset(found) or None


def coalescing_key(event: Event) -> str | None:
    """Progress edits of one message replace each other; nothing else does."""
    if isinstance(event, JobProgress) and event.correlation.message_id:
        return event.correlation.message_id
    return None


class EventOrder:
    """Schedules the applications of one account's events (see the module's docstring). Loop-bound, not thread-safe:
    called from the account's event loop only."""

    def __init__(self, max_pending: int = 1000) -> None:
        self._last: dict[str, asyncio.Task[None]] = {}  # key -> the latest event naming it
        self._barrier: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._newest_progress: dict[str, int] = {}  # message id -> the number of its newest progress event
        self._numbers = 0
        self._max_pending = max_pending
        self.coalesced = 0  # progress events skipped for a newer one (diagnostics)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def submit(
        self, keys: frozenset[str] | None, apply: Callable[[], Awaitable[None]], *, coalesce: str | None = None
    ) -> asyncio.Task[None]:
        """Schedule ``apply`` after the events it must follow; returns its task (done once applied or skipped).

        Waits first while ``max_pending`` events are unfinished: a store far behind slows the reading of the gateway
        rather than growing the memory (a stall longer than the heartbeat interval ends in a RESUME, which replays
        what was not read)."""
        while len(self._pending) >= self._max_pending:
            await asyncio.wait(set(self._pending), return_when=asyncio.FIRST_COMPLETED)
        if keys is None:
            after: set[asyncio.Task[None]] = set(self._pending)
        else:
            after = {self._last[key] for key in keys if key in self._last}
            if self._barrier is not None:
                after.add(self._barrier)
        self._numbers += 1
        number = self._numbers
        if coalesce is not None:
            self._newest_progress[coalesce] = number
        task = asyncio.create_task(self._run(after, apply, coalesce, number))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        if keys is None:
            self._barrier = task
            task.add_done_callback(self._clear_barrier)
        else:
            for key in keys:
                self._last[key] = task
            task.add_done_callback(lambda done: self._forget(done, keys))
        return task

    async def drain(self) -> None:
        """Wait until every submitted event is applied."""
        while self._pending:
            await asyncio.wait(set(self._pending))

    async def _run(
        self,
        after: Iterable[asyncio.Task[None]],
        apply: Callable[[], Awaitable[None]],
        coalesce: str | None,
        number: int,
    ) -> None:
        waiting = [task for task in after if not task.done()]
        if waiting:
            await asyncio.wait(waiting)
        if coalesce is not None:
            if self._newest_progress.get(coalesce) != number:
                self.coalesced += 1
                return
            del self._newest_progress[coalesce]
        await apply()

    def _forget(self, task: asyncio.Task[None], keys: frozenset[str]) -> None:
        for key in keys:
            if self._last.get(key) is task:
                del self._last[key]

    def _clear_barrier(self, task: asyncio.Task[None]) -> None:
        if self._barrier is task:
            self._barrier = None
