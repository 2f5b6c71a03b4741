"""An account's events through the relay's worker (parse, order, apply) on the single-machine store: a write held up
for one job holds up that job's later events only, never the account's other jobs."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from gateway_relay.settings import RelaySettings
from gateway_relay.worker import AccountWorker
from mjapi.discord.gateway import Dispatch
from mjapi.ids import new_job_id
from mjapi.models import AccountConfig, JobStatus
from mjapi.secrets import SecretBundle
from mjapi.service.context import Context
from mjapi.settings import get_settings
from mjapi.store import keys
from mjapi.store.accounts import set_session, sync_accounts
from mjapi.store.backends.sqlite_table import SqliteTable
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.tracking.applier import EventApplier, Outcome
from mjapi.tracking.image_copy import ImageCopier
from tests.support import dispatches
from tests.support.image_server import base_url, image_server
from tests.support.jobs import FIXTURE_CHANNEL, submitted_imagine

CHANNEL = FIXTURE_CHANNEL


class HeldTable(SqliteTable):
    """The store, except that writes to one job wait until released (a slow partition, seen from the relay)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.held_pk: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    def _hold(self, touched: str) -> None:
        if self.held_pk is not None and self.held_pk in touched:
            self.holding.set()
            assert self.release.wait(30), "the held write was never released"

    def update(self, pk: str, sk: str, expression: str, **kwargs: Any) -> dict[str, Any]:
        self._hold(pk)
        return super().update(pk, sk, expression, **kwargs)

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        self._hold(repr(operations))
        super().transact(operations)


async def until(check: Any, what: str) -> None:
    """Poll the store (in a thread) until ``check()`` holds; bounded so that a broken relay fails, not hangs."""
    for _ in range(300):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def _frames(cdn: str, n: str) -> list[tuple[str, dict[str, Any]]]:
    """One imagine job as the bot sends it: interaction, waiting, progress, grid, under a job uuid of its own."""
    nonce, interaction, message, result = f"n-{n}", f"i-{n}", f"m-{n}", f"r-{n}"
    captured = dispatches.fixture("imagine_grid_result")["d"]["components"][0]["components"][0]["custom_id"]
    own_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, n))
    frames = [
        dispatches.interaction("INTERACTION_SUCCESS", interaction_id=interaction, nonce=nonce),
        dispatches.message(
            "imagine_waiting_to_start", message_id=message, channel_id=CHANNEL, nonce=nonce, interaction_id=interaction
        ),
        dispatches.message(
            "imagine_progress_31_fast", message_id=message, channel_id=CHANNEL, interaction_id=interaction, cdn=cdn
        ),
        dispatches.message(
            "imagine_grid_result", message_id=result, channel_id=CHANNEL, interaction_id=interaction, cdn=cdn
        ),
    ]
    old_uuid = captured.rsplit("::", 1)[1]
    return [(t, json.loads(json.dumps(d).replace(old_uuid, own_uuid))) for t, d in frames]


async def test_a_held_write_holds_up_its_own_job_only(sqlite_table: Table) -> None:
    config = AccountConfig(id="a1", token=SecretStr("t1"), channel_id=CHANNEL, concurrency=5)
    sync_accounts(sqlite_table, [config])
    set_session(sqlite_table, "a1", "session-a1")
    table = HeldTable(sqlite_table.name)
    jobs = JobStore(table)
    slow, fast = submitted_imagine(jobs, "n-slow"), submitted_imagine(jobs, "n-fast")
    table.held_pk = keys.job_pk(slow.id)
    outcomes: list[Outcome] = []

    async def on_outcome(_account: str, outcome: Outcome) -> None:
        outcomes.append(outcome)

    with image_server() as server, httpx.Client() as http:
        cdn = base_url(server)
        applier = EventApplier(jobs, ImageCopier(http, sleep=lambda _: None), new_job_id=new_job_id)
        ctx = Context(settings=get_settings(), table=table, jobs=jobs, secrets=SecretBundle(admin_key=None))
        worker = AccountWorker(config, ctx, RelaySettings(health_file=""), applier, on_outcome, "ws://unused")
        frames = [*_frames(cdn, "slow"), *_frames(cdn, "fast")]  # the slow job's events first
        for seq, (t, d) in enumerate(frames, start=1):
            await worker._on_dispatch(Dispatch(t=t, s=seq, d=d))

        await until(lambda: (jobs.get(fast.id) or slow).status == JobStatus.SUCCEEDED, "the other job finished")
        assert table.holding.is_set()
        held = jobs.get(slow.id)
        assert held is not None and held.status == JobStatus.SUBMITTED  # its start is still being written

        table.release.set()
        await worker._finish_applying()

    done = jobs.get(slow.id)
    assert done is not None and done.status == JobStatus.SUCCEEDED
    assert done.message_id == "m-slow" and done.result_message_id == "r-slow"
    assert jobs.resolve_ref("message", "m-slow") == slow.id
    assert sorted(str(o.job_id) for o in outcomes if o.finished) == sorted([slow.id, fast.id])
