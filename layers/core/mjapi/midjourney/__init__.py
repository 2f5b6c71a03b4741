"""Pure Midjourney protocol code: bot message parsing, custom_id grammar, job hashes, prompt pre-checks.

Nothing here does I/O. Entry points: :func:`parse_dispatch`, :func:`parse_message`, :func:`parse_payload`
(events in :mod:`mjapi.midjourney.models`), :mod:`mjapi.midjourney.custom_ids`, :mod:`mjapi.midjourney.hashes`,
:mod:`mjapi.midjourney.prompt`. ``python -m mjapi.midjourney.parse FILE|-`` prints the events of a captured message.
"""

from __future__ import annotations

from mjapi.midjourney.parser import parse_dispatch, parse_message, parse_payload

__all__ = ["parse_dispatch", "parse_message", "parse_payload"]
