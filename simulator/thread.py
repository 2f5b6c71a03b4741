"""`SimulatorThread`: a `Simulator` on its own event loop in a background thread (for sync tests and the devstack)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from simulator.bot.engine import BotFaults
from simulator.gateway import DispatchFaults
from simulator.ratelimit import RestFault
from simulator.server import Simulator, SimUrls
from simulator.state import Account, AccountList, Channel, Job

T = TypeVar("T")
JSON = dict[str, Any]


class SimulatorThread:
    """Runs a Simulator in a daemon thread; every control call is executed on the simulator's loop.

    ```python
    with SimulatorThread(seed=0, speed=200) as sim:
        acct = sim.add_account("alice")
        httpx.get(f"{sim.urls.rest}/users/@me", headers={"Authorization": acct.token})
    ```
    Returned Account objects are live: read them freely, but change them only through the methods.
    """

    def __init__(
        self, seed: int = 0, speed: float = 1.0, *, host: str = "127.0.0.1", port: int = 0, **overrides: Any
    ) -> None:
        self._host = host
        self._port = port
        self._seed = seed
        self._speed = speed
        self._overrides = overrides
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sim: Simulator | None = None
        self._urls: SimUrls | None = None
        self._stopped = threading.Event()

    # ----- lifecycle -------------------------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> SimUrls:
        if self._thread is not None:
            raise RuntimeError("already started")
        ready: concurrent.futures.Future[SimUrls] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="simulator", daemon=True)
        self._thread.start()
        self._urls = ready.result(timeout)
        return self._urls

    def _run(self, ready: concurrent.futures.Future[SimUrls]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            sim = Simulator(self._seed, self._speed, **self._overrides)
            self._sim = sim
            urls = loop.run_until_complete(sim.start(self._host, self._port))
        except BaseException as error:  # report any start failure to the caller instead of dying silently
            ready.set_exception(error)
            loop.close()
            return
        ready.set_result(urls)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(sim.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._stopped.set()

    def stop(self, timeout: float = 30.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> SimulatorThread:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ----- access ----------------------------------------------------------------------------------------------
    @property
    def urls(self) -> SimUrls:
        if self._urls is None:
            raise RuntimeError("the simulator thread is not started")
        return self._urls

    @property
    def sim(self) -> Simulator:
        """The underlying Simulator (read-only use from this thread; mutate through `call`)."""
        if self._sim is None:
            raise RuntimeError("the simulator thread is not started")
        return self._sim

    def call(self, fn: Callable[[Simulator], T], timeout: float = 30.0) -> T:
        """Run `fn(simulator)` on the simulator's loop and return its result (exceptions are re-raised here)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the simulator thread is not started")
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                result.set_result(fn(self.sim))
            except BaseException as error:
                result.set_exception(error)

        loop.call_soon_threadsafe(run)
        return result.result(timeout)

    @property
    def accounts(self) -> AccountList:
        """All accounts (a list; calling it, ``sim.accounts()``, returns the same)."""
        return self.call(lambda s: s.accounts)

    # ----- the control API, forwarded --------------------------------------------------------------------------
    def add_account(self, name: str | None = None, **options: Any) -> Account:
        return self.call(lambda s: s.add_account(name, **options))

    def account(self, key: Account | str) -> Account:
        return self.call(lambda s: s.account(key))

    def add_channel(self, account: Account | str, name: str = "midjourney") -> Channel:
        return self.call(lambda s: s.add_channel(account, name))

    def update_account(self, account: Account | str, **changes: Any) -> Account:
        return self.call(lambda s: s.update_account(account, **changes))

    def trigger(self, account: Account | str, event: str, *, variant: str = "embed") -> Account:
        return self.call(lambda s: s.trigger(account, event, variant=variant))

    def clear_event(self, account: Account | str, event: str) -> Account:
        return self.call(lambda s: s.clear_event(account, event))

    def set_speed(self, speed: float) -> float:
        return self.call(lambda s: s.set_speed(speed))

    def command_version(self, bot: str, name: str) -> str:
        return self.call(lambda s: s.command_version(bot, name))

    def bump_command(self, bot: str, name: str) -> str:
        return self.call(lambda s: s.bump_command(bot, name))

    def set_banned_words(self, words: list[str]) -> list[str]:
        return self.call(lambda s: s.set_banned_words(words))

    def advance_cdn_clock(self, seconds: float) -> float:
        return self.call(lambda s: s.advance_cdn_clock(seconds))

    def set_cdn_ttl(self, seconds: float) -> float:
        return self.call(lambda s: s.set_cdn_ttl(seconds))

    def set_rate_limit(self, **options: Any) -> JSON:
        return self.call(lambda s: s.set_rate_limit(**options))

    def gateway_fault(self, account: Account | str, action: str, **options: Any) -> int:
        return self.call(lambda s: s.gateway_fault(account, action, **options))

    def fail_requests(self, count: int = 1, status: int = 429, **options: Any) -> RestFault:
        return self.call(lambda s: s.fail_requests(count, status, **options))

    def dispatch_faults(self, account: Account | str, **options: Any) -> DispatchFaults:
        return self.call(lambda s: s.dispatch_faults(account, **options))

    def bot_faults(self, **options: Any) -> BotFaults:
        return self.call(lambda s: s.bot_faults(**options))

    def clear_faults(self) -> None:
        self.call(lambda s: s.clear_faults())

    def jobs(self, account: Account | str | None = None, status: str | None = None) -> list[Job]:
        """Live Job objects (read them; `Job.to_json()` gives a snapshot dict)."""
        return self.call(lambda s: s.jobs(account, status))

    def job(self, job_id: str) -> Job:
        return self.call(lambda s: s.job(job_id))

    def cancel_job(self, job_id: str) -> bool:
        return self.call(lambda s: s.cancel_job(job_id))

    def messages(self, channel_id: str, **options: Any) -> list[JSON]:
        return self.call(lambda s: s.messages(channel_id, **options))

    def sessions(self, account: Account | str) -> list[JSON]:
        return self.call(lambda s: s.sessions(account))

    def events(self, account: Account | str | None = None, event: str | None = None, limit: int = 200) -> list[JSON]:
        return self.call(lambda s: s.events(account, event, limit))

    def state(self) -> JSON:
        return self.call(lambda s: s.state())

    def reset(self, *, keep_accounts: bool = False) -> None:
        self.call(lambda s: s.reset(keep_accounts=keep_accounts))
