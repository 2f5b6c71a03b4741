"""Pure Midjourney protocol code: bot message parsing, custom_id grammar, job hashes, prompt pre-checks.

Nothing here does I/O. Entry points: :func:`parse_dispatch`, :func:`parse_message`, :func:`parse_payload`
(events in :mod:`mjapi.midjourney.models`), :mod:`mjapi.midjourney.custom_ids`, :mod:`mjapi.midjourney.hashes`,
:mod:`mjapi.midjourney.prompt`. ``python -m mjapi.midjourney.parse FILE|-`` prints the events of a captured message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mjapi.midjourney.parser import parse_dispatch, parse_message, parse_payload

__all__ = ["parse_dispatch", "parse_message", "parse_payload"]


def __getattr__(name: str) -> Any:
    """The parser (and the event models it builds, ~100 ms of imports) loads on first use: the API, which imports
    this package for the custom_id grammar, never parses a message."""
    if name in __all__:
        from mjapi.midjourney import parser

        return getattr(parser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
