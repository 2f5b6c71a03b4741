"""What an imagine job costs the store through the applier (issue 11): references ride in the job's own writes, no
read precedes a conditional write, and a job is read once, for its result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mjapi.ids import new_job_id
from mjapi.midjourney import parse_dispatch
from mjapi.models import AccountConfig, JobStatus
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.backends.sqlite_table import SqliteTable
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.tracking.applier import EventApplier
from mjapi.tracking.image_copy import ImageCopier
from tests.support import dispatches
from tests.support.image_server import base_url, image_server
from tests.support.jobs import FIXTURE_CHANNEL, submitted_imagine

CHANNEL = FIXTURE_CHANNEL


class CountingTable(SqliteTable):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.calls: Counter[str] = Counter()

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        self.calls[f"GetItem {pk.split('#')[0]}"] += 1
        return super().get(pk, sk, consistent=consistent)

    def put(self, item: Mapping[str, Any], **kwargs: Any) -> None:
        self.calls[f"PutItem {str(item['pk']).split('#')[0]}"] += 1
        super().put(item, **kwargs)

    def update(self, pk: str, sk: str, expression: str, **kwargs: Any) -> dict[str, Any]:
        self.calls[f"UpdateItem {pk.split('#')[0]}"] += 1
        return super().update(pk, sk, expression, **kwargs)

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        self.calls["TransactWriteItems"] += 1
        super().transact(operations)

    def query(self, key_condition: str, **kwargs: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        self.calls["Query"] += 1
        return super().query(key_condition, **kwargs)


@pytest.fixture
def counted(sqlite_table: Table) -> Iterator[tuple[CountingTable, EventApplier, str]]:
    sync_accounts(sqlite_table, [AccountConfig(id="a1", token=SecretStr("t1"), channel_id=CHANNEL, concurrency=5)])
    set_session(sqlite_table, "a1", "session-a1")
    table = CountingTable(sqlite_table.name)
    with image_server() as server, httpx.Client() as http:
        applier = EventApplier(JobStore(table), ImageCopier(http, sleep=lambda _: None), new_job_id=new_job_id)
        yield table, applier, base_url(server)


def test_an_imagine_job_costs_one_write_per_event_and_two_reads(
    counted: tuple[CountingTable, EventApplier, str],
) -> None:
    table, applier, cdn = counted
    jobs = JobStore(table)
    job = submitted_imagine(jobs, "n-1")
    table.calls.clear()
    frames = [
        dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-1", nonce="n-1"),
        dispatches.message(
            "imagine_waiting_to_start", message_id="m-1", channel_id=CHANNEL, nonce="n-1", interaction_id="i-1"
        ),
        *[
            dispatches.message(
                "imagine_progress_31_fast", message_id="m-1", channel_id=CHANNEL, interaction_id="i-1", cdn=cdn
            )
            for _ in range(3)
        ],
        dispatches.message("imagine_grid_result", message_id="r-1", channel_id=CHANNEL, interaction_id="i-1", cdn=cdn),
    ]
    for t, d in frames:
        applier.apply("a1", parse_dispatch(t, d))

    assert table.calls == {
        "GetItem NONCE": 1,  # the interaction: which job the API placed under this nonce
        "PutItem INTERACTION": 1,  # ...remembered for the bot's replies
        "TransactWriteItems": 3,  # waiting + its message; the first progress + the job uuid; the result + its message
        "UpdateItem JOB": 2,  # the repeated progress updates (conditional, monotonic: the same percent is refused)
        "GetItem JOB": 1,  # the result: the job's slot and token, to finish it
    }
    done = jobs.get(job.id)
    assert done is not None and done.status == JobStatus.SUCCEEDED
    assert done.message_id == "m-1" and done.interaction_id == "i-1" and done.result_message_id == "r-1"
    for kind, key in [("message", "m-1"), ("message", "r-1"), ("interaction", "i-1"), ("hash", done.message_hash)]:
        assert key and jobs.resolve_ref(kind, key) == job.id, (kind, key)
    account = get_account(table, "a1")
    assert account is not None and account.slots_used == 0
