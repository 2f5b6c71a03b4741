"""The table's change stream, offline: moto's DynamoDB Streams read with the ``dynamodbstreams`` API, fed to the same
service function the ``notifier`` Lambda calls (in AWS, the event source mapping does this reading).

``DynamoStreamFeed`` is one :class:`mjapi.webhooks.changes.ChangeFeed`; ``FeedPoller`` is the loop around any feed:
it hands each batch to ``process_changes`` (failed records are handed over again, up to a few times, as the event
source mapping would), and drains due webhook retries between batches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from mjapi import aws
from mjapi.webhooks.changes import Change, ChangeFeed, change_from_images

logger = logging.getLogger(__name__)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    last_sequence: str | None = None
    closed: bool = False


@dataclass
class DynamoStreamFeed:
    """Every shard of a table's stream, read from ``start`` (``TRIM_HORIZON`` or ``LATEST``), parents before
    children so that one item's changes stay in order across shard splits."""

    table_name: str
    start: str = "TRIM_HORIZON"
    _stream_arn: str | None = None
    _shards: dict[str, _Shard] = field(default_factory=dict)

    def _streams(self) -> Any:
        return aws.client("dynamodbstreams")

    def _refresh_shards(self) -> None:
        if self._stream_arn is None:
            table = aws.client("dynamodb").describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = table.get("LatestStreamArn")
            if self._stream_arn is None:
                raise RuntimeError(f"table {self.table_name} has no stream")
        description = self._streams().describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            if shard["ShardId"] not in self._shards:
                self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"))

    def _iterator(self, shard: _Shard) -> str | None:
        if shard.iterator is None:
            kwargs: dict[str, Any] = {"StreamArn": self._stream_arn, "ShardId": shard.shard_id}
            if shard.last_sequence is not None:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_sequence)
            else:
                kwargs["ShardIteratorType"] = self.start
            shard.iterator = self._streams().get_shard_iterator(**kwargs)["ShardIterator"]
        return shard.iterator

    def read(self, limit: int = 100) -> list[Change]:
        self._refresh_shards()
        changes: list[Change] = []
        for shard in list(self._shards.values()):
            parent = self._shards.get(shard.parent_id or "")
            if shard.closed or (parent is not None and not parent.closed) or len(changes) >= limit:
                continue
            try:
                response = self._streams().get_records(ShardIterator=self._iterator(shard), Limit=limit - len(changes))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ExpiredIteratorException":
                    shard.iterator = None  # take it up again after the last record seen
                    continue
                raise
            for record in response.get("Records", []):
                stream = record["dynamodb"]
                shard.last_sequence = sequence = stream["SequenceNumber"]
                changes.append(change_from_images(sequence, stream.get("OldImage"), stream.get("NewImage")))
            shard.iterator = response.get("NextShardIterator")
            shard.closed = shard.iterator is None
        return changes


Processor = Callable[[list[Change]], list[str]]


class FeedPoller:
    """A thread reading ``feed`` every ``interval`` seconds (at once again while there is a backlog)."""

    def __init__(
        self,
        feed: ChangeFeed,
        process: Processor,
        *,
        drain: Callable[[], int] | None = None,
        interval: float = 0.2,
        drain_interval: float = 1.0,
        max_retries: int = 5,
    ) -> None:
        self._feed = feed
        self._process = process
        self._drain = drain
        self._interval = interval
        self._drain_interval = drain_interval
        self._max_retries = max_retries
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._retry: list[Change] = []
        self._retries = 0

    def start(self) -> FeedPoller:
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        last_drain = 0.0
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.step()
            except Exception:
                logger.exception("change feed step failed")
            if self._drain is not None and time.monotonic() - last_drain >= self._drain_interval:
                last_drain = time.monotonic()
                try:
                    self._drain()
                except Exception:
                    logger.exception("webhook drain failed")
            if not busy:
                self._stop.wait(self._interval)

    def step(self) -> bool:
        """One batch: the records that failed last time first, then new ones. True if there was anything."""
        batch = self._retry + self._feed.read()
        if not batch:
            return False
        failed = set(self._process(batch))
        if not failed:
            self._retry, self._retries = [], 0
            return True
        self._retries += 1
        if self._retries > self._max_retries:
            logger.error("dropping %d change(s) after %d attempts", len(failed), self._retries)
            self._retry, self._retries = [], 0
            return True
        # as the event source mapping does: everything from the first failed record is handed over again
        first = next(n for n, change in enumerate(batch) if change.sequence in failed)
        self._retry = batch[first:]
        return True
