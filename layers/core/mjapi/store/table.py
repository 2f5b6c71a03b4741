"""The one table: a thin typed wrapper over the low-level DynamoDB client.

``Table(...)`` is a :class:`mjapi.store.backends.sqlite_table.SqliteTable` instead when ``MJAPI_STORE=sqlite`` (one
machine: ``make run``'s default). Both take the same DynamoDB expressions and keep the same guarantees, so nothing
above this class knows which backend it talks to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mjapi import aws
from mjapi.settings import get_settings
from mjapi.store.backends.config import store_kind
from mjapi.store.codec import from_item, to_item, values


class ConditionFailed(Exception):
    """A conditional write lost (the precondition no longer holds)."""


@dataclass(frozen=True)
class TransactionCancelled(Exception):
    """A transaction was cancelled; ``reasons[i]`` is the code for the i-th item ("None" when that item was fine)."""

    reasons: tuple[str, ...]

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] not in ("None", "")

    @property
    def conflicted(self) -> bool:
        """Another transaction was writing one of the items: the same transaction may succeed if tried again."""
        return "TransactionConflict" in self.reasons

    def __str__(self) -> str:
        return f"transaction cancelled: {list(self.reasons)}"


class Table:
    def __new__(cls, name: str | None = None) -> Table:
        if cls is Table and store_kind() == "sqlite":
            from mjapi.store.backends.sqlite_table import SqliteTable

            return super().__new__(SqliteTable)
        return super().__new__(cls)

    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_settings().table_name

    @property
    def _client(self) -> Any:
        return aws.client("dynamodb")

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        resp = self._client.get_item(TableName=self.name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=consistent)
        item = resp.get("Item")
        return from_item(item) if item else None

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.name: {"Keys": [to_item({"pk": pk, "sk": sk}) for pk, sk in unique[start : start + 100]]}
            }
            while request:
                resp = self._client.batch_get_item(RequestItems=request)
                out.extend(from_item(i) for i in resp.get("Responses", {}).get(self.name, []))
                request = resp.get("UnprocessedKeys") or {}
        return out

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        vals: Mapping[str, Any] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": to_item(item)}
        _add_expression(kwargs, condition, names, vals)
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            _raise_condition(exc)

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        vals: Mapping[str, Any] | None = None,
        return_item: bool = True,
    ) -> dict[str, Any]:
        """Apply ``expression``; returns the new item (``{}`` with ``return_item=False``, which spares the read).
        Raises ConditionFailed when ``condition`` does not hold."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_item({"pk": pk, "sk": sk}),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW" if return_item else "NONE",
        }
        _add_expression(kwargs, condition, names, vals)
        try:
            resp = self._client.update_item(**kwargs)
        except ClientError as exc:
            _raise_condition(exc)
        return from_item(resp.get("Attributes", {}))

    def query(
        self,
        key_condition: str,
        *,
        vals: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start_key: Mapping[str, Any] | None = None,
        filter_expression: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of a query; returns (items, last evaluated key or None)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": values(vals),
            "ScanIndexForward": forward,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if index:
            kwargs["IndexName"] = index
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = to_item(start_key)
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        resp = self._client.query(**kwargs)
        last = resp.get("LastEvaluatedKey")
        return [from_item(i) for i in resp.get("Items", [])], (from_item(last) if last else None)

    def query_all(
        self,
        key_condition: str,
        *,
        vals: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
        index: str | None = None,
        forward: bool = True,
        filter_expression: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            items, start = self.query(
                key_condition,
                vals=vals,
                names=names,
                index=index,
                forward=forward,
                start_key=start,
                filter_expression=filter_expression,
            )
            yield from items
            if not start:
                return

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        """Run TransactWriteItems. Each operation is ``{"Put"|"Update"|"ConditionCheck"|"Delete": {...}}`` with plain
        values (``Item``/``Key``/``ExpressionAttributeValues`` are typed here); the table name is filled in."""
        typed: list[dict[str, Any]] = []
        for op in operations:
            ((kind, body),) = op.items()
            spec = dict(body)
            spec["TableName"] = self.name
            if "Item" in spec:
                spec["Item"] = to_item(spec["Item"])
            if "Key" in spec:
                spec["Key"] = to_item(spec["Key"])
            if "ExpressionAttributeValues" in spec:
                spec["ExpressionAttributeValues"] = values(spec["ExpressionAttributeValues"])
            typed.append({kind: spec})
        try:
            self._client.transact_write_items(TransactItems=typed)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or _reasons_from_message(
                    str(exc.response.get("Error", {}).get("Message", "")), len(typed)
                )
                raise TransactionCancelled(
                    tuple(str(r.get("Code", "None")) if isinstance(r, dict) else str(r) for r in reasons)
                ) from exc
            raise


def _add_expression(
    kwargs: dict[str, Any], condition: str | None, names: Mapping[str, str] | None, vals: Mapping[str, Any] | None
) -> None:
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = dict(names)
    if vals:
        kwargs["ExpressionAttributeValues"] = values(vals)


def _raise_condition(exc: ClientError) -> None:
    if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
        raise ConditionFailed(str(exc)) from exc
    raise exc


def _reasons_from_message(message: str, count: int) -> list[dict[str, str]]:
    """Fallback for SDKs that only put reasons in the message: "... reasons [None, ConditionalCheckFailed]"."""
    start, end = message.rfind("["), message.rfind("]")
    if start == -1 or end < start:
        return [{"Code": "Unknown"}] * count
    return [{"Code": part.strip()} for part in message[start + 1 : end].split(",")]
