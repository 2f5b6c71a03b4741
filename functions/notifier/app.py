"""Stream-triggered Lambda: the table's change stream in, signed webhooks out (see mjapi.webhooks).

Records are parsed with Powertools' DynamoDB stream data classes; failures are reported per record (partial batch
response), so the event source mapping retries from the first failed record rather than the whole batch.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from mjapi.service.context import Context
from mjapi.webhooks.changes import Change, change_from_images
from mjapi.webhooks.service import process_changes

logger = Logger(service="mjapi-notifier")


def changes_of(event: DynamoDBStreamEvent) -> list[Change]:
    changes: list[Change] = []
    for record in event.records:
        stream = record.dynamodb
        if stream is None or stream.sequence_number is None:
            continue
        raw = stream.raw_event
        changes.append(change_from_images(stream.sequence_number, raw.get("OldImage"), raw.get("NewImage")))
    return changes


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    changes = changes_of(DynamoDBStreamEvent(event))
    failed = process_changes(Context.current(), changes) if changes else []
    if failed:
        logger.warning("webhook changes to retry", extra={"failed": len(failed), "records": len(changes)})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
