"""The stream-triggered ``notifier`` Lambda fed real-shaped DynamoDB stream events: the records moto's stream holds for
real job writes, wrapped as the event source mapping delivers them, and a record written out as AWS documents it."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.change_feed import FeedPoller
from devstack.lambda_adapter import LambdaContextStub
from mjapi import aws
from mjapi.ids import new_job_id
from mjapi.models import Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache
from mjapi.service.context import Context
from mjapi.settings import get_settings
from mjapi.store.codec import to_item
from mjapi.store.jobs import job_item
from mjapi.store.table import Table
from mjapi.webhooks.changes import Change
from mjapi.webhooks.store import DeliveryState, DeliveryStore
from tests.support.hook_receiver import Receiver, hook_receiver

SEED = "c3" * 32


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with hook_receiver() as server:
        yield server


@pytest.fixture
def notifier(table: Table, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(
        "MJAPI_SECRETS_JSON", json.dumps({"admin_key": "admin-key-notifier-0123", "webhook_signing_key": SEED})
    )
    monkeypatch.setenv("MJAPI_URL_ALLOWLIST", "127.0.0.0/8")
    get_settings.cache_clear()
    clear_secrets_cache()
    return importlib.import_module("functions.notifier.app")


def lambda_event(table: Table) -> dict[str, Any]:
    """Every record of the table's stream so far, as Lambda's DynamoDB event source mapping hands them over."""
    ddb = aws.client("dynamodb")
    streams = aws.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table.name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    for record in records:
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
        record["eventSourceARN"] = arn
    return {"Records": records}


def write_job_history(table: Table, hook: str) -> Job:
    ctx = Context.current()
    job = Job(id=new_job_id(), kind=JobKind.IMAGINE, status=JobStatus.SUBMITTED, prompt="owl", notify_hook=hook)
    ctx.table.put(job_item(job))
    ctx.jobs.put_ref("nonce", "12345", job.id)  # not a job: ignored
    assert ctx.jobs.record_progress(job.id, 30, {})
    current = ctx.jobs.get(job.id)
    assert current is not None
    assert ctx.jobs.finish(current, JobStatus.SUCCEEDED) is not None
    return job


def test_stream_records_become_signed_deliveries(notifier: Any, table: Table, receiver: Receiver) -> None:
    job = write_job_history(table, f"{receiver.url}/hook")
    event = lambda_event(table)
    assert [r["eventName"] for r in event["Records"]] == ["INSERT", "INSERT", "MODIFY", "MODIFY"]

    assert notifier.lambda_handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    statuses = [json.loads(r.body)["status"] for r in receiver.wait_for(3)]
    assert statuses == ["submitted", "running", "succeeded"]
    assert all(r.headers["x-signature-ed25519"] for r in receiver.requests)
    deliveries = DeliveryStore(Context.current().table).deliveries(job.id)
    assert [d.state for d in deliveries] == [DeliveryState.DELIVERED] * 3

    # the same batch again (a retried invocation): nothing is sent twice
    assert notifier.lambda_handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    assert len(receiver.requests) == 3


def test_a_record_as_aws_documents_it(notifier: Any, table: Table, receiver: Receiver) -> None:
    job = Job(id="1234567890", kind=JobKind.IMAGINE, status=JobStatus.SUBMITTED, notify_hook=f"{receiver.url}/x")
    image = to_item(job_item(job))
    event = {
        "Records": [
            {
                "eventID": "c4ca4238a0b923820dcc509a6f75849b",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1479499740,
                    "Keys": {"pk": image["pk"], "sk": image["sk"]},
                    "NewImage": image,
                    "SequenceNumber": "13021600000000001596893679",
                    "SizeBytes": 112,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/mjapi/stream/2016-11-16T20:42:48.104",
            },
            {
                "eventID": "eccbc87e4b5ce2fe28308fd9f2a7baf3",
                "eventName": "REMOVE",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1479499741,
                    "Keys": {"pk": {"S": "NONCE#1"}, "sk": {"S": "REF"}},
                    "OldImage": {"pk": {"S": "NONCE#1"}, "sk": {"S": "REF"}, "job_id": {"S": "1"}},
                    "SequenceNumber": "13021600000000001596893680",
                    "SizeBytes": 38,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},  # a TTL deletion
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/mjapi/stream/2016-11-16T20:42:48.104",
            },
        ]
    }
    assert notifier.lambda_handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    assert json.loads(receiver.wait_for(1)[0].body)["id"] == "1234567890"


def test_table_errors_are_reported_per_record(
    notifier: Any, table: Table, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partial batch response: the job records that could not be recorded are named, so the event source mapping
    retries from the first of them; records that are not jobs never fail."""
    write_job_history(table, f"{receiver.url}/hook")
    event = lambda_event(table)
    monkeypatch.setenv("MJAPI_TABLE_NAME", "no-such-table")
    get_settings.cache_clear()
    result = notifier.lambda_handler(event, LambdaContextStub())
    job_sequences = [
        r["dynamodb"]["SequenceNumber"] for r in event["Records"] if r["dynamodb"]["Keys"]["sk"]["S"] == "JOB"
    ]
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == job_sequences
    assert receiver.requests == []


class ListFeed:
    """A change feed over a list (the interface a store with its own change table implements)."""

    def __init__(self, *batches: list[Change]) -> None:
        self.batches = list(batches)

    def read(self, limit: int = 100) -> list[Change]:
        return self.batches.pop(0) if self.batches else []


def test_the_poller_hands_failed_records_over_again_like_the_event_source_mapping() -> None:
    first = [Change(str(n), None, {"pk": f"JOB#{n}", "sk": "JOB"}) for n in (1, 2, 3)]
    later = [Change("4", None, {"pk": "JOB#4", "sk": "JOB"})]
    seen: list[list[str]] = []

    def process(changes: list[Change]) -> list[str]:
        seen.append([c.sequence for c in changes])
        return ["2"] if len(seen) == 1 else []

    poller = FeedPoller(ListFeed(first, later), process)
    assert poller.step() is True
    assert poller.step() is True
    assert poller.step() is False
    # from the first failed record on, with what arrived meanwhile
    assert seen == [["1", "2", "3"], ["2", "3", "4"]]


def test_the_poller_gives_up_on_a_record_that_keeps_failing() -> None:
    feed = ListFeed([Change("9", None, {"pk": "JOB#9", "sk": "JOB"})])
    calls: list[int] = []

    def process(changes: list[Change]) -> list[str]:
        calls.append(len(changes))
        return [c.sequence for c in changes]

    poller = FeedPoller(feed, process, max_retries=2)
    for _ in range(5):
        poller.step()
    assert calls == [1, 1, 1]  # the first try and two more, then it is dropped (as a maximum retry age would)
