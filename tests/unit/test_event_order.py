"""The relay's per-account event order: one job's events in order, independent jobs concurrently, account-wide events
as barriers, progress coalesced. Gates (asyncio.Event) hold applications open, so nothing here depends on timing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gateway_relay.ordering import EventOrder, coalescing_key, ordering_keys
from mjapi.midjourney import parse_dispatch
from mjapi.midjourney.models import Correlation, InfoResult, JobProgress, JobResult, Notice
from mjapi.midjourney.notices import AccountIssue, NoticeKind
from tests.support import dispatches

CHANNEL = "1069126859100524575"


class Log:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []

    def step(self, name: str, gate: asyncio.Event | None = None) -> Callable[[], Awaitable[None]]:
        async def apply() -> None:
            self.started.append(name)
            if gate is not None:
                await gate.wait()
            self.finished.append(name)

        return apply


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def keys(*names: str) -> frozenset[str]:
    return frozenset(names)


async def test_one_jobs_events_wait_for_each_other_while_other_jobs_go_ahead() -> None:
    order, log, gate = EventOrder(), Log(), asyncio.Event()
    await order.submit(keys("nonce:n1", "message:m1"), log.step("start-1", gate))
    await order.submit(keys("message:m1"), log.step("progress-1"))
    await order.submit(keys("message:r1", "interaction:i1", "nonce:n1"), log.step("result-1"))
    await order.submit(keys("nonce:n2", "message:m2"), log.step("start-2"))
    await settle()
    assert log.started == ["start-1", "start-2"]  # job 2 is not held up by job 1's slow write
    assert log.finished == ["start-2"]
    gate.set()
    await order.drain()
    assert log.finished == ["start-2", "start-1", "progress-1", "result-1"]
    assert order.pending == 0


async def test_keys_chain_events_transitively() -> None:
    order, log, gate = EventOrder(), Log(), asyncio.Event()
    await order.submit(keys("nonce:n"), log.step("interaction", gate))
    await order.submit(keys("nonce:n", "message:m"), log.step("start"))
    await order.submit(keys("message:m", "hash:h"), log.step("progress"))
    await order.submit(keys("hash:h", "message:r"), log.step("result"))  # only the job uuid links it
    await settle()
    assert log.started == ["interaction"]
    gate.set()
    await order.drain()
    assert log.finished == ["interaction", "start", "progress", "result"]


async def test_a_barrier_waits_for_everything_before_it_and_holds_everything_after() -> None:
    order, log = EventOrder(), Log()
    before, barrier = asyncio.Event(), asyncio.Event()
    await order.submit(keys("message:a"), log.step("before", before))
    await order.submit(None, log.step("barrier", barrier))
    await order.submit(keys("message:b"), log.step("after"))
    await settle()
    assert log.started == ["before"]
    before.set()
    await settle()
    assert log.started == ["before", "barrier"]
    barrier.set()
    await order.drain()
    assert log.finished == ["before", "barrier", "after"]


async def test_queued_progress_is_coalesced_to_the_newest_but_structural_events_never_are() -> None:
    order, log, gate = EventOrder(), Log(), asyncio.Event()
    await order.submit(keys("message:m"), log.step("start", gate))
    for percent in (15, 31, 46):
        await order.submit(keys("message:m"), log.step(f"progress-{percent}"), coalesce="m")
    await order.submit(keys("message:m", "message:r"), log.step("result"))
    gate.set()
    await order.drain()
    assert log.finished == ["start", "progress-46", "result"]
    assert order.coalesced == 2


async def test_reading_waits_while_too_many_events_are_unfinished() -> None:
    order, log, gate = EventOrder(max_pending=2), Log(), asyncio.Event()
    await order.submit(keys("message:a"), log.step("a", gate))
    await order.submit(keys("message:b"), log.step("b", gate))
    third = asyncio.create_task(order.submit(keys("message:c"), log.step("c")))
    await settle()
    assert not third.done() and order.pending == 2
    gate.set()
    await third
    await order.drain()
    assert sorted(log.finished) == ["a", "b", "c"]


def test_what_an_event_is_ordered_on() -> None:
    start = parse_dispatch(
        *dispatches.message(
            "imagine_waiting_to_start", message_id="m-1", channel_id=CHANNEL, nonce="n-1", interaction_id="i-1"
        )
    )
    assert ordering_keys(start) == frozenset({"nonce:n-1", "message:m-1", "interaction:i-1"})
    progress = parse_dispatch(
        *dispatches.message("imagine_progress_31_fast", message_id="m-1", channel_id=CHANNEL, interaction_id="i-1")
    )
    assert isinstance(progress, JobProgress)
    assert "message:m-1" in (ordering_keys(progress) or frozenset())
    assert coalescing_key(progress) == "m-1"
    result = parse_dispatch(
        *dispatches.message(
            "imagine_grid_result", message_id="r-1", channel_id=CHANNEL, interaction_id="i-1", reference="m-0"
        )
    )
    assert isinstance(result, JobResult)
    result_keys = ordering_keys(result) or frozenset()
    assert {"message:r-1", "interaction:i-1", "message:m-0"} <= result_keys
    assert any(k.startswith("hash:") for k in result_keys)
    assert coalescing_key(result) is None

    account_wide = InfoResult(correlation=Correlation(source="MESSAGE_CREATE", message_id="x", nonce="n"), info={})
    assert ordering_keys(account_wide) is None
    captcha = Notice(
        correlation=Correlation(source="MESSAGE_CREATE", message_id="y"),
        notice=NoticeKind.CAPTCHA,
        severity="error",
        fails_job=True,
        account_issue=AccountIssue.CAPTCHA,
    )
    assert ordering_keys(captcha) is None
    unkeyed = Notice(
        correlation=Correlation(source="REST"), notice=NoticeKind.JOB_QUEUED, severity="info", fails_job=False
    )
    assert ordering_keys(unkeyed) is None
