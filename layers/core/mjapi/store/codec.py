"""Conversion between plain Python values and DynamoDB's typed attribute maps.

Floats become ``Decimal`` on the way in (DynamoDB has no float), and integral ``Decimal`` values become ``int`` on the
way out, so models round-trip unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any


@cache
def _types() -> tuple[Any, Any]:
    """boto3's (de)serializer, imported on first use: the single-machine store never needs boto3 (~25 MiB)."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _to_dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo_value(v) for v in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo_value(v) for v in value}
    return value


def serialize(value: Any) -> dict[str, Any]:
    """One attribute value, typed."""
    return _types()[0].serialize(_to_dynamo_value(value))  # type: ignore[no-any-return]


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item; ``None`` attributes are left out (DynamoDB cannot index them and we never need them)."""
    return {k: serialize(v) for k, v in data.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    deserializer = _types()[1]
    return {k: _from_dynamo_value(deserializer.deserialize(v)) for k, v in item.items()}


def values(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """ExpressionAttributeValues from ``{":name": value}``."""
    return {k: serialize(v) for k, v in mapping.items()}
