"""Defensive readers for untrusted, loosely-typed Discord JSON: wrong types become ``None``/empty, never errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_MAX_INT_DIGITS = 20


def as_map(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    if type(value) is dict:  # what json.loads makes: spares the ABC check on the parser's hottest call
        return value
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def as_str(value: object) -> str | None:
    """Strings stay (empty -> None); ints (snowflakes some clients send as numbers) become text; others None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def as_text(value: object) -> str:
    """A string value, or ``""``."""
    return value if isinstance(value, str) else ""


def as_int(value: object) -> int | None:
    """Ints and short digit strings; booleans, floats with fractions and anything else give ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return int(value)
    if isinstance(value, str) and value.isdigit() and len(value) <= _MAX_INT_DIGITS:
        return int(value)
    return None


def walk_components(components: object, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every leaf component (button, select, text input) inside action rows, depth-first, bounded depth."""
    if depth > 4:
        return
    for component in as_list(components):
        mapping = as_map(component)
        if not mapping:
            continue
        children = mapping.get("components")
        if isinstance(children, list):
            yield from walk_components(children, depth + 1)
        else:
            yield mapping
