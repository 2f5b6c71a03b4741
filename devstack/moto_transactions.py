"""TransactWriteItems for the local moto server: all-or-nothing at the cost of the items it touches.

moto backs a transaction up by deep-copying every table it names, so each call costs O(table size): ~0.5 s at a
thousand items, which makes a stack with a few hundred jobs crawl. Real DynamoDB checks every condition against the
state *before* the transaction and then applies all writes, or none. This does exactly that, and snapshots only the
touched items so that a write refused half-way (a validation error) can be undone. The server runs one request at a
time (see ``aws_local``), so check-then-apply is atomic.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_OPS = ("ConditionCheck", "Put", "Delete", "Update")


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    ops: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if len(entry) != 1:
            raise TransactWriteSingleOpException()
        op_type, op = next(iter(entry.items()))
        if op_type not in _OPS:
            raise TransactWriteSingleOpException()
        key = _key(self, op_type, op)
        marker = (str(op["TableName"]), str(sorted(key.items())))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        ops.append((op_type, op, key))

    # 1. Every condition against the state before the transaction.
    errors: list[tuple[str | None, str | None, Any]] = []
    for _op_type, op, key in ops:
        condition = op.get("ConditionExpression")
        if condition is None:
            errors.append((None, None, None))
            continue
        current = self.get_item(op["TableName"], key)
        check = get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        if check.expr(current):
            errors.append((None, None, None))
        else:
            old = (
                current.to_json()["Attributes"]
                if (current is not None and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD")
                else None
            )
            errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    # 2. Apply every write; undo the applied ones if one is refused.
    snapshots = [(op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))) for _, op, key in ops]
    try:
        for op_type, op, key in ops:
            names = op.get("ExpressionAttributeNames") or {}
            values = op.get("ExpressionAttributeValues") or {}
            if op_type == "Put":
                self.put_item(
                    op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Delete":
                self.delete_item(
                    op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Update":
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception:
        for table_name, key, before in snapshots:
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise


def install() -> None:
    """Replace moto's implementation in this process (the local stack's moto server only)."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
