"""Items as DynamoDB sees them, for a backend that stores plain values: the same normalisation the boto3 codec applies
on a round trip, DynamoDB's type rules for comparisons, its key and size limits.

Values are what :mod:`mjapi.store.codec` hands out: ``str``, ``int``/``float`` (numbers; integral ones are ``int``),
``bool``, ``None`` (NULL), ``list`` and ``dict``. Sets and binary values are refused: mjapi never writes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_ITEM_BYTES = 400 * 1024
KEY_ATTRIBUTES = ("pk", "sk")
INDEX_KEYS = {"gsi1": ("gsi1pk", "gsi1sk"), "gsi2": ("gsi2pk", "gsi2sk")}
TTL_ATTRIBUTE = "expires_at"


class ValidationError(ValueError):
    """What DynamoDB answers with a ValidationException: a request that can never succeed as written."""


def number(value: int | float | Decimal) -> int | float:
    """A number as it comes back from DynamoDB: ``Decimal(repr(x))`` in, integral values out as ``int``."""
    try:
        dec = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else int(value))
        if not dec.is_finite():
            raise ValidationError(f"DynamoDB numbers are finite; got {value!r}")
        return int(dec) if dec == dec.to_integral_value() else float(dec)
    except (InvalidOperation, OverflowError) as exc:
        raise ValidationError(f"not a DynamoDB number: {value!r}") from exc


def normalize(value: Any) -> Any:
    """``value`` as a write then a read through DynamoDB would return it (``None`` in a map is dropped, in a list kept
    as NULL; tuples become lists; floats go through ``Decimal``)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a str Enum member stores its value, like boto3's serializer
    if isinstance(value, int | Decimal):
        return number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"DynamoDB numbers are finite; got {value!r}")
        return number(value)
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, set | frozenset | bytes | bytearray):
        raise ValidationError(f"sets and binary values are not supported by this store ({type(value).__name__})")
    raise TypeError(f"unsupported type for a table attribute: {type(value).__name__}")


def normalize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item: top-level ``None`` attributes are left out, as :func:`mjapi.store.codec.to_item` does."""
    return {str(k): normalize(v) for k, v in item.items() if v is not None}


def type_of(value: Any) -> str:
    """DynamoDB's type letter of a plain value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int | float):
        return "N"
    if isinstance(value, str):
        return "S"
    if isinstance(value, list):
        return "L"
    if isinstance(value, dict):
        return "M"
    raise TypeError(f"not a stored value: {type(value).__name__}")


def equal(a: Any, b: Any) -> bool:
    """DynamoDB equality: same type and same value (``True`` is not ``1``), deeply for lists and maps."""
    kind = type_of(a)
    if kind != type_of(b):
        return False
    if kind == "L":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "M":
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def orderable(a: Any, b: Any) -> bool:
    """``<``, ``<=``, ``>``, ``>=`` and BETWEEN compare two numbers or two strings; anything else is false."""
    kind = type_of(a)
    return kind in ("N", "S") and kind == type_of(b)


def _value_size(value: Any) -> int:
    kind = type_of(value)
    if kind == "S":
        return len(value.encode("utf-8"))
    if kind == "N":
        digits = len(str(abs(value)).replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in value)
    return 3 + sum(len(k.encode("utf-8")) + _value_size(v) + 1 for k, v in value.items())


def item_size(item: Mapping[str, Any]) -> int:
    """An estimate of DynamoDB's item size (attribute names plus values, as its documentation counts them)."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def check_item(item: Mapping[str, Any]) -> None:
    """Refuse what DynamoDB refuses on this table: missing or non-string keys, empty or non-string index keys, items
    over 400 KB."""
    for name in KEY_ATTRIBUTES:
        value = item.get(name)
        if not isinstance(value, str) or not value:
            raise ValidationError(f"the key attribute {name} must be a non-empty string")
    for index_keys in INDEX_KEYS.values():
        for name in index_keys:
            if name in item and (not isinstance(item[name], str) or not item[name]):
                raise ValidationError(f"the index key attribute {name} must be a non-empty string")
    if item_size(item) > MAX_ITEM_BYTES:
        raise ValidationError("Item size has exceeded the maximum allowed size")
